// The archivist's view of records after filing: who may manage them, the
// retention due lists (JRA) with their counts and CSV, the transfers
// ("pindahkan ke inaktif", permanent transfer), and the record's panel on its
// letter page. Holds, berkas and disposals have their own files (hold.ts,
// berkas.ts, disposal.ts) and use the checks here.
import { sql, type SqlBool } from 'kysely';
import { loadViewer, visibleRecordsSql } from './access.js';
import { z } from 'zod';
import type { AppContext } from '../../platform/context.js';
import type { Executor } from '../../platform/db/index.js';
import { appendAudit } from '../../platform/audit/index.js';
import { actorOf, type CurrentUser } from '../../platform/auth/current-user.js';
import { can } from '../../platform/auth/permissions.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../platform/http/errors.js';
import { fieldError, parseInput } from '../../platform/http/validate.js';
import { jakartaDate } from '../org/hierarchy.js';
import { toCsv } from '../numbering/service.js';
import * as repo from './repo.js';

export { DUE_LISTS, type DueList, type DueFilter } from './repo.js';

// ---------- who may ----------

/** Archivists manage records (retention, berkas, holds, disposal proposals); anyone else gets 403. */
export function requireArchivist(user: CurrentUser): void {
  if (!can(user, 'archive.manage')) throw new ForbiddenError();
}

/**
 * The records this user may manage, as a condition on `records as r`: those the
 * one access policy (access.ts) lets them see. An archivist sees final records
 * up to Rahasia; a Sangat Rahasia record only if involved in it.
 */
export async function recordScope(db: Executor, user: CurrentUser): Promise<repo.RecordScope> {
  return visibleRecordsSql(await loadViewer(db, user), 'r');
}

const ID_RE = /^\d{1,18}$/;

/** A record the archivist may manage, or 404 (its existence is not revealed). */
export async function loadRecord(db: Executor, user: CurrentUser, recordId: string): Promise<repo.RecordRow> {
  requireArchivist(user);
  if (!ID_RE.test(recordId)) throw new NotFoundError();
  const visible = await db.selectFrom('records as r').select('r.id').where('r.id', '=', recordId).where(await recordScope(db, user)).executeTakeFirst();
  const row = visible ? await repo.getRecord(db, { id: recordId }) : undefined;
  if (!row) throw new NotFoundError();
  return row;
}

/** Today in Jakarta: retention periods end on calendar days. */
export function today(now: Date = new Date()): string {
  return jakartaDate(now);
}

// ---------- due lists ----------

const filterSchema = z.object({
  unit: z.string().trim().max(32).optional().transform((v) => v || undefined),
  code: z.string().trim().max(40).regex(/^[0-9.]*$/, 'archive.invalid.code').optional().transform((v) => v || undefined),
  year: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(1900).max(2999).optional()),
});
export type DueFilterInput = z.input<typeof filterSchema>;

/** The filter as typed (unit code, code prefix, year) -> the repository's (unit id). */
async function resolveFilter(db: Executor, input: unknown): Promise<{ filter: repo.DueFilter; form: { unit: string; code: string; year: string } }> {
  const f = parseInput(filterSchema, input ?? {});
  let unitId: string | undefined;
  if (f.unit) {
    const u = await db.selectFrom('units').select('id').where('code', '=', f.unit).executeTakeFirst();
    if (!u) throw fieldError('unit', 'archive.retention.unknown_unit');
    unitId = String(u.id);
  }
  return { filter: { unitId, code: f.code, year: f.year }, form: { unit: f.unit ?? '', code: f.code ?? '', year: f.year ? String(f.year) : '' } };
}

export function isDueList(v: unknown): v is repo.DueList {
  return (repo.DUE_LISTS as readonly unknown[]).includes(v);
}

/** One due list as of `now`, paginated, oldest record first, with the counts of every list under the same filter. */
export async function dueList(ctx: Pick<AppContext, 'db'>, user: CurrentUser, list: repo.DueList, input: unknown, page: { size: number; offset: number }, now = new Date()) {
  requireArchivist(user);
  const { filter, form } = await resolveFilter(ctx.db, input);
  const day = today(now);
  const scope = await recordScope(ctx.db, user);
  const [items, counts] = await Promise.all([
    repo.selectDue(repo.dueQuery(ctx.db, list, day, scope, filter)).orderBy('r.record_date').orderBy('r.id').limit(page.size).offset(page.offset).execute(),
    dueCounts(ctx.db, day, scope, filter),
  ]);
  return { list, today: day, items, total: Math.min(counts[list], COUNT_CAP), counts, countCap: COUNT_CAP, filter: form };
}

/**
 * Each list's size, counted up to COUNT_CAP: on a large archive an exact count
 * of a long list is a scan of it, while a capped one stops early (the lists walk
 * records oldest first). The page says "10000+" beyond the cap.
 */
