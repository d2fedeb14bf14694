// Disposal (pemusnahan arsip): an archivist proposes records that are due
// (final fate musnah, whole retention over, not held, not destroyed, in no
// other open proposal) -> an authorised official (archive.approve_disposal,
// with an active signing certificate) approves or rejects -> the same official
// destroys: every record is checked again and one that no longer qualifies
// refuses the whole batch; then, in ONE transaction, the berita acara is
// numbered, rendered, signed with the official's key (PAdES) and stored, the
// records become tombstones (text cleared, destroyed hashes kept) and the
// objects are marked destroyed. The bytes are deleted from the primary and the
// backup store after the commit; purgeDestroyed() repeats that for any
// disposal a crash interrupted (it runs before every destruction and may be
// scheduled), so a row that says destroyed never keeps its bytes for long.
import { z } from 'zod';
import type { AppContext } from '../../platform/context.js';
import type { Executor } from '../../platform/db/index.js';
import { appendAudit } from '../../platform/audit/index.js';
import { actorOf, type CurrentUser } from '../../platform/auth/current-user.js';
import { can } from '../../platform/auth/permissions.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../platform/http/errors.js';
import { parseInput } from '../../platform/http/validate.js';
import { sql } from 'kysely';
import { agencyName } from '../org/hierarchy.js';
import { allocateNumber } from '../numbering/service.js';
import { myCertificates } from '../signing/service.js';
import { signPdf } from '../signing/pades.js';
import { credentialsSchema, unlock } from '../letters/sign.js';
import { beritaAcaraPdf } from './disposal-pdf.js';
import { recordScope, requireArchivist, today } from './service.js';
import * as repo from './repo.js';

/** The kind and code the berita acara is numbered under (Permendagri 83/2022: 000.5.6.2 Pemusnahan Arsip). */
const BA_KIND = 'BA';
const BA_CODE = '000.5.6.2';
const ID_RE = /^\d{1,18}$/;
export const DISPOSAL_MAX = 500;

// ---------- who may ----------

function mayApprove(user: CurrentUser): boolean {
  return can(user, 'archive.approve_disposal');
}

/** Archivists and approving officials see disposals; anyone else 403. */
function requireDisposalReader(user: CurrentUser) {
  if (!can(user, 'archive.manage') && !mayApprove(user)) throw new ForbiddenError();
}

async function requireSigningOfficial(ctx: AppContext, user: CurrentUser) {
  if (!mayApprove(user)) throw new ForbiddenError();
  if (!(await myCertificates(ctx, user)).some((c) => c.status === 'active')) throw new ForbiddenError('archive.disposal.no_certificate');
}

// ---------- the checks ----------

/**
 * The first record that may not be destroyed (and why), or undefined. Run at the
 * proposal, at the approval and at the destruction, on rows read inside the
 * transaction that acts.
 */
function firstRefusal(rows: repo.DisposalRecordRow[], opts: { disposalId?: string }): ConflictError | undefined {
  for (const r of rows) {
    const record = r.number ?? `#${r.id}`;
    if (r.destroyed_at) return new ConflictError('archive.disposal.refuse_destroyed', { record });
    if (r.held) return new ConflictError('archive.disposal.refuse_held', { record });
    if (r.final_fate !== 'musnah') return new ConflictError('archive.disposal.refuse_fate', { record });
    if (!r.whole_over) return new ConflictError('archive.disposal.refuse_not_due', { record, until: r.retention_until ?? '-' });
    if (r.pending_disposal && r.pending_disposal !== opts.disposalId) return new ConflictError('archive.disposal.refuse_pending', { record, disposal: r.pending_disposal });
  }
  return undefined;
}

// ---------- proposal ----------

const proposeSchema = z.object({
  ids: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(z.coerce.string().regex(ID_RE)).min(1, 'archive.retention.none_selected').max(DISPOSAL_MAX, 'archive.disposal.too_many')),
  note: z.string().trim().max(2000).optional().transform((v) => v || null),
});

