// Turns every failure into the right status and a message in the user's
// language: a page for the browser, {"error": {code, message}} for the API.
import type { Request, Response, NextFunction } from 'express';
import type { Logger } from 'pino';
import { AppError, ForbiddenError, NotFoundError, PayloadTooLargeError, ValidationError } from './errors.js';
import { isApi } from './guards.js';

export function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  const e = err as { type?: string; code?: string; status?: number };
  if (e?.type === 'entity.too.large' || e?.code === 'LIMIT_FILE_SIZE' || e?.code === 'LIMIT_FIELD_VALUE') return new PayloadTooLargeError();
  if (e?.type === 'entity.parse.failed' || e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return new ValidationError('error.malformed');
  }
  if (e?.code === 'EBADCSRFTOKEN') return new AppError(403, 'csrf_invalid', 'error.csrf');
  if (e?.code?.startsWith?.('LIMIT_')) return new ValidationError('error.malformed');
  return undefined;
}

export function notFoundHandler(_req: Request, _res: Response, next: NextFunction) {
  next(new NotFoundError());
}

export function errorHandler(logger: Logger, onSecurityEvent: (req: Request, err: AppError) => Promise<void>) {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  return async (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let appErr = toAppError(err);
    if (!appErr) {
      logger.error({ err, path: req.path, method: req.method }, 'unhandled error');
      appErr = new AppError(500, 'internal_error', 'error.internal');
    }
    if (appErr.status === 403 || appErr.code === 'csrf_invalid') {
      await onSecurityEvent(req, appErr).catch((e) => logger.error({ err: e }, 'could not audit security event'));
    }
    const t = req.t ?? ((k: string) => k);
    const message = t(appErr.messageKey, appErr.params);
    const details = localiseDetails(appErr.details, t);
    if (res.headersSent) return;
    res.status(appErr.status);
    if (isApi(req) || req.accepts(['html', 'json']) === 'json') {
      res.json({ error: { code: appErr.code, message, ...(details ? { details } : {}) } });
      return;
    }
    res.render('errors/error', { title: t('error.title'), status: appErr.status, message, details });
  };
}

/**
 * A field's message may be a message key (with optional params), so the API
 * answers in the caller's language; plain text passes through unchanged.
 */
export function localiseDetails(details: unknown, t: (key: string, params?: Record<string, string | number>) => string): unknown {
  if (!Array.isArray(details)) return details;
  return details.map((d) => {
    if (!d || typeof d !== 'object' || typeof d.message !== 'string') return d;
    const { params, ...rest } = d as { message: string; params?: Record<string, string | number> };
    return { ...rest, message: t(rest.message, params) };
  });
}

export { ForbiddenError };