export const COUNT_CAP = 10_000;

async function dueCounts(db: Executor, day: string, scope: repo.RecordScope, filter: repo.DueFilter): Promise<Record<repo.DueList, number>> {
  const n = await Promise.all(
    repo.DUE_LISTS.map((l) =>
      db.selectFrom(repo.dueQuery(db, l, day, scope, filter).select('r.id').limit(COUNT_CAP + 1).as('x')).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ),
  );
  return Object.fromEntries(repo.DUE_LISTS.map((l, i) => [l, Number(n[i].n)])) as Record<repo.DueList, number>;
}

/**
 * The "due for destruction" list as the bench measures it: one page, oldest
 * first. Exported for bench/search (see repo.dueQuery for the index it uses).
 */
export function dueForDestruction(db: Executor, day: string, page: { size: number; offset: number }) {
  return repo.selectDue(repo.dueQuery(db, 'destroy', day, sql<SqlBool>`true`)).orderBy('r.record_date').orderBy('r.id').limit(page.size).offset(page.offset).execute();
}

const CSV_MAX_ROWS = 50_000;

/** A whole due list (up to 50,000 rows) as CSV, for the records centre's paperwork. */
export async function dueCsv(ctx: Pick<AppContext, 'db'>, user: CurrentUser, list: repo.DueList, input: unknown, now = new Date()) {
  requireArchivist(user);
  const { filter } = await resolveFilter(ctx.db, input);
  const day = today(now);
  const rows = await repo.selectDue(repo.dueQuery(ctx.db, list, day, await recordScope(ctx.db, user), filter)).orderBy('r.record_date').orderBy('r.id').limit(CSV_MAX_ROWS).execute();
  const csv = toCsv(
    ['ID Arsip', 'Nomor', 'Tanggal', 'Hal', 'Unit', 'Kode Klasifikasi', 'Retensi Aktif (th)', 'Retensi Inaktif (th)', 'Nasib Akhir', 'Aktif s.d.', 'Retensi s.d.', 'Ditahan'],
    rows.map((r) => [r.id, r.number, r.record_date, r.subject, r.unit_name, r.classification_code, r.retention_active_years, r.retention_inactive_years, r.final_fate, r.active_until, r.retention_until, r.held ? 'ya' : '']),
  );
  return { filename: `arsip-${list}-${day}.csv`, csv };
}

// ---------- transfers ----------

const idsSchema = z.object({ ids: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(z.coerce.string().regex(ID_RE)).min(1, 'archive.retention.none_selected').max(500)) });

/**
 * "Pindahkan ke inaktif": the records whose active period is over move to the
 * records centre; each gets the date and the archivist, one audit entry each.
 * A record not due (or already moved, or destroyed) refuses the whole batch.
 */
export async function moveToInactive(ctx: Pick<AppContext, 'db'>, user: CurrentUser, input: unknown, now = new Date()): Promise<number> {
  requireArchivist(user);
  const ids = [...new Set(parseInput(idsSchema, input).ids)];
  const day = today(now);
  const scope = await recordScope(ctx.db, user);
  return ctx.db.transaction().execute(async (trx) => {
    await repo.lockRecords(trx, ids);
    const due = await repo.dueQuery(trx, 'inactive', day, scope).select('r.id').where('r.id', 'in', ids).execute();
    if (due.length !== ids.length) {
      const dueIds = new Set(due.map((d) => String(d.id)));
      const bad = ids.find((id) => !dueIds.has(id))!;
      const rec = await repo.getRecord(trx, { id: bad });
      throw new ConflictError('archive.retention.not_due_inactive', { record: rec?.number ?? `#${bad}` });
    }
    await trx.updateTable('records').set({ inactive_at: now, inactive_by: user.id }).where('id', 'in', ids).execute();
    for (const id of ids) {
      await appendAudit(trx, actorOf(user), { action: 'record.moved_inactive', objectType: 'record', objectId: id, details: { on: day } });
    }
    return ids.length;
  });
}

const permanentSchema = z.object({ note: z.string({ error: 'archive.retention.note_required' }).trim().min(1, 'archive.retention.note_required').max(2000, 'archive.retention.note_required') });

/** Records a transfer to the archive authority (nasib akhir permanen) with its note (e.g. the handover's reference). */
export async function markPermanentTransfer(ctx: Pick<AppContext, 'db'>, user: CurrentUser, recordId: string, input: unknown, now = new Date()): Promise<void> {
  const { note } = parseInput(permanentSchema, input);
  await loadRecord(ctx.db, user, recordId);
  const scope = await recordScope(ctx.db, user);
  await ctx.db.transaction().execute(async (trx) => {
    await repo.lockRecords(trx, [recordId]);
    const due = await repo.dueQuery(trx, 'permanent', today(now), scope).select('r.id').where('r.id', '=', recordId).executeTakeFirst();
    if (!due) throw new ConflictError('archive.retention.not_due_permanent');
    await trx.updateTable('records').set({ permanent_at: now, permanent_by: user.id, permanent_note: note }).where('id', '=', recordId).execute();
    await appendAudit(trx, actorOf(user), { action: 'record.transferred_permanent', objectType: 'record', objectId: recordId, details: { note } });
  });
}

