// SQL for the records' life after filing: retention due lists, holds, berkas,
// disposals and the objects a record owns. Functions take an Executor so they
// run inside the caller's transaction. Dates come back as 'YYYY-MM-DD' text.
import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import type { Executor } from '../../platform/db/index.js';

// ---------- retention ----------

export const DUE_LISTS = ['inactive', 'destroy', 'permanent', 'review', 'unset'] as const;
export type DueList = (typeof DUE_LISTS)[number];

export interface DueFilter {
  /** Records of this unit and its sub-units. */
  unitId?: string;
  /** A classification code or its prefix (000.1 takes 000.1.5). */
  code?: string;
  /** The year of the record date (signing or registration). */
  year?: number;
}

/** A condition on the alias `r` (records) saying which records the user may manage. */
export type RecordScope = Expression<SqlBool>;

const activeUntil = sql<string>`(r.record_date + make_interval(years => c.retention_active_years))::date`;
const retentionUntil = sql<string>`(r.record_date + make_interval(years => c.retention_active_years + c.retention_inactive_years))::date`;
const held = sql<boolean>`EXISTS (SELECT 1 FROM legal_holds h WHERE h.record_id = r.id AND h.lifted_at IS NULL)`;
const pendingDisposal = sql<string | null>`(SELECT max(d.id)::text FROM disposal_records dr JOIN disposals d ON d.id = dr.disposal_id WHERE dr.record_id = r.id AND d.state IN ('proposed','approved'))`;

/**
 * Records in one due list as of `today`, before paging. The conditions that
 * depend on the code are written as `r.record_date <= cut-off(c)` so the planner
 * walks records_retention_idx (classification_code, record_date) once per code
 * of the wanted fate: a range scan per code, never a scan of every record.
 */
export function dueQuery(db: Executor, list: DueList, today: string, scope: RecordScope, f: DueFilter = {}) {
  let q = db
    .selectFrom('records as r')
    .leftJoin('classification_codes as c', 'c.code', 'r.classification_code')
    .where('r.destroyed_at', 'is', null)
    .where('r.record_date', 'is not', null)
    .where(scope);
  const wholeOver = sql<SqlBool>`r.record_date <= (${today}::date - make_interval(years => c.retention_active_years + c.retention_inactive_years))::date`;
  switch (list) {
    case 'inactive':
      q = q
        .where('c.retention_active_years', 'is not', null)
        .where(sql<SqlBool>`r.record_date <= (${today}::date - make_interval(years => c.retention_active_years))::date`)
        .where('r.inactive_at', 'is', null)
        .where('r.permanent_at', 'is', null);
      break;
    case 'destroy':
      q = q.where('c.final_fate', '=', 'musnah').where(wholeOver);
      break;
    case 'permanent':
      q = q.where('c.final_fate', '=', 'permanen').where(wholeOver).where('r.permanent_at', 'is', null);
      break;
    case 'review':
      q = q.where('c.final_fate', '=', 'dinilai_kembali').where(wholeOver);
      break;
    case 'unset':
      q = q.where((eb) => eb.or([eb('c.code', 'is', null), eb('c.retention_active_years', 'is', null), eb('c.retention_inactive_years', 'is', null), eb('c.final_fate', 'is', null)]));
      break;
  }
  if (f.unitId) q = q.where(sql<SqlBool>`r.unit_id IN (WITH RECURSIVE sub(id) AS (SELECT ${f.unitId}::bigint UNION ALL SELECT u.id FROM units u JOIN sub ON u.parent_id = sub.id) SELECT id FROM sub)`);
  if (f.code) q = q.where((eb) => eb.or([eb('r.classification_code', '=', f.code!), eb('r.classification_code', 'like', `${f.code!.replace(/[\\%_]/g, '\\$&')}.%`)]));
  if (f.year) q = q.where('r.record_date', '>=', `${f.year}-01-01`).where('r.record_date', '<', `${f.year + 1}-01-01`);
  return q;
}

