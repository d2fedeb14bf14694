// Accounts: signing in (with lock-out and second factor), passwords, TOTP
// enrolment, personal API tokens. Every outcome that matters is audited in the
// same transaction as the change it records.
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { Executor } from '../../platform/db/index.js';
import type { AppContext } from '../../platform/context.js';
import { appendAudit } from '../../platform/audit/index.js';
import { actorOf, type CurrentUser } from '../../platform/auth/current-user.js';
import { hashPassword, verifyPassword, dummyVerify, PASSWORD_MIN, PASSWORD_MAX } from '../../platform/auth/passwords.js';
import { newTokenSecret, hashToken, looksLikeToken } from '../../platform/auth/api-tokens.js';
import { can } from '../../platform/auth/permissions.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../../platform/http/errors.js';
import { parseInput } from '../../platform/http/validate.js';
import * as repo from './repo.js';
import { endSessionsOf } from '../../platform/auth/sessions.js';

export type LoginOutcome =
  | { ok: true; userId: string }
  | { ok: false; reason: 'invalid' | 'locked' | 'otp_required' | 'otp_invalid'; lockedUntil?: Date };

/** Checks credentials. Failures never say whether the user exists. */
export async function authenticate(
  ctx: AppContext,
  input: { login: string; password: string; otp?: string },
  ip: string | null,
): Promise<LoginOutcome> {
  const login = input.login.trim().slice(0, 100);
  const password = input.password.slice(0, PASSWORD_MAX);
  return ctx.db.transaction().execute(async (trx) => {
    const u = await repo.findUserForLogin(trx, login);
    const fail = async (reason: 'invalid' | 'otp_invalid' | 'otp_required', userId: string | null) => {
      await appendAudit(trx, { id: userId, name: login, ip }, { action: 'auth.login_failed', objectType: 'user', objectId: userId ?? undefined, details: { reason } });
      if (userId && reason !== 'otp_required') {
        const r = await repo.recordFailure(trx, userId, ctx.config.LOGIN_MAX_FAILURES, ctx.config.LOGIN_LOCK_MINUTES);
        if (r.locked_until && r.failed_logins === ctx.config.LOGIN_MAX_FAILURES) {
          await appendAudit(trx, { id: userId, name: login, ip }, { action: 'auth.locked', objectType: 'user', objectId: userId, details: { until: r.locked_until.toISOString() } });
        }
      }
      return { ok: false as const, reason };
    };
    if (!u) {
      await dummyVerify(password);
      return fail('invalid', null);
    }
    if (u.locked_until && u.locked_until > new Date()) {
      await appendAudit(trx, { id: String(u.id), name: u.username, ip }, { action: 'auth.login_failed', objectType: 'user', objectId: u.id, details: { reason: 'locked' } });
      return { ok: false as const, reason: 'locked' as const, lockedUntil: u.locked_until };
    }
    if (!(await verifyPassword(u.password_hash, password)) || !u.active) return fail('invalid', String(u.id));
    if (u.totp_enabled && u.totp_secret) {
      if (!input.otp) return fail('otp_required', String(u.id));
      if (!(await consumeOtp(ctx, trx, String(u.id), u.totp_secret, input.otp))) return fail('otp_invalid', String(u.id));
    }
    await repo.recordSuccess(trx, String(u.id));
    await appendAudit(trx, { id: String(u.id), name: u.username, ip }, { action: 'auth.login', objectType: 'user', objectId: u.id });
    return { ok: true as const, userId: String(u.id) };
  });
}

export async function recordLogout(ctx: AppContext, user: CurrentUser) {
  await ctx.db.transaction().execute((trx) => appendAudit(trx, actorOf(user), { action: 'auth.logout', objectType: 'user', objectId: user.id }));
}

const passwordSchema = z.string().min(PASSWORD_MIN).max(PASSWORD_MAX);

/** Changes one's own password; every other browser session of the user ends (a stolen one too). */
export async function changePassword(ctx: AppContext, user: CurrentUser, input: unknown, currentSessionId?: string) {
  const p = parseInput(
    z.object({ current: z.string().max(PASSWORD_MAX), next: passwordSchema, confirm: z.string() }),
    input,
  );
  if (p.next !== p.confirm) throw new ValidationError('account.password_mismatch');
  if (p.next.toLowerCase() === user.username.toLowerCase()) throw new ValidationError('account.password_is_username');
  const hash = await hashPassword(p.next);
  await ctx.db.transaction().execute(async (trx) => {
    const cur = await repo.getPasswordHash(trx, user.id);
    if (!(await verifyPassword(cur.password_hash, p.current))) throw new ValidationError('account.password_wrong');
    await repo.setPassword(trx, user.id, hash, false);
    await endSessionsOf(trx, user.id, currentSessionId);
    await appendAudit(trx, actorOf(user), { action: 'auth.password_changed', objectType: 'user', objectId: user.id, details: { otherSessionsEnded: true } });
  });
}

// ---- second factor (TOTP, RFC 6238) ----

function totpFor(secretBase32: string, label = 'user') {
  return new TOTP({ issuer: 'TNDE', label, algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secretBase32) });
}

const TOTP_PERIOD_MS = 30_000;