// ---------- one record ----------

/** Where the record stands in its retention, as the archivist reads it. */
export function retentionPhase(r: Pick<repo.RecordRow, 'destroyed_at' | 'record_date_text' | 'active_until' | 'retention_until' | 'final_fate' | 'inactive_at' | 'permanent_at'>, day: string) {
  if (r.destroyed_at) return 'destroyed';
  if (r.permanent_at) return 'transferred';
  if (!r.record_date_text) return 'not_final';
  if (!r.retention_until || !r.final_fate) return 'unset';
  if (r.retention_until <= day) return `due_${r.final_fate}`;
  if (r.active_until! <= day) return r.inactive_at ? 'inactive' : 'due_inactive';
  return 'active';
}

/** The record as the API gives it to an archivist. */
export async function getRecordView(ctx: Pick<AppContext, 'db'>, user: CurrentUser, recordId: string, now = new Date()) {
  const r = await loadRecord(ctx.db, user, recordId);
  const [hold, holds, files, disposal] = await Promise.all([
    repo.activeHold(ctx.db, recordId),
    repo.holdHistory(ctx.db, recordId),
    repo.filesOfRecord(ctx.db, recordId),
    r.disposal_id ? repo.getDisposal(ctx.db, String(r.disposal_id)) : undefined,
  ]);
  return { record: r, phase: retentionPhase(r, today(now)), hold, holds, files, disposal };
}

export function recordJson(v: Awaited<ReturnType<typeof getRecordView>>) {
  const r = v.record;
  return {
    id: String(r.id),
    letterId: r.letter_id === null ? null : String(r.letter_id),
    incomingLetterId: r.incoming_letter_id === null ? null : String(r.incoming_letter_id),
    number: r.number,
    subject: r.subject,
    securityClass: r.security_class,
    classificationCode: r.classification_code,
    recordDate: r.record_date_text,
    retention: { activeYears: r.retention_active_years, inactiveYears: r.retention_inactive_years, finalFate: r.final_fate, activeUntil: r.active_until, retentionUntil: r.retention_until },
    phase: v.phase,
    inactiveAt: r.inactive_at,
    permanent: r.permanent_at ? { at: r.permanent_at, note: r.permanent_note } : null,
    hold: v.hold ? { id: String(v.hold.id), reason: v.hold.reason, placedAt: v.hold.placed_at, placedBy: v.hold.placed_by_name } : null,
    files: v.files.map((f) => ({ id: String(f.id), number: f.number, title: f.title })),
    destroyed: r.destroyed_at ? { at: r.destroyed_at, disposalId: String(r.disposal_id), beritaAcara: v.disposal?.number ?? null, sha256: r.destroyed_sha256 ?? [] } : null,
  };
}

/**
 * What the letter page (or the incoming letter's page) shows about its record:
 * to anyone who may see the letter, that it was destroyed (with the date and the
 * berita acara); to an archivist also its retention, hold and berkas, with the
 * forms to act on them. Undefined when there is nothing to show.
 */
export async function recordPanel(ctx: Pick<AppContext, 'db'>, user: CurrentUser, source: { letterId?: string; incomingId?: string }, now = new Date()) {
  const id = source.letterId ?? source.incomingId;
  if (!id || !ID_RE.test(id)) return undefined;
  const r = await repo.getRecord(ctx.db, source.letterId ? { letterId: id } : { incomingId: id });
  if (!r) return undefined;
  const archivist = can(user, 'archive.manage');
  const disposal = r.disposal_id ? await repo.getDisposal(ctx.db, String(r.disposal_id)) : undefined;
  const destroyed = r.destroyed_at ? { at: r.destroyed_at, disposalId: String(r.disposal_id), number: disposal?.number ?? null } : null;
  if (!archivist) return destroyed ? { archivist: false as const, recordId: String(r.id), destroyed } : undefined;
  const [hold, files, openFiles] = await Promise.all([repo.activeHold(ctx.db, String(r.id)), repo.filesOfRecord(ctx.db, String(r.id)), repo.openFiles(ctx.db)]);
  return { archivist: true as const, recordId: String(r.id), destroyed, record: r, phase: retentionPhase(r, today(now)), hold, files, openFiles: openFiles.filter((f) => !files.some((x) => String(x.id) === String(f.id))) };
}
export type RecordPanel = NonNullable<Awaited<ReturnType<typeof recordPanel>>>;