/** What a due list shows of each record. */
export function selectDue(q: ReturnType<typeof dueQuery>) {
  return q
    .leftJoin('units as u', 'u.id', 'r.unit_id')
    .select([
      'r.id', 'r.letter_id', 'r.incoming_letter_id', 'r.number', 'r.subject', 'r.classification_code', 'r.security_class',
      'r.inactive_at', 'r.permanent_at', 'u.name as unit_name', 'c.name as code_name',
      'c.retention_active_years', 'c.retention_inactive_years', 'c.final_fate',
      sql<string>`r.record_date::text`.as('record_date'),
      sql<string | null>`${activeUntil}::text`.as('active_until'),
      sql<string | null>`${retentionUntil}::text`.as('retention_until'),
      held.as('held'),
      pendingDisposal.as('pending_disposal'),
    ]);
}

/** One record with its retention, as the record's panel and the disposal checks need it. */
export function getRecord(db: Executor, where: { id?: string; letterId?: string; incomingId?: string }) {
  let q = db
    .selectFrom('records as r')
    .leftJoin('classification_codes as c', 'c.code', 'r.classification_code')
    .selectAll('r')
    .select([
      'c.name as code_name', 'c.retention_active_years', 'c.retention_inactive_years', 'c.final_fate',
      sql<string | null>`r.record_date::text`.as('record_date_text'),
      sql<string | null>`${activeUntil}::text`.as('active_until'),
      sql<string | null>`${retentionUntil}::text`.as('retention_until'),
      held.as('held'),
      pendingDisposal.as('pending_disposal'),
    ]);
  if (where.id) q = q.where('r.id', '=', where.id);
  if (where.letterId) q = q.where('r.letter_id', '=', where.letterId);
  if (where.incomingId) q = q.where('r.incoming_letter_id', '=', where.incomingId);
  return q.executeTakeFirst();
}
export type RecordRow = NonNullable<Awaited<ReturnType<typeof getRecord>>>;

export function lockRecords(db: Executor, ids: string[]) {
  return db.selectFrom('records').select(['id']).where('id', 'in', ids).orderBy('id').forUpdate().execute();
}

// ---------- holds ----------

export function activeHold(db: Executor, recordId: string) {
  return db
    .selectFrom('legal_holds as h')
    .innerJoin('users as p', 'p.id', 'h.placed_by')
    .select(['h.id', 'h.reason', 'h.placed_at', 'p.name as placed_by_name'])
    .where('h.record_id', '=', recordId)
    .where('h.lifted_at', 'is', null)
    .executeTakeFirst();
}

export function holdHistory(db: Executor, recordId: string) {
  return db
    .selectFrom('legal_holds as h')
    .innerJoin('users as p', 'p.id', 'h.placed_by')
    .leftJoin('users as l', 'l.id', 'h.lifted_by')
    .select(['h.id', 'h.reason', 'h.placed_at', 'h.lifted_at', 'h.lift_reason', 'p.name as placed_by_name', 'l.name as lifted_by_name'])
    .where('h.record_id', '=', recordId)
    .orderBy('h.placed_at', 'desc')
    .execute();
}

export function heldRecordsQuery(db: Executor, scope: RecordScope) {
  return db
    .selectFrom('legal_holds as h')
    .innerJoin('records as r', 'r.id', 'h.record_id')
    .innerJoin('users as p', 'p.id', 'h.placed_by')
    .where('h.lifted_at', 'is', null)
    .where(scope);
}

// ---------- berkas ----------

export function filesQuery(db: Executor, f: { q?: string; status?: 'open' | 'closed' }) {
  let q = db.selectFrom('archive_files as f').innerJoin('units as u', 'u.id', 'f.unit_id');
  if (f.q) {
    const like = `%${f.q.replace(/[\\%_]/g, '\\$&')}%`;
    q = q.where((eb) => eb.or([eb('f.number', 'ilike', like), eb('f.title', 'ilike', like), eb('f.classification_code', 'like', like)]));
  }
  if (f.status === 'open') q = q.where('f.closed_at', 'is', null);
  if (f.status === 'closed') q = q.where('f.closed_at', 'is not', null);
  return q;
}

