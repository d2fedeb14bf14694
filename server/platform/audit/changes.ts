// What an edit changed, field by field, for the audit entry ({from, to}) and
// for the UPDATE (column -> new value). Fields left out of the input are kept.
export interface FieldChanges {
  changes: Record<string, { from: unknown; to: unknown }>;
  patch: Record<string, unknown>;
}

export function fieldChanges<F extends string, C extends string>(
  columns: Record<F, C>,
  input: Partial<Record<F, unknown>>,
  before: Record<C, unknown>,
): FieldChanges {
  const changes: FieldChanges['changes'] = {};
  const patch: FieldChanges['patch'] = {};
  for (const [field, column] of Object.entries(columns) as [F, C][]) {
    const to = input[field];
    if (to === undefined || to === before[column]) continue;
    changes[field] = { from: before[column], to };
    patch[column] = to;
  }
  return { changes, patch };
}
