// Legal holds (penahanan arsip): placed and lifted by an archivist with a
// reason, both audited with the actor and the time. A held record cannot be
// destroyed: disposal.ts refuses it at the proposal and again at destruction.
import { z } from 'zod';
import type { AppContext } from '../../platform/context.js';
import { appendAudit } from '../../platform/audit/index.js';
import { actorOf, type CurrentUser } from '../../platform/auth/current-user.js';
import { ConflictError } from '../../platform/http/errors.js';
import { parseInput } from '../../platform/http/validate.js';
import { loadRecord, recordScope, requireArchivist } from './service.js';
import * as repo from './repo.js';

const reasonSchema = z.object({
  reason: z.string({ error: 'archive.hold.reason_required' }).trim().min(1, 'archive.hold.reason_required').max(2000, 'archive.hold.reason_required'),
});

export async function placeHold(ctx: Pick<AppContext, 'db'>, user: CurrentUser, recordId: string, input: unknown): Promise<string> {
  const { reason } = parseInput(reasonSchema, input);
  const rec = await loadRecord(ctx.db, user, recordId);
  if (rec.destroyed_at) throw new ConflictError('archive.hold.destroyed');
  return ctx.db.transaction().execute(async (trx) => {
    await repo.lockRecords(trx, [recordId]);
    if (await repo.activeHold(trx, recordId)) throw new ConflictError('archive.hold.already');
    const row = await trx.insertInto('legal_holds').values({ record_id: recordId, reason, placed_by: user.id }).returning('id').executeTakeFirstOrThrow();
    await appendAudit(trx, actorOf(user), { action: 'record.hold_placed', objectType: 'record', objectId: recordId, details: { holdId: String(row.id), reason } });
    return String(row.id);
  });
}

export async function liftHold(ctx: Pick<AppContext, 'db'>, user: CurrentUser, recordId: string, input: unknown, now = new Date()): Promise<void> {
  const { reason } = parseInput(reasonSchema, input);
  await loadRecord(ctx.db, user, recordId);
  await ctx.db.transaction().execute(async (trx) => {
    await repo.lockRecords(trx, [recordId]);
    const hold = await repo.activeHold(trx, recordId);
    if (!hold) throw new ConflictError('archive.hold.none');
    await trx.updateTable('legal_holds').set({ lifted_at: now, lifted_by: user.id, lift_reason: reason }).where('id', '=', hold.id).execute();
    await appendAudit(trx, actorOf(user), { action: 'record.hold_lifted', objectType: 'record', objectId: recordId, details: { holdId: String(hold.id), reason, placedReason: hold.reason } });
  });
}

/** Records under hold now, most recent hold first. */
export async function listHolds(ctx: Pick<AppContext, 'db'>, user: CurrentUser, page: { size: number; offset: number }) {
  requireArchivist(user);
  const base = repo.heldRecordsQuery(ctx.db, await recordScope(ctx.db, user));
  const [items, total] = await Promise.all([
    base
      .select(['h.id as hold_id', 'h.reason', 'h.placed_at', 'p.name as placed_by_name', 'r.id', 'r.letter_id', 'r.incoming_letter_id', 'r.number', 'r.subject', 'r.classification_code'])
      .orderBy('h.placed_at', 'desc')
      .orderBy('h.id', 'desc')
      .limit(page.size)
      .offset(page.offset)
      .execute(),
    base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items, total: Number(total.n) };
}
