// A received letter's life as one table (DESIGN.md section 3), like letters/state.ts:
// registered -> disposed (first disposisi) -> done (every disposisi done, or the
// unit head closes it). The repository updates `WHERE state = from`.
export const INCOMING_STATES = ['registered', 'disposed', 'done'] as const;
export type IncomingState = (typeof INCOMING_STATES)[number];

export type IncomingAction = 'dispose' | 'all_done' | 'close';

export const INCOMING_TRANSITIONS: readonly { from: IncomingState; action: IncomingAction; to: IncomingState }[] = [
  { from: 'registered', action: 'dispose', to: 'disposed' },
  { from: 'disposed', action: 'dispose', to: 'disposed' },
  { from: 'disposed', action: 'all_done', to: 'done' },
  { from: 'registered', action: 'close', to: 'done' },
  { from: 'disposed', action: 'close', to: 'done' },
];

export function nextIncomingState(from: string, action: IncomingAction): IncomingState | undefined {
  return INCOMING_TRANSITIONS.find((t) => t.from === from && t.action === action)?.to;
}

/** The standard disposisi instructions, in the order the form and the lembar disposisi list them. */
export const INSTRUCTIONS = ['tindak_lanjuti', 'pelajari', 'hadiri', 'untuk_diketahui', 'siapkan_jawaban', 'koordinasikan', 'arsipkan'] as const;
export type Instruction = (typeof INSTRUCTIONS)[number];