export const fileColumns = [
  'f.id', 'f.unit_id', 'f.number', 'f.title', 'f.classification_code', 'f.description', 'f.created_at', 'f.closed_at', 'u.name as unit_name',
  sql<number>`(SELECT count(*) FROM archive_file_records x WHERE x.file_id = f.id)::int`.as('record_count'),
] as const;

export function getFile(db: Executor, id: string) {
  return filesQuery(db, {}).leftJoin('users as cb', 'cb.id', 'f.created_by').select([...fileColumns, 'cb.name as created_by_name']).where('f.id', '=', id).executeTakeFirst();
}
export type FileRow = NonNullable<Awaited<ReturnType<typeof getFile>>>;

export function fileRecords(db: Executor, fileId: string) {
  return db
    .selectFrom('archive_file_records as x')
    .innerJoin('records as r', 'r.id', 'x.record_id')
    .innerJoin('users as a', 'a.id', 'x.added_by')
    .select([
      'r.id', 'r.letter_id', 'r.incoming_letter_id', 'r.number', 'r.subject', 'r.classification_code', 'r.security_class', 'r.destroyed_at',
      sql<string | null>`r.record_date::text`.as('record_date'), 'x.added_at', 'a.name as added_by_name',
    ])
    .where('x.file_id', '=', fileId)
    .orderBy('r.record_date')
    .orderBy('r.id')
    .execute();
}

export function filesOfRecord(db: Executor, recordId: string) {
  return db
    .selectFrom('archive_file_records as x')
    .innerJoin('archive_files as f', 'f.id', 'x.file_id')
    .select(['f.id', 'f.number', 'f.title', 'f.closed_at'])
    .where('x.record_id', '=', recordId)
    .orderBy('f.number')
    .execute();
}

export function openFiles(db: Executor) {
  return db.selectFrom('archive_files').select(['id', 'number', 'title']).where('closed_at', 'is', null).orderBy('number').limit(500).execute();
}

// ---------- disposals ----------

export function disposalsQuery(db: Executor, state?: string) {
  let q = db.selectFrom('disposals as d').innerJoin('users as p', 'p.id', 'd.proposed_by').leftJoin('users as a', 'a.id', 'd.decided_by');
  if (state) q = q.where('d.state', '=', state as 'proposed');
  return q;
}

export const disposalColumns = [
  'd.id', 'd.state', 'd.note', 'd.proposed_at', 'd.decided_at', 'd.decision_note', 'd.executed_at', 'd.number', 'd.berita_acara_sha256', 'd.purged_at',
  'd.proposed_by', 'd.decided_by', 'p.name as proposed_by_name', 'a.name as decided_by_name',
  sql<number>`(SELECT count(*) FROM disposal_records x WHERE x.disposal_id = d.id)::int`.as('record_count'),
] as const;

export function getDisposal(db: Executor, id: string) {
  return disposalsQuery(db).select([...disposalColumns]).where('d.id', '=', id).executeTakeFirst();
}
export type DisposalRow = NonNullable<Awaited<ReturnType<typeof getDisposal>>>;

