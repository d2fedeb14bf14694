// Who may see and act on a letter. Involvement comes first: the drafter, the
// signer, the reviewers in its chain (or their Plh./Plt.), and, once signed,
// its recipients. Beyond them the one access policy (archive/access.ts) decides
// by security class. Anyone else gets 404: a letter's existence is not revealed.
import type { Executor } from '../../platform/db/index.js';
import type { CurrentUser } from '../../platform/auth/current-user.js';
import type { Letter } from '../../platform/db/schema.js';
import { actingPositionIds } from '../approvals/service.js';
import { availableActions, type LetterActor, type LetterAction } from './state.js';
import * as repo from './repo.js';
import { loadViewer, mayView } from '../archive/access.js';

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
  let involved = capacities.size > 0 || awaitingMe;
  if (!involved) involved = await repo.isInvolvedReviewer(db, String(letter.id), user.id, acting);
  if (!involved && (letter.state === 'signed' || letter.state === 'dispatched')) {
    involved = await repo.isRecipient(db, String(letter.id), user.id, user.unitId, user.positionId);
  }
  const canView = involved || mayView(await loadViewer(db, user, { acting }), { type: 'letter', unitId: String(letter.unit_id), securityClass: letter.security_class, state: letter.state });
  const actions = availableActions(letter.state, capacities).filter((a) => a !== 'approve_last' && a !== 'submit_direct' && a !== 'dispatch');
  return { canView, capacities, actions };
}
