// Tujuan and tembusan as the drafting form writes them: one recipient per line.
//   user:konseptor             a person, by username
//   unit:DISDIK                a unit, by code
//   position:KASI-PA           a position (jabatan), by code
//   peer:prov-contoh           a peer installation's agency (exchange), by its id
//   Nama Instansi <a@b.go.id>  an addressee outside the government (email optional)
// A bare code is looked up in the directory the page already loaded (user, then
// unit, then position); anything else is an external addressee's name. The
// service still resolves and checks every recipient: this only builds its input.
import type { RecipientJson } from '../../platform/db/schema.js';

export type RecipientInput = { user: string } | { unit: string } | { position: string } | { peer: string } | { external: { name: string; email: string | null } };

/** Known codes, lower-cased, mapped to their canonical spelling. */
export interface RecipientDirectory {
  users: Map<string, string>;
  units: Map<string, string>;
  positions: Map<string, string>;
}

const PREFIXES = { user: 'user', unit: 'unit', position: 'position', peer: 'peer' } as const;

export function parseRecipientLines(text: string, dir: RecipientDirectory): RecipientInput[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => parseLine(line, dir));
}

function parseLine(line: string, dir: RecipientDirectory): RecipientInput {
  const prefixed = /^(user|unit|position|peer)\s*:\s*(\S+)$/i.exec(line);
  if (prefixed) {
    const kind = PREFIXES[prefixed[1].toLowerCase() as keyof typeof PREFIXES];
    const code = prefixed[2];
    if (kind === 'peer') return { peer: code };
    const canonical = (kind === 'user' ? dir.users : kind === 'unit' ? dir.units : dir.positions).get(code.toLowerCase()) ?? code;
    return { [kind]: canonical } as RecipientInput;
  }
  const withEmail = /^(.*?)\s*<([^<>]*)>$/.exec(line);
  if (withEmail) return { external: { name: withEmail[1].trim(), email: withEmail[2].trim() || null } };
  if (/^\S+$/.test(line)) {
    const key = line.toLowerCase();
    if (dir.users.has(key)) return { user: dir.users.get(key)! };
    if (dir.units.has(key)) return { unit: dir.units.get(key)! };
    if (dir.positions.has(key)) return { position: dir.positions.get(key)! };
  }
  return { external: { name: line, email: null } };
}

/** The line that parses back to this recipient. */
export function recipientLine(r: RecipientJson | RecipientInput): string {
  if ('user' in r) return `user:${r.user}`;
  if ('unit' in r) return `unit:${r.unit}`;
  if ('position' in r) return `position:${r.position}`;
  if ('peer' in r) return `peer:${r.peer}`;
  // A one-word external name gets an empty <> so it is not mistaken for a code when read back.
  if (r.external.email || /^\S+$/.test(r.external.name)) return `${r.external.name} <${r.external.email ?? ''}>`;
  return r.external.name;
}

export function recipientLines(list: (RecipientJson | RecipientInput)[]): string {
  return list.map(recipientLine).join('\n');
}