export function lockDisposal(db: Executor, id: string) {
  return db.selectFrom('disposals').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/**
 * Records of a disposal (or candidates for one) with what the berita acara lists
 * and what the checks need, as of `today`: held now? whole retention over?
 */
export function disposalRecords(db: Executor, today: string, by: { disposalId: string } | { recordIds: string[] }) {
  let q = db
    .selectFrom('records as r')
    .leftJoin('classification_codes as c', 'c.code', 'r.classification_code')
    .select([
      'r.id', 'r.letter_id', 'r.incoming_letter_id', 'r.number', 'r.subject', 'r.classification_code', 'r.security_class', 'r.destroyed_at', 'r.destroyed_sha256',
      'c.retention_active_years', 'c.retention_inactive_years', 'c.final_fate',
      sql<string | null>`r.record_date::text`.as('record_date'),
      sql<string | null>`${retentionUntil}::text`.as('retention_until'),
      held.as('held'),
      pendingDisposal.as('pending_disposal'),
      sql<boolean>`coalesce(r.record_date <= (${today}::date - make_interval(years => c.retention_active_years + c.retention_inactive_years))::date, false)`.as('whole_over'),
    ]);
  q = 'disposalId' in by
    ? q.where('r.id', 'in', (eb) => eb.selectFrom('disposal_records').select('record_id').where('disposal_id', '=', by.disposalId))
    : q.where('r.id', 'in', by.recordIds);
  return q.orderBy('r.record_date').orderBy('r.id').execute();
}
export type DisposalRecordRow = Awaited<ReturnType<typeof disposalRecords>>[number];

// ---------- a record's objects ----------

/**
 * (record, object) pairs matching `where`: the signed PDF, the attachments (also
 * removed ones: they were part of the record's drafts), the scan of an incoming
 * letter, and the attachments of disposisi on it or on internal copies of the
 * letter. Objects are content-addressed and shared, so this maps bytes back to
 * records; each branch is an index lookup by record or by sha256.
 */
function objectRefs(where: (sha: RawBuilder<unknown>) => RawBuilder<unknown>) {
  const w = (col: string) => where(sql.raw(col));
  return sql<{ record_id: string; sha256: string }>`
    SELECT x.id AS record_id, s.pdf_sha256 AS sha256 FROM letter_signatures s JOIN records x ON x.letter_id = s.letter_id WHERE ${w('s.pdf_sha256')}
    UNION ALL SELECT x.id, a.object_sha256 FROM letter_attachments a JOIN records x ON x.letter_id = a.letter_id WHERE ${w('a.object_sha256')}
    UNION ALL SELECT x.id, i.pdf_sha256 FROM incoming_letters i JOIN records x ON x.incoming_letter_id = i.id OR x.letter_id = i.letter_id
      WHERE i.pdf_sha256 IS NOT NULL AND ${w('i.pdf_sha256')}
    UNION ALL SELECT x.id, d.done_attachment_sha256 FROM disposisi d JOIN incoming_letters i ON i.id = d.incoming_letter_id
      JOIN records x ON x.incoming_letter_id = i.id OR x.letter_id = i.letter_id
      WHERE d.done_attachment_sha256 IS NOT NULL AND ${w('d.done_attachment_sha256')}`;
}

/**
 * The objects of these records, each with whether a record outside the set that
 * is not destroyed still refers to the same bytes (then they must stay).
 */
export async function objectsOf(db: Executor, recordIds: string[]): Promise<{ sha256: string; recordIds: string[]; shared: boolean }[]> {
  const ids = sql`${recordIds}::bigint[]`;
  const mine = await sql<{ sha256: string; record_ids: string[] }>`
    SELECT sha256, array_agg(DISTINCT record_id::text) AS record_ids FROM (${objectRefs(() => sql`x.id = ANY(${ids})`)}) o
     GROUP BY sha256 ORDER BY sha256`.execute(db);
  const shas = mine.rows.map((m) => m.sha256);
  const shared = shas.length
    ? new Set((await sql<{ sha256: string }>`
        SELECT DISTINCT sha256 FROM (${objectRefs((sha) => sql`${sha} = ANY(${shas}::text[]) AND x.destroyed_at IS NULL AND NOT (x.id = ANY(${ids}))`)}) o`.execute(db)).rows.map((r) => r.sha256))
    : new Set<string>();
  return mine.rows.map((m) => ({ sha256: m.sha256, recordIds: m.record_ids, shared: shared.has(m.sha256) }));
}