export async function propose(ctx: Pick<AppContext, 'db'>, user: CurrentUser, input: unknown, now = new Date()): Promise<string> {
  requireArchivist(user);
  const d = parseInput(proposeSchema, input);
  const ids = [...new Set(d.ids)];
  const scope = await recordScope(ctx.db, user);
  return ctx.db.transaction().execute(async (trx) => {
    const visible = await trx.selectFrom('records as r').select('r.id').where('r.id', 'in', ids).where(scope).execute();
    if (visible.length !== ids.length) throw new NotFoundError();
    await repo.lockRecords(trx, ids);
    const rows = await repo.disposalRecords(trx, today(now), { recordIds: ids });
    const refusal = firstRefusal(rows, {});
    if (refusal) throw refusal;
    const row = await trx.insertInto('disposals').values({ note: d.note, proposed_by: user.id, proposed_at: now }).returning('id').executeTakeFirstOrThrow();
    const id = String(row.id);
    await trx.insertInto('disposal_records').values(ids.map((record_id) => ({ disposal_id: id, record_id }))).execute();
    await appendAudit(trx, actorOf(user), { action: 'disposal.proposed', objectType: 'disposal', objectId: id, details: { records: ids, note: d.note } });
    return id;
  });
}

// ---------- decision ----------

const decisionSchema = z.object({ note: z.string().trim().max(2000).optional().transform((v) => v || null) });
const rejectSchema = z.object({ note: z.string({ error: 'archive.disposal.reason_required' }).trim().min(1, 'archive.disposal.reason_required').max(2000, 'archive.disposal.reason_required') });

async function decide(ctx: AppContext, user: CurrentUser, disposalId: string, to: 'approved' | 'rejected', note: string | null, now: Date) {
  await requireSigningOfficial(ctx, user);
  if (!ID_RE.test(disposalId)) throw new NotFoundError();
  await ctx.db.transaction().execute(async (trx) => {
    const d = await repo.lockDisposal(trx, disposalId);
    if (!d) throw new NotFoundError();
    if (d.state !== 'proposed') throw new ConflictError('archive.disposal.wrong_state', { state: d.state });
    // Four eyes: whoever proposed does not also approve.
    if (String(d.proposed_by) === user.id) throw new ForbiddenError('archive.disposal.own_proposal');
    if (to === 'approved') {
      const refusal = firstRefusal(await repo.disposalRecords(trx, today(now), { disposalId }), { disposalId });
      if (refusal) throw refusal;
    }
    await trx.updateTable('disposals').set({ state: to, decided_by: user.id, decided_at: now, decision_note: note }).where('id', '=', disposalId).execute();
    await appendAudit(trx, actorOf(user), { action: to === 'approved' ? 'disposal.approved' : 'disposal.rejected', objectType: 'disposal', objectId: disposalId, details: { note } });
  });
}

export function approve(ctx: AppContext, user: CurrentUser, disposalId: string, input: unknown, now = new Date()) {
  return decide(ctx, user, disposalId, 'approved', parseInput(decisionSchema, input ?? {}).note, now);
}

export function reject(ctx: AppContext, user: CurrentUser, disposalId: string, input: unknown, now = new Date()) {
  return decide(ctx, user, disposalId, 'rejected', parseInput(rejectSchema, input ?? {}).note, now);
}

// ---------- destruction ----------

export interface Destruction {
  number: string;
  beritaAcaraSha256: string;
  destroyed: string[];
  keptShared: string[];
}

/**
 * Destroys an approved disposal: only the official who approved it, with the
 * passphrase (and TOTP) of their signing key, which signs the berita acara.
 */
