// SQL of archive search over `records`: PostgreSQL full text with two
// configurations (migration 0011_records): 'indonesian' (stemmed) for words and
// 'simple' for numbers, names and codes; websearch_to_tsquery accepts any
// string (quotes, -, OR) without a syntax error. Access is the SQL form of the
// one policy (access.ts), so nothing a viewer may not see is counted or listed.
import { sql, type RawBuilder } from 'kysely';
import type { Executor } from '../../platform/db/index.js';
import { visibleRecordsSql, type Viewer } from './access.js';

export const SORTS = ['relevance', 'newest', 'oldest', 'number'] as const;
export type Sort = (typeof SORTS)[number];

export interface SearchFilter {
  /** Already cleaned (no NUL, bounded length); empty for a filter-only listing. */
  q: string;
  type?: 'letter' | 'incoming';
  kind?: string;
  unitId?: string;
  /** A classification code prefix: 000.1 finds 000.1 and 000.1.5. */
  code?: string;
  securityClass?: string;
  state?: string;
  dateField: 'record' | 'created';
  from?: string;
  to?: string;
  /** Text in the sender or the recipients. */
  party?: string;
  sort: Sort;
}

// Highlight sentinels (private-use characters) instead of markup. The text is
// HTML-escaped before ts_headline, because its parser treats "<b>" in a letter's
// text as a tag and drops it; the service splits at the sentinels and decodes.
export const MARK_START = '\uE000';
export const MARK_STOP = '\uE001';
const HEADLINE = `StartSel=${MARK_START}, StopSel=${MARK_STOP}, MaxFragments=2, MaxWords=30, MinWords=12, FragmentDelimiter=" … "`;
const SUBJECT_HEADLINE = `StartSel=${MARK_START}, StopSel=${MARK_STOP}, HighlightAll=true`;

const htmlEscaped = (e: RawBuilder<string>) => sql<string>`replace(replace(replace(${e}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')`;

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (m) => '\\' + m);

function conditions(f: SearchFilter, viewer: Viewer): RawBuilder<boolean>[] {
  const out: RawBuilder<boolean>[] = [visibleRecordsSql(viewer, 'r')];
  if (f.q) {
    out.push(sql<boolean>`(r.search_stem @@ websearch_to_tsquery('indonesian', ${f.q}) OR r.search_simple @@ websearch_to_tsquery('simple', ${f.q})
                           OR r.number = ${f.q} OR r.sender_number = ${f.q})`);
  }
  if (f.type === 'letter') out.push(sql<boolean>`r.letter_id IS NOT NULL`);
  if (f.type === 'incoming') out.push(sql<boolean>`r.incoming_letter_id IS NOT NULL`);
  if (f.kind) out.push(sql<boolean>`r.kind_code = ${f.kind}`);
  if (f.unitId) out.push(sql<boolean>`r.unit_id = ${f.unitId}`);
  if (f.code) out.push(sql<boolean>`(r.classification_code = ${f.code} OR r.classification_code LIKE ${likeEscape(f.code) + '.%'})`);
  if (f.securityClass) out.push(sql<boolean>`r.security_class = ${f.securityClass}`);
  if (f.state) out.push(sql<boolean>`r.state = ${f.state}`);
  const day = f.dateField === 'record' ? sql`r.record_date` : sql`(r.created_at AT TIME ZONE 'Asia/Jakarta')::date`;
  if (f.from) out.push(sql<boolean>`${day} >= ${f.from}::date`);
  if (f.to) out.push(sql<boolean>`${day} <= ${f.to}::date`);
  if (f.party) {
    const like = `%${likeEscape(f.party)}%`;
    out.push(sql<boolean>`(r.sender ILIKE ${like} OR r.recipients ILIKE ${like})`);
  }
  return out;
}

function rankOf(q: string, r: string) {
  const R = sql.ref(r);
  // Weights (A number/hal, B sender/recipients, C body, D attachments) are in the vectors; an exact number wins outright.
  return sql<number>`(ts_rank(${R}.search_stem, websearch_to_tsquery('indonesian', ${q})) + ts_rank(${R}.search_simple, websearch_to_tsquery('simple', ${q}))
                      + CASE WHEN ${R}.number = ${q} OR ${R}.sender_number = ${q} THEN 10 ELSE 0 END)`;
}

const newest = (R: RawBuilder<unknown>) => sql`${R}.record_date DESC NULLS LAST, ${R}.created_at DESC, ${R}.id DESC`;

/** The ORDER BY of a sort, over the records alias `r` (the inner query) or `p` (the page). */
function orderBy(f: SearchFilter, r: string) {
  const R = sql.ref(r);
  switch (effectiveSort(f)) {
    case 'relevance':
      // grp and score come from rankedPage(): ranked candidates first, then the other matches newest first.
      return sql`${R}.grp, ${R}.score DESC, ${newest(R)}`;
    case 'oldest':
      return sql`${R}.record_date ASC NULLS LAST, ${R}.created_at ASC, ${R}.id ASC`;
    case 'number':
      return sql`${R}.number ASC NULLS LAST, ${R}.id ASC`;
    default:
      return newest(R);
  }
}

const effectiveSort = (f: SearchFilter): Sort => (f.sort === 'relevance' && !f.q ? 'newest' : f.sort);

/** Totals are counted up to this many; beyond it the page says "more than". Counting every match of a broad query costs seconds on a million records. */
export const TOTAL_CAP = 10_000;
/**
 * Relevance ranks at most the newest this-many matches (plus exact number
 * matches): ts_rank reads both vectors of every row it ranks, so ranking all
 * matches of a broad query costs seconds. For such a query relevance therefore
 * orders the newest RANKED_CANDIDATES matches; the other matches follow, newest first.
 */
