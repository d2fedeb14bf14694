// BagIt (RFC 8493) bags serialised as one zip: writing one, and reading one back
// with every structural check an offline verifier needs. No database, no
// network, nothing written to disk: a package from anywhere is read in memory
// and its entry names are never used as paths.
import crypto from 'node:crypto';
import { unzipSync, zipSync, type Zippable } from 'fflate';

export const BAGIT_TXT = 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n';

/** A payload file, its path relative to `data/` with `/` separators. */
export interface PayloadFile {
  path: string;
  bytes: Uint8Array;
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

// ---------- names ----------

const RESERVED_WINDOWS = /^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i;

/**
 * A file name safe on every file system an archive may be unpacked on, made
 * from a name someone typed: ASCII letters, digits, `.`, `-`, `_` only, no
 * leading dot (so never `.` or `..`), no directory part, at most 100 characters
 * with the extension kept, and unique (case-insensitively) within `taken`.
 */
export function safeFileName(name: string, taken: Set<string>, fallback = 'berkas'): string {
  const base = name.replace(/\\/g, '/').split('/').pop() ?? '';
  const ascii = base.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  let clean = ascii.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/_+/g, '_').replace(/^[._-]+/, '').replace(/[._]+$/, '');
  if (!clean || RESERVED_WINDOWS.test(clean)) clean = clean ? `_${clean}` : fallback;
  const dot = clean.lastIndexOf('.');
  const ext = dot > 0 && clean.length - dot <= 10 ? clean.slice(dot) : '';
  const stem = (ext ? clean.slice(0, dot) : clean).slice(0, 100 - ext.length - 4);
  let candidate = stem + ext;
  for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = `${stem}-${n}${ext}`;
  taken.add(candidate.toLowerCase());
  return candidate;
}

// Manifest lines name paths with CR, LF and % percent-encoded (RFC 8493 §2.1.3).
const encodePath = (p: string) => p.replace(/%/g, '%25').replace(/\n/g, '%0A').replace(/\r/g, '%0D');
const decodePath = (p: string) => p.replace(/%0A/gi, '\n').replace(/%0D/gi, '\r').replace(/%25/g, '%');

function manifest(files: [string, Uint8Array][]): string {
  return files.map(([p, b]) => `${sha256Hex(b)}  ${encodePath(p)}\n`).join('');
}

// ---------- writing ----------

export interface BagSpec {
  /** The bag's base directory, also the zip's one top-level folder. */
  name: string;
  payload: PayloadFile[];
  /** bag-info.txt labels in order; Payload-Oxum is added. */
  info: [string, string][];
  /** Written into every zip entry, so the same bag zips to the same bytes. */
  mtime: Date;
}

export function writeBag(spec: BagSpec): Uint8Array {
  const enc = new TextEncoder();
  const payload: [string, Uint8Array][] = spec.payload.map((f) => [`data/${f.path}`, f.bytes]);
  const octets = payload.reduce((n, [, b]) => n + b.length, 0);
  const info = [...spec.info, ['Payload-Oxum', `${octets}.${payload.length}`]]
    // One line per value: a value typed by a user cannot start another label.
    .map(([k, v]) => `${k}: ${v.replace(/\s+/g, ' ').trim()}\n`)
    .join('');
  const tags: [string, Uint8Array][] = [
    ['bagit.txt', enc.encode(BAGIT_TXT)],
    ['bag-info.txt', enc.encode(info)],
    ['manifest-sha256.txt', enc.encode(manifest(payload))],
  ];
  const all = [...tags, ['tagmanifest-sha256.txt', enc.encode(manifest(tags))] as [string, Uint8Array], ...payload];
  const zippable: Zippable = {};
  for (const [p, b] of all) zippable[`${spec.name}/${p}`] = [b, { mtime: spec.mtime }];
  return zipSync(zippable, { level: 6 });
}

// ---------- reading and checking ----------

export interface BagLimits {
  /** Refuse before inflating when the entries claim more than this in total. */
  maxBytes: number;
  maxEntries: number;
}

export interface ReadBag {
  name: string | null;
  /** Payload by path relative to `data/` (a file whose sum failed is here too, and named in problems). */
  payload: Map<string, Uint8Array>;
  info: Map<string, string[]>;
  /** Each names the file at fault; empty when the bag is complete and valid. */
  problems: string[];
}

const DEFAULT_LIMITS: BagLimits = { maxBytes: 2 * 1024 ** 3, maxEntries: 100_000 };

/**
 * Opens a zipped bag and checks it: one top-level folder, no entry that climbs
 * out of it, bagit.txt, every payload and tag manifest sum, every payload file
 * listed, Payload-Oxum. Never throws on a damaged file.
 */
