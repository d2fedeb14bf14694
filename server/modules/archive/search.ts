// Archive search (pencarian arsip): any string a user types is accepted (the
// database parses it with websearch_to_tsquery), filters are validated, and
// results are only what the one access policy lets this viewer see. Pages and
// the API both call searchRecords.
import { z } from 'zod';
import type { AppContext } from '../../platform/context.js';
import type { CurrentUser } from '../../platform/auth/current-user.js';
import { parseInput } from '../../platform/http/validate.js';
import { LETTER_STATES } from '../letters/state.js';
import { INCOMING_STATES } from '../dispatch/state.js';
import { ACCESS_POLICY, loadViewer, readsAreAudited, type SecurityClass } from './access.js';
import { MARK_START, MARK_STOP, SORTS, search, type SearchFilter } from './search-repo.js';

/** Longer queries are cut (a pasted paragraph still finds its letter); the page says so. */
export const QUERY_MAX_CHARS = 200;
export const RECORD_STATES = [...LETTER_STATES, ...INCOMING_STATES.filter((s) => !(LETTER_STATES as readonly string[]).includes(s))];
const SECURITY_CLASSES = Object.keys(ACCESS_POLICY) as SecurityClass[];

const optional = <T extends z.ZodTypeAny>(s: T) => z.preprocess((v) => (v === '' ? undefined : v), s.optional());
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/).refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s));

const filterSchema = z.object({
  q: z.string().optional(),
  type: optional(z.enum(['letter', 'incoming'])),
  kind: optional(z.string().regex(/^[A-Z][A-Z0-9_]{0,15}$/)),
  unit: optional(z.string().regex(/^\d{1,18}$/)),
  code: optional(z.string().regex(/^[0-9]{3}(\.[0-9]{1,3}){0,5}$/)),
  class: optional(z.enum(SECURITY_CLASSES as [SecurityClass, ...SecurityClass[]])),
  state: optional(z.enum(RECORD_STATES as [string, ...string[]])),
  dateField: optional(z.enum(['record', 'created'])),
  from: optional(date),
  to: optional(date),
  party: optional(z.string().max(200)),
  sort: optional(z.enum(SORTS)),
});

export type SearchQuery = z.infer<typeof filterSchema>;

/** Query parameters as strings: a repeated parameter counts once, anything else is dropped. */
export function queryParams(query: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(filterSchema.shape)) {
    const v = query[key];
    const s = Array.isArray(v) ? v.find((x) => typeof x === 'string') : v;
    if (typeof s === 'string') out[key] = s;
  }
  return out;
}

/** A query string safe to hand to PostgreSQL: no NUL or control characters (text cannot hold NUL), bounded. */
export function cleanQuery(q: string | undefined): { q: string; truncated: boolean } {
  const flat = (q ?? '').replace(/[\u0000-\u001f\u007f\uE000\uE001]/g, ' ').replace(/\s+/g, ' ').trim();
  const cut = Array.from(flat);
  if (cut.length <= QUERY_MAX_CHARS) return { q: flat, truncated: false };
  return { q: cut.slice(0, QUERY_MAX_CHARS).join('').trim(), truncated: true };
}

export interface TextPart {
  text: string;
  match: boolean;
}

/** Splits an HTML-escaped headline with sentinel marks into plain-text parts; views print each part escaped. */
export function markedParts(marked: string): TextPart[] {
  const parts: TextPart[] = [];
  const re = new RegExp(`${MARK_START}([^${MARK_START}${MARK_STOP}]*)${MARK_STOP}`, 'g');
  let last = 0;
  const push = (text: string, match: boolean) => {
    const clean = text.replace(/[\uE000\uE001]/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    if (clean) parts.push({ text: clean, match });
  };
  for (const m of marked.matchAll(re)) {
    push(marked.slice(last, m.index), false);
    push(m[1]!, true);
    last = m.index! + m[0].length;
  }
  push(marked.slice(last), false);
  return parts;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** The parts as HTML: every text escaped, matches in <mark> (for API clients that show HTML). */
export function partsHtml(parts: TextPart[]): string {
  return parts.map((p) => (p.match ? `<mark>${esc(p.text)}</mark>` : esc(p.text))).join('');
}
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

export async function searchRecords(ctx: Pick<AppContext, 'db'>, user: CurrentUser, query: Record<string, unknown>, page: { size: number; offset: number }) {
  const input = parseInput(filterSchema, queryParams(query));
  const { q, truncated } = cleanQuery(input.q);
  const filter: SearchFilter = {
    q,
    type: input.type,
    kind: input.kind,
    unitId: input.unit,
    code: input.code,
    securityClass: input.class,
    state: input.state,
    dateField: input.dateField ?? 'record',
    from: input.from,
    to: input.to,
    party: input.party?.replace(/\u0000/g, '').trim() || undefined,
    sort: input.sort ?? (q ? 'relevance' : 'newest'),
  };
  const viewer = await loadViewer(ctx.db, user);
  // Rahasia and Sangat Rahasia text is not shown in a list: opening the record is the (audited) read.
  const snippetClasses = SECURITY_CLASSES.filter((c) => !readsAreAudited(c));
  // One transaction: the page and its count see the same snapshot, and search's settings stay local to it.
  const { rows, total, totalCapped } = await ctx.db.transaction().execute((trx) => search(trx, viewer, filter, page, snippetClasses));
  const results = rows.map((r) => ({
    id: String(r.id),
    type: r.letter_id ? ('letter' as const) : ('incoming' as const),
    letterId: r.letter_id ? String(r.letter_id) : null,
    incomingId: r.incoming_letter_id ? String(r.incoming_letter_id) : null,
    url: r.letter_id ? `/surat/${r.letter_id}` : `/surat-masuk/${r.incoming_letter_id}`,
    number: r.number,
    senderNumber: r.sender_number,
    subject: r.subject,
    subjectParts: markedParts(r.subject_marked),
    kind: r.kind_code,
    kindName: r.kind_name,
    unitId: String(r.unit_id),
    unit: r.unit_name,
    sender: r.sender,
    securityClass: r.security_class,
    classificationCode: r.classification_code,
    state: r.state,
    recordDate: r.record_date,
    snippetParts: r.snippet === null ? null : markedParts(r.snippet),
  }));
  return { filter, input, truncated, total, totalCapped, results };
}

/** The choices of the search form's filters. */
export async function searchChoices(ctx: Pick<AppContext, 'db'>) {
  const [units, kinds] = await Promise.all([
    ctx.db.selectFrom('units').select(['id', 'name']).where('active', '=', true).orderBy('name').execute(),
    ctx.db.selectFrom('letter_kinds').select(['code', 'name']).where('active', '=', true).orderBy('sort_order').orderBy('name').execute(),
  ]);
  return { units: units.map((u) => ({ id: String(u.id), name: u.name })), kinds };
}