export const RANKED_CANDIDATES = 1_000;

/**
 * The page of a relevance sort, as records rows with grp (0 ranked, 1 the rest)
 * and score. The candidates are the newest matches and the exact number matches
 * (cheap through their indexes, wherever they are in time), so a pasted number
 * still comes first. The rest is only read when the page reaches past the candidates.
 */
function rankedPage(f: SearchFilter, where: RawBuilder<unknown>, page: { size: number; offset: number }, candidates: number) {
  const rest =
    page.offset + page.size > candidates
      ? sql`UNION ALL
        (SELECT r.*, 1 AS grp, 0::real AS score FROM records r
          WHERE ${where} AND r.id NOT IN (SELECT id FROM cand) ORDER BY ${newest(sql.ref('r'))} LIMIT ${page.offset + page.size})`
      : sql``;
  return sql`WITH cand AS MATERIALIZED (
      (SELECT r.id FROM records r WHERE ${where} ORDER BY ${newest(sql.ref('r'))} LIMIT ${candidates})
      UNION
      SELECT r.id FROM records r WHERE ${where} AND (r.number = ${f.q} OR r.sender_number = ${f.q})
    )
    SELECT * FROM (
      (SELECT r.*, 0 AS grp, ${rankOf(f.q, 'r')} AS score FROM cand JOIN records r ON r.id = cand.id)
      ${rest}
    ) m ORDER BY ${orderBy(f, 'm')} LIMIT ${page.size} OFFSET ${page.offset}`;
}

export interface SearchRow {
  id: string;
  letter_id: string | null;
  incoming_letter_id: string | null;
  number: string | null;
  sender_number: string | null;
  subject: string;
  kind_code: string | null;
  kind_name: string | null;
  unit_id: string;
  unit_name: string;
  security_class: string;
  classification_code: string | null;
  state: string;
  record_date: string | null;
  sender: string;
  /** Subject, HTML-escaped, with sentinel marks. */
  subject_marked: string;
  /** Body (or attachment) text around the matches, HTML-escaped, with sentinel marks; null when not shown. */
  snippet: string | null;
}

/**
 * One page of results and the total, counted up to `limits.totalCap` (then
 * `totalCapped`). `snippetClasses` are the classes whose text may appear in a
 * list (the others show hal and number only). `limits` is lowered by tests.
 * Run it in a transaction (settings below).
 */
export async function search(
  db: Executor,
  viewer: Viewer,
  f: SearchFilter,
  page: { size: number; offset: number },
  snippetClasses: string[],
  limits = { totalCap: TOTAL_CAP, rankedCandidates: RANKED_CANDIDATES },
) {
  const where = sql.join(conditions(f, viewer), sql` AND `);
  // Local to the caller's transaction. work_mem: with the default 4MB the bitmap
  // of a broad query's matches goes lossy, and every row of a lossy page is
  // rechecked by detoasting its vectors (EXPLAIN on 1M records: 1.0 s -> 0.4 s).
  // jit: the per-row cost of the access predicate inflates the estimate, and
  // PostgreSQL spent more compiling (1.1 s) than running the query.
  await sql`SELECT set_config('work_mem', '32MB', true), set_config('jit', 'off', true)`.execute(db);
  // Headlines are computed for the page only: the inner query sorts and cuts first.
  const q = f.q;
  const query = q ? sql`websearch_to_tsquery('indonesian', ${q}) || websearch_to_tsquery('simple', ${q})` : null;
  const inner =
    effectiveSort(f) === 'relevance'
      ? rankedPage(f, where, page, limits.rankedCandidates)
      : sql`SELECT r.* FROM records r WHERE ${where} ORDER BY ${orderBy(f, 'r')} LIMIT ${page.size} OFFSET ${page.offset}`;
  const rows = await sql<SearchRow>`
    SELECT p.id, p.letter_id, p.incoming_letter_id, p.number, p.sender_number, p.subject, p.kind_code, k.name AS kind_name,
           p.unit_id, u.name AS unit_name, p.security_class, p.classification_code, p.state,
           to_char(p.record_date, 'YYYY-MM-DD') AS record_date, p.sender,
           ${query ? sql`ts_headline('indonesian', ${htmlEscaped(sql`p.subject`)}, ${query}, ${SUBJECT_HEADLINE})` : htmlEscaped(sql`p.subject`)} AS subject_marked,
           CASE WHEN p.security_class = ANY(${snippetClasses}::text[]) THEN
             ${
               query
                 ? sql`ts_headline('indonesian', ${htmlEscaped(sql`CASE WHEN p.body_text <> '' THEN p.body_text ELSE p.attachments_text END`)}, ${query}, ${HEADLINE})`
                 : htmlEscaped(sql`left(p.body_text, 240)`)
             }
           END AS snippet
      FROM (${inner}) p
      JOIN units u ON u.id = p.unit_id
      LEFT JOIN letter_kinds k ON k.code = p.kind_code
     ORDER BY ${orderBy(f, 'p')}`.execute(db);
  const counted = await sql<{ n: string }>`SELECT count(*) AS n FROM (SELECT 1 FROM records r WHERE ${where} LIMIT ${limits.totalCap + 1}) c`.execute(db);
  const n = Number(counted.rows[0]!.n);
  return { rows: rows.rows, total: Math.min(n, limits.totalCap), totalCapped: n > limits.totalCap };
}
