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

/**
 * A refusal about one field. `key` is a message key: the error handler
 * translates it for the API, and forms show it next to the field.
 */
export function fieldError(field: string, key: string, params: Record<string, string | number> = {}): ValidationError {
  return new ValidationError(key, params, [{ field, message: key, params }]);
}
