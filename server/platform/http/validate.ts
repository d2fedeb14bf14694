// Validation at the edge: a zod schema per input, failures become a
// ValidationError whose details name each bad field.
import type { z } from 'zod';
import { ValidationError } from './errors.js';

export function parseInput<T extends z.ZodTypeAny>(schema: T, input: unknown): z.infer<T> {
  const r = schema.safeParse(input);
  if (!r.success) {
    const fields = r.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
    throw new ValidationError('error.validation', {}, fields);
  }
  return r.data;
}