export function readBag(zip: Uint8Array, limits: BagLimits = DEFAULT_LIMITS): ReadBag {
  const out: ReadBag = { name: null, payload: new Map(), info: new Map(), problems: [] };
  let entries: Record<string, Uint8Array>;
  try {
    let declared = 0;
    let count = 0;
    entries = unzipSync(zip, {
      filter: (f) => {
        declared += f.originalSize;
        if (++count > limits.maxEntries || declared > limits.maxBytes) throw new Error('the zip declares more content than allowed');
        return true;
      },
    });
  } catch (e) {
    out.problems.push(`not a readable zip file (${e instanceof Error ? e.message : String(e)})`);
    return out;
  }

  const files = new Map<string, Uint8Array>();
  const tops = new Set<string>();
  for (const [entry, bytes] of Object.entries(entries)) {
    if (entry.endsWith('/') && bytes.length === 0) {
      tops.add(entry.split('/')[0]);
      continue;
    }
    const parts = entry.split('/');
    if (entry.startsWith('/') || entry.includes('\\') || /^[A-Za-z]:/.test(entry) || parts.some((s) => s === '..' || s === '.' || s === '') || parts.length < 2) {
      out.problems.push(`unsafe or misplaced entry name in the zip: ${JSON.stringify(entry)}`);
      continue;
    }
    tops.add(parts[0]);
    files.set(parts.slice(1).join('/'), bytes);
  }
  if (tops.size !== 1) {
    out.problems.push(`the zip must hold exactly one top-level folder (found ${tops.size})`);
    return out;
  }
  out.name = [...tops][0];

  const text = (p: string) => (files.has(p) ? new TextDecoder('utf-8').decode(files.get(p)) : null);
  const bagit = text('bagit.txt');
  if (bagit === null) out.problems.push('bagit.txt is missing');
  else if (!/^BagIt-Version: 1\.0\r?\n/.test(bagit) || !/Tag-File-Character-Encoding: UTF-8/i.test(bagit)) out.problems.push('bagit.txt does not declare BagIt-Version 1.0 and UTF-8');

  const infoText = text('bag-info.txt');
  if (infoText === null) out.problems.push('bag-info.txt is missing');
  else {
    for (const line of infoText.split(/\r?\n/)) {
      const m = /^([^:\s][^:]*):\s*(.*)$/.exec(line);
      if (!m) continue;
      out.info.set(m[1], [...(out.info.get(m[1]) ?? []), m[2]]);
    }
  }

  const payloadPaths = [...files.keys()].filter((p) => p.startsWith('data/'));
  for (const p of payloadPaths) out.payload.set(p.slice(5), files.get(p)!);
  const payloadManifest = checkManifest('manifest-sha256.txt', text('manifest-sha256.txt'), files, out.problems);
  if (payloadManifest) {
    for (const p of payloadPaths) if (!payloadManifest.has(p)) out.problems.push(`${p} is in the bag but not in manifest-sha256.txt`);
    for (const p of payloadManifest.keys()) if (!p.startsWith('data/')) out.problems.push(`manifest-sha256.txt lists ${p}, which is not under data/`);
  }
  const tagManifest = checkManifest('tagmanifest-sha256.txt', text('tagmanifest-sha256.txt'), files, out.problems);
  if (tagManifest) {
    for (const t of ['bagit.txt', 'bag-info.txt', 'manifest-sha256.txt']) if (!tagManifest.has(t)) out.problems.push(`tagmanifest-sha256.txt does not cover ${t}`);
    for (const p of tagManifest.keys()) if (p.startsWith('data/')) out.problems.push(`tagmanifest-sha256.txt lists the payload file ${p}`);
  }

  const oxum = out.info.get('Payload-Oxum')?.[0];
  const actual = `${payloadPaths.reduce((n, p) => n + files.get(p)!.length, 0)}.${payloadPaths.length}`;
  if (!oxum) out.problems.push('bag-info.txt has no Payload-Oxum');
  else if (oxum.trim() !== actual) out.problems.push(`Payload-Oxum says ${oxum.trim()} but the payload is ${actual} (octets.files)`);
  return out;
}

/** Each listed path -> whether its sum matched; problems name the file. Null when the manifest is missing. */
function checkManifest(name: string, body: string | null, files: Map<string, Uint8Array>, problems: string[]): Map<string, boolean> | null {
  if (body === null) {
    problems.push(`${name} is missing`);
    return null;
  }
  const listed = new Map<string, boolean>();
  for (const line of body.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const m = /^([0-9a-fA-F]{64})\s+(.+)$/.exec(line);
    if (!m) {
      problems.push(`${name}: unreadable line ${JSON.stringify(line.slice(0, 120))}`);
      continue;
    }
    const p = decodePath(m[2]).replace(/^\.\//, '');
    const bytes = files.get(p);
    if (!bytes) {
      problems.push(`${p} is listed in ${name} but missing from the bag`);
      listed.set(p, false);
    } else if (sha256Hex(bytes) !== m[1].toLowerCase()) {
      problems.push(`${p}: SHA-256 does not match ${name} (the file was changed)`);
      listed.set(p, false);
    } else listed.set(p, true);
  }
  return listed;
}