export async function execute(ctx: AppContext, user: CurrentUser, disposalId: string, input: unknown, now = new Date()): Promise<Destruction> {
  await requireSigningOfficial(ctx, user);
  const creds = parseInput(credentialsSchema, input ?? {});
  const current = ID_RE.test(disposalId) ? await repo.getDisposal(ctx.db, disposalId) : undefined;
  if (!current) throw new NotFoundError();
  if (current.state !== 'approved') throw new ConflictError('archive.disposal.wrong_state', { state: current.state });
  if (String(current.decided_by) !== user.id) throw new ForbiddenError('archive.disposal.not_approver');
  const day = today(now);
  // Fail before asking the key: a held or no longer due record refuses the batch.
  const refusalBefore = firstRefusal(await repo.disposalRecords(ctx.db, day, { disposalId }), { disposalId });
  if (refusalBefore) throw refusalBefore;
  await purgeDestroyed(ctx);
  const unlocked = await unlock(ctx, user, creds, { during: 'disposal', disposal: disposalId });
  const [agency, position] = await Promise.all([
    user.unitId ? agencyName(ctx.db, user.unitId) : Promise.resolve(''),
    user.positionId ? ctx.db.selectFrom('positions').select(['code', 'title']).where('id', '=', user.positionId).executeTakeFirst() : undefined,
  ]);

  const out = await ctx.db.transaction().execute(async (trx) => {
    const d = await repo.lockDisposal(trx, disposalId);
    if (!d || d.state !== 'approved') throw new ConflictError('archive.disposal.wrong_state', { state: d?.state ?? '-' });
    const ids = (await trx.selectFrom('disposal_records').select('record_id').where('disposal_id', '=', disposalId).execute()).map((r) => String(r.record_id));
    await repo.lockRecords(trx, ids);
    const rows = await repo.disposalRecords(trx, day, { disposalId });
    const refusal = firstRefusal(rows, { disposalId });
    if (refusal) throw refusal;

    const objects = await repo.objectsOf(trx, ids);
    const destroyed = objects.filter((o) => !o.shared).map((o) => o.sha256);
    const keptShared = objects.filter((o) => o.shared).map((o) => o.sha256);
    const perRecord = new Map<string, string[]>(ids.map((id) => [id, objects.filter((o) => !o.shared && o.recordIds.includes(id)).map((o) => o.sha256)]));

    if (!user.unitId) throw new ConflictError('numbering.no_series');
    const number = await allocateNumber(trx, {
      scope: 'outgoing', unitId: user.unitId, kindCode: BA_KIND, classificationCode: BA_CODE, securityClass: 'biasa',
      positionCode: position?.code ?? '', date: now, letterId: null, issuedBy: user.id,
    });
    const pdf = await beritaAcaraPdf({
      number: number.number, agency, executedAt: now, disposalId, proposedAt: d.proposed_at, proposedBy: current.proposed_by_name,
      approvedAt: d.decided_at!, approver: { name: user.name, nip: user.nip, position: position?.title ?? user.positionTitle },
      records: rows, destroyed: perRecord,
    });
    const signed = await signPdf(pdf, unlocked.identity, { reason: `Berita acara pemusnahan arsip nomor ${number.number}`, name: user.name, signingTime: now });
    const stored = await ctx.store.put(trx, signed, 'application/pdf', user.id);

    await trx.updateTable('disposals').set({ state: 'executed', executed_at: now, number: number.number, issued_number_id: number.id, berita_acara_sha256: stored.sha256 }).where('id', '=', disposalId).execute();
    for (const id of ids) {
      await trx.updateTable('records').set({ destroyed_at: now, disposal_id: disposalId, destroyed_sha256: perRecord.get(id) ?? [], body_text: '', attachments_text: '', updated_at: now }).where('id', '=', id).execute();
    }
    await clearText(trx, rows);
    if (destroyed.length) await trx.updateTable('objects').set({ destroyed_at: now }).where('sha256', 'in', destroyed).execute();
    await appendAudit(trx, actorOf(user), {
      action: 'disposal.executed', objectType: 'disposal', objectId: disposalId, docSha256: stored.sha256,
      details: { number: number.number, records: ids, destroyed, keptShared, certificateSerial: unlocked.info.serialHex },
    });
    return { number: number.number, beritaAcaraSha256: stored.sha256, destroyed, keptShared };
  });
  await purgeDestroyed(ctx, disposalId);
  return out;
}

/**
 * The text of destroyed records goes: the record's searchable copy, the body in
 * every version of a letter (letter_versions is not write-protected; the version
 * hashes stay, as evidence of what existed), the text extracted from attachments
 * and scans. Hal, number, dates and codes stay: they are the tombstone.
 */
async function clearText(trx: Executor, rows: repo.DisposalRecordRow[]) {
  const letterIds = rows.filter((r) => r.letter_id !== null).map((r) => String(r.letter_id));
  const incomingIds = rows.filter((r) => r.incoming_letter_id !== null).map((r) => String(r.incoming_letter_id));
  if (letterIds.length) {
    await sql`UPDATE letter_versions SET content = jsonb_set(content, '{body}', '""') WHERE letter_id = ANY(${letterIds}::bigint[])`.execute(trx);
    await trx.updateTable('letter_attachments').set({ extracted_text: null }).where('letter_id', 'in', letterIds).execute();
    await trx.updateTable('incoming_letters').set({ extracted_text: null }).where('letter_id', 'in', letterIds).execute();
  }
  if (incomingIds.length) await trx.updateTable('incoming_letters').set({ extracted_text: null }).where('id', 'in', incomingIds).execute();
}

