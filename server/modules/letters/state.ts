// The letter's life as one table (DESIGN.md section 3): (state, action, who may,
// next state). The service looks a transition up here before acting, the
// repository updates `WHERE state = from` so two concurrent actions cannot
// both win, and the tests read the same table.
export const LETTER_STATES = ['draft', 'in_review', 'returned', 'approved', 'signed', 'dispatched', 'cancelled'] as const;
export type LetterState = (typeof LETTER_STATES)[number];

/**
 * Who may take an action, relative to the letter:
 * drafter: the konseptor who owns it; reviewer: whoever may act for the current
 * approval step's position (its holder or a Plh./Plt.); signer: the chosen
 * penandatangan (or their Plh./Plt.); system: the application itself.
 */
export type LetterActor = 'drafter' | 'reviewer' | 'signer' | 'system';

export type LetterAction =
  | 'edit' // save a new version of the content
  | 'submit' // send up the chain (first round or after a return)
  | 'submit_direct' // no reviewers between drafter and signer: straight to the signer
  | 'withdraw' // the drafter takes it back before anyone acted in this round
  | 'approve' // paraf, more reviewers follow
  | 'approve_last' // paraf of the last reviewer: now it waits for the signer
  | 'return' // back to the drafter with a note
  | 'sign'
  | 'dispatch'
  | 'cancel';

export interface Transition {
  from: LetterState;
  action: LetterAction;
  who: LetterActor;
  to: LetterState;
}

export const TRANSITIONS: readonly Transition[] = [
  { from: 'draft', action: 'edit', who: 'drafter', to: 'draft' },
  { from: 'returned', action: 'edit', who: 'drafter', to: 'returned' },
  { from: 'draft', action: 'submit', who: 'drafter', to: 'in_review' },
  { from: 'returned', action: 'submit', who: 'drafter', to: 'in_review' },
  { from: 'draft', action: 'submit_direct', who: 'drafter', to: 'approved' },
  { from: 'returned', action: 'submit_direct', who: 'drafter', to: 'approved' },
  { from: 'in_review', action: 'withdraw', who: 'drafter', to: 'draft' },
  { from: 'in_review', action: 'approve', who: 'reviewer', to: 'in_review' },
  { from: 'in_review', action: 'approve_last', who: 'reviewer', to: 'approved' },
  { from: 'in_review', action: 'return', who: 'reviewer', to: 'returned' },
  { from: 'approved', action: 'return', who: 'signer', to: 'returned' },
  { from: 'approved', action: 'sign', who: 'signer', to: 'signed' },
  { from: 'signed', action: 'dispatch', who: 'system', to: 'dispatched' },
  { from: 'draft', action: 'cancel', who: 'drafter', to: 'cancelled' },
  { from: 'returned', action: 'cancel', who: 'drafter', to: 'cancelled' },
];

export function findTransition(from: string, action: LetterAction): Transition | undefined {
  return TRANSITIONS.find((t) => t.from === from && t.action === action);
}

/** The actions someone in these capacities could take on a letter in this state. */
export function availableActions(state: string, capacities: ReadonlySet<LetterActor>): LetterAction[] {
  return TRANSITIONS.filter((t) => t.from === state && capacities.has(t.who)).map((t) => t.action);
}

export const EDITABLE_STATES: readonly LetterState[] = TRANSITIONS.filter((t) => t.action === 'edit').map((t) => t.from);
