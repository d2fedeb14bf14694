// Route guards. They only ask "who is this?"; "may they?" is the services'
// question (through `can` and each module's policy).
import type { Request, Response, NextFunction } from 'express';
import { can, type Permission } from '../auth/permissions.js';
import { ForbiddenError, UnauthorizedError } from './errors.js';

export function isApi(req: Request): boolean {
  return req.originalUrl.startsWith('/api/');
}

export function requireUser(req: Request, res: Response, next: NextFunction) {
  if (req.user) return next();
  if (isApi(req)) return next(new UnauthorizedError());
  const nextUrl = req.method === 'GET' ? `?next=${encodeURIComponent(req.originalUrl)}` : '';
  res.redirect(303, `/login${nextUrl}`);
}

export function requirePermission(permission: Permission) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!req.user) return requireUser(req, res, next);
    if (!can(req.user, permission)) return next(new ForbiddenError());
    next();
  };
}

/** A safe local redirect target: only paths on this site. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : '/';
}

/** Paging parameters from the query string, clamped. */
export function paging(req: Request, defaultSize = 25) {
  const page = Math.max(1, Math.min(100_000, Number.parseInt(String(req.query.page ?? '1'), 10) || 1));
  const size = Math.max(1, Math.min(100, Number.parseInt(String(req.query.size ?? defaultSize), 10) || defaultSize));
  return { page, size, offset: (page - 1) * size };
}
