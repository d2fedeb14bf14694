// Who may see and act on a letter. Involvement decides: the drafter, the
// signer, the reviewers in its chain (or their Plh./Plt.), and, once signed,
// its recipients. Anyone else gets 404: a letter's existence is not revealed.
import type { Executor } from '../../platform/db/index.js';
import type { CurrentUser } from '../../platform/auth/current-user.js';
import type { Letter } from '../../platform/db/schema.js';
import { actingPositionIds } from '../approvals/service.js';
import { availableActions, type LetterActor, type LetterAction } from './state.js';
import * as repo from './repo.js';

export interface LetterAccess {
  canView: boolean;
  capacities: Set<LetterActor>;
  actions: LetterAction[];
}

export async function accessTo(db: Executor, user: CurrentUser, letter: Letter): Promise<LetterAccess> {
  const capacities = new Set<LetterActor>();
  const acting = await actingPositionIds(db, user);
  if (String(letter.drafter_id) === user.id) capacities.add('drafter');
  const awaitingMe =
    (letter.awaiting_user_id !== null && String(letter.awaiting_user_id) === user.id) ||
    (letter.awaiting_position_id !== null && acting.includes(String(letter.awaiting_position_id)));
  if (letter.state === 'in_review' && awaitingMe) capacities.add('reviewer');
  // A Plh./Plt. of the signer's position may sign only once it is ready for signing.
  const isSigner = String(letter.signer_id) === user.id || (letter.state === 'approved' && acting.includes(String(letter.signer_position_id)));
  if (isSigner) capacities.add('signer');
  let canView = capacities.size > 0 || awaitingMe;
  if (!canView) canView = await repo.isInvolvedReviewer(db, String(letter.id), user.id, acting);
  if (!canView && (letter.state === 'signed' || letter.state === 'dispatched')) {
    canView = await repo.isRecipient(db, String(letter.id), user.id, user.unitId, user.positionId);
  }
  const actions = availableActions(letter.state, capacities).filter((a) => a !== 'approve_last' && a !== 'submit_direct' && a !== 'dispatch');
  return { canView, capacities, actions };
}

export const RESTRICTED_CLASSES = ['rahasia', 'sangat_rahasia'] as const;
export function isRestricted(securityClass: string): boolean {
  return (RESTRICTED_CLASSES as readonly string[]).includes(securityClass);
}
