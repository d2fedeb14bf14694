// Approval chains (paraf hierarki): which positions must initial a letter, in
// order, and whether a given user may act for a step (as holder, or as the
// Plh./Plt. of an absent holder).
import type { Executor } from '../../platform/db/index.js';
import type { CurrentUser } from '../../platform/auth/current-user.js';
import { ValidationError } from '../../platform/http/errors.js';
import { superiorChain, activeDelegationsOf, getPosition } from '../org/hierarchy.js';
import * as repo from './repo.js';

export interface ChainPlanInput {
  kindCode: string;
  unitId: string;
  drafterPositionId: string | null;
  signerPositionId: string;
  /** Reviewers the drafter adds, by position id, where the template allows it. */
  extraPositionIds?: string[];
}

export interface PlannedStep {
  positionId: string;
  addedByDrafter: boolean;
}

/**
 * The default chain is every position between the drafter's and the signer's,
 * bottom up. When the signer is outside the drafter's line (another agency),
 * the drafter's own superiors below the common superior review it first. An
 * admin template for the kind and/or unit replaces the default.
 */
export async function planChain(db: Executor, input: ChainPlanInput): Promise<PlannedStep[]> {
  const template = await repo.findTemplate(db, input.kindCode, input.unitId);
  let base: string[];
  if (template) {
    base = template.position_ids.map(String);
  } else if (!input.drafterPositionId) {
    base = [];
  } else {
    const up = (await superiorChain(db, input.drafterPositionId)).slice(1).map((p) => p.id);
    const signerAt = up.indexOf(input.signerPositionId);
    if (signerAt >= 0) base = up.slice(0, signerAt);
    else {
      const signerLine = new Set((await superiorChain(db, input.signerPositionId)).map((p) => p.id));
      const common = up.findIndex((id) => signerLine.has(id));
      base = common >= 0 ? up.slice(0, common) : up.slice(0, 3);
    }
  }
  base = base.filter((id) => id !== input.signerPositionId && id !== input.drafterPositionId);
  const extra = (input.extraPositionIds ?? []).filter((id) => !base.includes(id) && id !== input.signerPositionId && id !== input.drafterPositionId);
  if (extra.length && template && !template.allow_additional) throw new ValidationError('letters.extra_reviewers_not_allowed');
  for (const id of extra) {
    const p = await getPosition(db, id);
    if (!p || !p.active) throw new ValidationError('letters.unknown_reviewer');
  }
  return [...base.map((positionId) => ({ positionId, addedByDrafter: false })), ...[...new Set(extra)].map((positionId) => ({ positionId, addedByDrafter: true }))];
}

export interface ActingCapacity {
  actingAs: 'self' | 'plh' | 'plt';
  /** The holder the acting official stands in for, when there is one. */
  onBehalfOfId: string | null;
}

/** May this user act for this position now: as its holder, or as its Plh./Plt.? */
export async function capacityFor(db: Executor, user: CurrentUser, positionId: string): Promise<ActingCapacity | null> {
  if (user.positionId === positionId) return { actingAs: 'self', onBehalfOfId: null };
  const acting = (await activeDelegationsOf(db, user.id, ['plh', 'plt'])).find((d) => d.principalPositionId === positionId);
  if (!acting) return null;
  const holder = await db.selectFrom('users').select('id').where('position_id', '=', positionId).where('active', '=', true).orderBy('id').executeTakeFirst();
  return { actingAs: acting.kind as 'plh' | 'plt', onBehalfOfId: holder ? String(holder.id) : null };
}

/** Positions a user can act for today: their own plus those they are Plh./Plt. of. */
export async function actingPositionIds(db: Executor, user: CurrentUser): Promise<string[]> {
  const acting = await activeDelegationsOf(db, user.id, ['plh', 'plt']);
  return [...new Set([...(user.positionId ? [user.positionId] : []), ...acting.map((a) => a.principalPositionId)])];
}
