// A refused form is shown again with its input kept: these turn the refusal
// into the page's overall message and one message per bad field.
import type { Translate } from '../i18n/index.js';
import { toAppError } from './error-handler.js';
import type { AppError } from './errors.js';

/** Bad input (400) or a conflict (409) is shown on the form; anything else goes on to the error handler. */
export function formRefusal(e: unknown): AppError {
  const appErr = toAppError(e);
  if (!appErr || (appErr.status !== 400 && appErr.status !== 409)) throw e;
  return appErr;
}

/** The form's overall message and the first message for each field (`positions.2` marks `positions`). */
export function formErrors(err: AppError, t: Translate): { error: string; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  for (const d of Array.isArray(err.details) ? (err.details as { field?: unknown; message?: unknown; params?: Record<string, string | number> }[]) : []) {
    const field = String(d.field ?? '').split('.')[0];
    if (!field || errors[field] || typeof d.message !== 'string') continue;
    errors[field] = t(d.message, d.params);
  }
  return { error: t(err.messageKey, err.params), errors };
}