/**
 * Deletes from both stores the bytes of executed disposals not yet purged (the
 * one just committed, or any a crash interrupted), then marks them purged.
 * Deleting an absent object is not an error, so this can run any number of times.
 */
export async function purgeDestroyed(ctx: Pick<AppContext, 'db' | 'store' | 'backupStore' | 'logger'>, onlyDisposalId?: string): Promise<number> {
  let q = ctx.db.selectFrom('disposals').select('id').where('state', '=', 'executed').where('purged_at', 'is', null);
  if (onlyDisposalId) q = q.where('id', '=', onlyDisposalId);
  let n = 0;
  for (const d of await q.execute()) {
    const shas = await ctx.db
      .selectFrom('records')
      .select(sql<string>`unnest(destroyed_sha256)`.as('sha256'))
      .where('disposal_id', '=', d.id)
      .execute();
    try {
      for (const { sha256 } of shas) {
        await ctx.store.remove(sha256);
        await ctx.backupStore.remove(sha256);
        n++;
      }
      await ctx.db.updateTable('disposals').set({ purged_at: new Date() }).where('id', '=', d.id).execute();
    } catch (e) {
      // The rows already say destroyed: the next run (or the integrity scanner) deletes the rest.
      ctx.logger.error({ err: e, disposalId: String(d.id) }, 'disposal: deleting destroyed bytes failed; will retry');
    }
  }
  return n;
}

// ---------- reading ----------

const STATES = ['proposed', 'approved', 'rejected', 'executed'] as const;

export async function listDisposals(ctx: Pick<AppContext, 'db'>, user: CurrentUser, state: string | undefined, page: { size: number; offset: number }) {
  requireDisposalReader(user);
  const s = (STATES as readonly string[]).includes(state ?? '') ? state : undefined;
  const [items, total] = await Promise.all([
    repo.disposalsQuery(ctx.db, s).select([...repo.disposalColumns]).orderBy('d.proposed_at', 'desc').orderBy('d.id', 'desc').limit(page.size).offset(page.offset).execute(),
    repo.disposalsQuery(ctx.db, s).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items, total: Number(total.n), state: s ?? '' };
}

export async function getDisposal(ctx: AppContext, user: CurrentUser, disposalId: string, now = new Date()) {
  requireDisposalReader(user);
  const d = ID_RE.test(disposalId) ? await repo.getDisposal(ctx.db, disposalId) : undefined;
  if (!d) throw new NotFoundError();
  const records = await repo.disposalRecords(ctx.db, today(now), { disposalId });
  const problem = d.state === 'proposed' || d.state === 'approved' ? firstRefusal(records, { disposalId }) : undefined;
  return {
    disposal: d,
    records,
    /** What would refuse the next step now, for the page to say before anyone types a passphrase. */
    problem: problem ? { key: problem.messageKey, params: problem.params } : null,
    mayDecide: d.state === 'proposed' && mayApprove(user) && String(d.proposed_by) !== user.id,
    mayExecute: d.state === 'approved' && String(d.decided_by) === user.id,
    needsOtp: user.totpEnabled,
  };
}

/** The signed berita acara pemusnahan (PDF), for archivists and approving officials. */
export async function beritaAcara(ctx: AppContext, user: CurrentUser, disposalId: string) {
  requireDisposalReader(user);
  const d = ID_RE.test(disposalId) ? await repo.getDisposal(ctx.db, disposalId) : undefined;
  if (!d?.berita_acara_sha256) throw new NotFoundError();
  return { filename: `berita-acara-pemusnahan-${(d.number ?? disposalId).replace(/[^A-Za-z0-9.-]+/g, '_')}.pdf`, bytes: await ctx.store.get(d.berita_acara_sha256) };
}

export function disposalJson(d: repo.DisposalRow, records?: repo.DisposalRecordRow[]) {
  return {
    id: String(d.id), state: d.state, note: d.note, recordCount: d.record_count,
    proposedBy: d.proposed_by_name, proposedAt: d.proposed_at, decidedBy: d.decided_by_name, decidedAt: d.decided_at, decisionNote: d.decision_note,
    executedAt: d.executed_at, number: d.number, beritaAcaraSha256: d.berita_acara_sha256,
    ...(records ? { records: records.map((r) => ({ id: String(r.id), number: r.number, recordDate: r.record_date, subject: r.subject, classificationCode: r.classification_code, retentionUntil: r.retention_until, held: r.held, destroyedAt: r.destroyed_at, destroyedSha256: r.destroyed_sha256 })) } : {}),
  };
}
