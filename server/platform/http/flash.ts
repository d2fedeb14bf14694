// One-shot messages across a redirect (post/redirect/get), kept in the session.
import type { Request, Response, NextFunction } from 'express';

export type FlashKind = 'success' | 'error' | 'info';
export interface Flash {
  kind: FlashKind;
  key: string;
  params?: Record<string, string | number>;
  /** Raw text shown once (e.g. a new API token); always rendered escaped. */
  secret?: string;
}

export function flash(req: Request, f: Flash) {
  if (!req.session) return;
  (req.session.flash ??= []).push(f);
}

export function flashMiddleware(req: Request, res: Response, next: NextFunction) {
  res.locals.flashes = req.session?.flash ?? [];
  if (req.session?.flash) delete req.session.flash;
  next();
}

declare module 'express-session' {
  interface SessionData {
    flash?: Flash[];
  }
}
