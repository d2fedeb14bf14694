// Sign-in, sign-out and the profile page (password, second factor, API tokens).
import { Router, type Request, type Response, type NextFunction } from 'express';
import rateLimit from 'express-rate-limit';
import passport from 'passport';
import type { AppContext } from '../../platform/context.js';
import { requireUser, safeNext } from '../../platform/http/guards.js';
import { flash } from '../../platform/http/flash.js';
import { AppError, TooManyRequestsError } from '../../platform/http/errors.js';
import { toAppError } from '../../platform/http/error-handler.js';
import { PostgresRateLimitStore } from '../../platform/auth/rate-limit-store.js';
import { loadCurrentUser } from '../../platform/auth/current-user.js';
import * as account from './service.js';

export function accountPages(ctx: AppContext): Router {
  const r = Router();
  // Per client address, on top of the per-account lock-out in the service.
  const loginLimiter = rateLimit({
    windowMs: 15 * 60 * 1000,
    limit: 30,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    store: new PostgresRateLimitStore(ctx.db, 'login:'),
    handler: (_req, _res, next) => next(new TooManyRequestsError()),
  });

  r.get('/login', (req, res) => {
    if (req.user) return res.redirect(303, '/');
    res.render('account/login', { title: req.t('login.title'), next: safeNext(req.query.next), error: null, login: '', askOtp: false });
  });

  r.post('/login', loginLimiter, async (req, res, next) => {
    const login = String(req.body.username ?? '');
    const outcome = await account.authenticate(
      ctx,
      { login, password: String(req.body.password ?? ''), otp: req.body.otp ? String(req.body.otp) : undefined },
      req.ip ?? null,
    );
    const nextUrl = safeNext(req.body.next);
    if (!outcome.ok) {
      const error =
        outcome.reason === 'locked'
          ? req.t('login.locked', { until: outcome.lockedUntil!.toLocaleTimeString(req.locale === 'id' ? 'id-ID' : 'en-GB', { timeZone: 'Asia/Jakarta' }) })
          : req.t(`login.${outcome.reason}`);
      const status = outcome.reason === 'locked' ? 423 : 401;
      return res.status(status).render('account/login', {
        title: req.t('login.title'),
        next: nextUrl,
        error,
        login,
        askOtp: outcome.reason === 'otp_required' || outcome.reason === 'otp_invalid',
      });
    }
    const user = await loadCurrentUser(ctx.db, outcome.userId, 'session', req.ip ?? null);
    // passport >= 0.6 regenerates the session on login: a fixed session id cannot survive sign-in.
    req.login(user!, (err) => {
      if (err) return next(err);
      res.redirect(303, user!.mustChangePassword ? '/profile?must=1' : nextUrl);
    });
  });

  r.post('/logout', requireUser, async (req, res, next) => {
    await account.recordLogout(ctx, req.user!);
    req.logout((err) => {
      if (err) return next(err);
      req.session.destroy(() => {
        res.clearCookie('tnde.sid');
        res.redirect(303, '/login?bye=1');
      });
    });
  });

  r.get('/profile', requireUser, async (req, res) => {
    const tokens = await account.listApiTokens(ctx, req.user!);
    res.render('account/profile', { title: req.t('account.profile'), tokens, enrolment: null, mustChange: req.query.must === '1' });
  });

  // Each profile form re-renders the profile with the error in place, or redirects with a flash.
  const formAction = (fn: (req: Request) => Promise<unknown>, doneKey: string) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      await fn(req);
      flash(req, { kind: 'success', key: doneKey });
      res.redirect(303, '/profile');
    } catch (e) {
      const appErr = toAppError(e);
      if (!appErr || appErr.status !== 400) return next(e);
      flash(req, { kind: 'error', key: appErr.messageKey });
      res.redirect(303, '/profile');
    }
  };

  r.post('/profile/password', requireUser, formAction((req) => account.changePassword(ctx, req.user!, req.body, req.sessionID), 'account.password_changed'));

  r.post('/profile/totp/begin', requireUser, async (req, res) => {
    const enrolment = await account.beginTotpEnrolment(ctx, req.user!);
    const tokens = await account.listApiTokens(ctx, req.user!);
    res.render('account/profile', { title: req.t('account.profile'), tokens, enrolment, mustChange: false });
  });
  r.post('/profile/totp/confirm', requireUser, formAction((req) => account.confirmTotpEnrolment(ctx, req.user!, req.body.otp), 'account.totp_enabled'));
  r.post('/profile/totp/disable', requireUser, formAction((req) => account.disableTotp(ctx, req.user!, req.body), 'account.totp_disabled'));

  r.post('/profile/tokens', requireUser, async (req, res, next) => {
    try {
      const t = await account.createApiToken(ctx, req.user!, req.body.name);
      flash(req, { kind: 'success', key: 'account.token_created', secret: t.token });
      res.redirect(303, '/profile#tokens');
    } catch (e) {
      const appErr = toAppError(e);
      if (!(appErr instanceof AppError) || appErr.status !== 400) return next(e);
      flash(req, { kind: 'error', key: appErr.messageKey });
      res.redirect(303, '/profile#tokens');
    }
  });
  r.post('/profile/tokens/:id/revoke', requireUser, async (req, res) => {
    await account.revokeApiToken(ctx, req.user!, String(req.params.id));
    flash(req, { kind: 'success', key: 'account.token_revoked' });
    res.redirect(303, '/profile#tokens');
  });
  return r;
}

export function accountApi(ctx: AppContext): Router {
  const r = Router();
  r.get('/me', requireUser, (req, res) => {
    const u = req.user!;
    res.json({
      id: u.id,
      username: u.username,
      name: u.name,
      nip: u.nip,
      roles: u.roles,
      position: u.positionId ? { id: u.positionId, title: u.positionTitle } : null,
      unit: u.unitId ? { id: u.unitId, code: u.unitCode, name: u.unitName } : null,
    });
  });
  r.get('/tokens', requireUser, async (req, res) => {
    const tokens = await account.listApiTokens(ctx, req.user!);
    res.json({ items: tokens.map((t) => ({ id: String(t.id), name: t.name, prefix: t.prefix, createdAt: t.created_at, lastUsedAt: t.last_used_at, revokedAt: t.revoked_at })) });
  });
  r.post('/tokens', requireUser, async (req, res) => {
    const t = await account.createApiToken(ctx, req.user!, req.body?.name);
    res.status(201).json(t);
  });
  r.delete('/tokens/:id', requireUser, async (req, res) => {
    await account.revokeApiToken(ctx, req.user!, String(req.params.id));
    res.status(204).end();
  });
  return r;
}
