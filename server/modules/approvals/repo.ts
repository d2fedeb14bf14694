// SQL for approval steps and chain templates.
import { sql } from 'kysely';
import type { Executor } from '../../platform/db/index.js';

/** The most specific active template: kind and unit, then unit, then kind. */
export function findTemplate(db: Executor, kindCode: string, unitId: string) {
  return db
    .selectFrom('approval_templates')
    .selectAll()
    .where('active', '=', true)
    .where((eb) =>
      eb.or([
        eb.and([eb('kind_code', '=', kindCode), eb('unit_id', '=', unitId)]),
        eb.and([eb('kind_code', 'is', null), eb('unit_id', '=', unitId)]),
        eb.and([eb('kind_code', '=', kindCode), eb('unit_id', 'is', null)]),
      ]),
    )
    .orderBy(sql`(kind_code IS NOT NULL AND unit_id IS NOT NULL)`, 'desc')
    .orderBy(sql`(unit_id IS NOT NULL)`, 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst();
}

export async function insertSteps(db: Executor, letterId: string, round: number, steps: { positionId: string; addedByDrafter: boolean }[]) {
  if (!steps.length) return;
  await db
    .insertInto('approval_steps')
    .values(steps.map((s, i) => ({ letter_id: letterId, round, ord: i + 1, position_id: s.positionId, added_by_drafter: s.addedByDrafter })))
    .execute();
}

export function stepsOf(db: Executor, letterId: string) {
  return db
    .selectFrom('approval_steps as s')
    .innerJoin('positions as p', 'p.id', 's.position_id')
    .leftJoin('users as a', 'a.id', 's.actor_id')
    .leftJoin('users as b', 'b.id', 's.on_behalf_of_id')
    .select([
      's.id', 's.round', 's.ord', 's.position_id', 's.added_by_drafter', 's.action', 's.actor_id', 's.acting_as', 's.version', 's.version_sha256', 's.note', 's.acted_at',
      'p.title as position_title', 'a.name as actor_name', 'a.username as actor_username', 'b.name as on_behalf_of_name',
    ])
    .where('s.letter_id', '=', letterId)
    .orderBy('s.round')
    .orderBy('s.ord')
    .execute();
}

/** The first step of the round nobody has acted on yet. */
export function currentStep(db: Executor, letterId: string, round: number) {
  return db
    .selectFrom('approval_steps')
    .selectAll()
    .where('letter_id', '=', letterId)
    .where('round', '=', round)
    .where('action', 'is', null)
    .orderBy('ord')
    .limit(1)
    .executeTakeFirst();
}

export async function countPendingAfter(db: Executor, letterId: string, round: number, ord: number) {
  const r = await db
    .selectFrom('approval_steps')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('letter_id', '=', letterId)
    .where('round', '=', round)
    .where('ord', '>', ord)
    .where('action', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function recordStepAction(
  db: Executor,
  stepId: string,
  a: { action: 'approved' | 'returned'; actorId: string; actingAs: string; onBehalfOfId: string | null; version: number; sha256: string; note: string | null },
) {
  const r = await db
    .updateTable('approval_steps')
    .set({ action: a.action, actor_id: a.actorId, acting_as: a.actingAs as 'self', on_behalf_of_id: a.onBehalfOfId, version: a.version, version_sha256: a.sha256, note: a.note, acted_at: new Date() })
    .where('id', '=', stepId)
    .where('action', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Steps of a round that were never reached stay in history without an action; a new round starts fresh. */
export async function hasActedInRound(db: Executor, letterId: string, round: number) {
  const r = await db.selectFrom('approval_steps').select('id').where('letter_id', '=', letterId).where('round', '=', round).where('action', 'is not', null).executeTakeFirst();
  return !!r;
}

export async function deleteUnactedSteps(db: Executor, letterId: string, round: number) {
  await db.deleteFrom('approval_steps').where('letter_id', '=', letterId).where('round', '=', round).where('action', 'is', null).execute();
}