/** The time step the code belongs to (one step of clock drift either way), or null. */
function otpStep(ctx: AppContext, sealed: string, otp: string): number | null {
  if (!/^\d{6}$/.test(otp.trim())) return null;
  const now = Date.now();
  const delta = totpFor(ctx.secrets.open(sealed)).validate({ token: otp.trim(), window: 1, timestamp: now });
  return delta === null ? null : Math.floor(now / TOTP_PERIOD_MS) + delta;
}

/** Checks a code and uses it up: the same code (or an older one) is refused afterwards. */
async function consumeOtp(ctx: AppContext, trx: Executor, userId: string, sealed: string, otp: string): Promise<boolean> {
  const step = otpStep(ctx, sealed, otp);
  return step !== null && (await repo.advanceTotpStep(trx, userId, step));
}

/** Starts enrolment: a new secret is kept (not yet enabled) and shown as a QR code. */
export async function beginTotpEnrolment(ctx: AppContext, user: CurrentUser) {
  // Replacing the secret turns the second factor off: that needs the password (disableTotp).
  if (user.totpEnabled) throw new ValidationError('account.totp_already_on');
  const secret = new Secret({ size: 20 });
  await repo.setTotp(ctx.db, user.id, ctx.secrets.seal(secret.base32), false);
  const uri = totpFor(secret.base32, user.username).toString();
  return { secret: secret.base32, uri, qrDataUrl: await QRCode.toDataURL(uri, { margin: 1, width: 220 }) };
}

export async function confirmTotpEnrolment(ctx: AppContext, user: CurrentUser, otp: unknown) {
  const code = parseInput(z.string().trim().regex(/^\d{6}$/), otp);
  await ctx.db.transaction().execute(async (trx) => {
    const t = await repo.getTotp(trx, user.id);
    if (!t.totp_secret || t.totp_enabled) throw new ValidationError('account.totp_not_pending');
    if (!(await consumeOtp(ctx, trx, user.id, t.totp_secret, code))) throw new ValidationError('account.otp_invalid');
    await repo.setTotp(trx, user.id, t.totp_secret, true);
    await appendAudit(trx, actorOf(user), { action: 'auth.totp_enabled', objectType: 'user', objectId: user.id });
  });
}

export async function disableTotp(ctx: AppContext, user: CurrentUser, input: unknown) {
  const p = parseInput(z.object({ password: z.string().max(PASSWORD_MAX) }), input);
  await ctx.db.transaction().execute(async (trx) => {
    const cur = await repo.getPasswordHash(trx, user.id);
    if (!(await verifyPassword(cur.password_hash, p.password))) throw new ValidationError('account.password_wrong');
    await repo.setTotp(trx, user.id, null, false);
    await appendAudit(trx, actorOf(user), { action: 'auth.totp_disabled', objectType: 'user', objectId: user.id });
  });
}

/** Validates and uses up a TOTP code for a user (the signing step asks for it too). */
export async function verifyUserOtp(ctx: AppContext, userId: string, otp: string): Promise<boolean> {
  return ctx.db.transaction().execute(async (trx) => {
    const t = await repo.getTotp(trx, userId);
    return !!(t.totp_enabled && t.totp_secret && (await consumeOtp(ctx, trx, userId, t.totp_secret, otp)));
  });
}

// ---- personal API tokens ----

const tokenNameSchema = z.string().trim().min(1).max(100);

export async function createApiToken(ctx: AppContext, user: Pick<CurrentUser, 'id' | 'username' | 'roles'> & { ip?: string | null }, name: unknown) {
  if (!can(user, 'token.own')) throw new ForbiddenError();
  const n = parseInput(tokenNameSchema, name);
  const secret = newTokenSecret();
  return ctx.db.transaction().execute(async (trx) => {
    const t = await repo.insertToken(trx, { userId: user.id, name: n, hash: secret.hash, prefix: secret.prefix });
    await appendAudit(trx, { id: user.id, name: user.username, ip: user.ip ?? null }, { action: 'token.created', objectType: 'api_token', objectId: t.id, details: { name: n, prefix: secret.prefix } });
    return { id: t.id, name: n, token: secret.token, prefix: secret.prefix };
  });
}

export function listApiTokens(ctx: AppContext, user: CurrentUser) {
  return repo.listTokens(ctx.db, user.id);
}

export async function revokeApiToken(ctx: AppContext, user: CurrentUser, tokenId: string) {
  if (!/^\d{1,18}$/.test(tokenId)) throw new NotFoundError();
  await ctx.db.transaction().execute(async (trx) => {
    const r = await repo.revokeToken(trx, user.id, tokenId);
    if (!r) throw new NotFoundError();
    await appendAudit(trx, actorOf(user), { action: 'token.revoked', objectType: 'api_token', objectId: tokenId, details: { name: r.name } });
  });
}

/** The user id a bearer token stands for, or undefined. */
export async function resolveApiToken(ctx: AppContext, token: string): Promise<string | undefined> {
  if (!looksLikeToken(token)) return undefined;
  const t = await repo.findActiveToken(ctx.db, hashToken(token));
  if (!t) return undefined;
  // Write last-use at most once a minute per token.
  if (!t.last_used_at || Date.now() - new Date(t.last_used_at).getTime() > 60_000) await repo.touchToken(ctx.db, String(t.id));
  return String(t.user_id);
}
