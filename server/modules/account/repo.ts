// SQL for accounts: sign-in bookkeeping, passwords, second factor, API tokens.
import { sql } from 'kysely';
import type { Executor } from '../../platform/db/index.js';

export function findUserForLogin(db: Executor, login: string) {
  // Username (case-insensitive) or NIP.
  return db
    .selectFrom('users')
    .select(['id', 'username', 'password_hash', 'active', 'failed_logins', 'locked_until', 'totp_enabled', 'totp_secret'])
    .where((eb) => eb.or([eb('username', '=', login.toLowerCase()), eb('nip', '=', login)]))
    .executeTakeFirst();
}

export async function recordFailure(db: Executor, userId: string, maxFailures: number, lockMinutes: number) {
  const r = await sql<{ failed_logins: number; locked_until: Date | null }>`
    UPDATE users SET
      failed_logins = failed_logins + 1,
      locked_until = CASE WHEN failed_logins + 1 >= ${maxFailures}
                          THEN now() + ${lockMinutes + ' minutes'}::interval ELSE locked_until END
    WHERE id = ${userId}
    RETURNING failed_logins, locked_until`.execute(db);
  return r.rows[0];
}

export async function recordSuccess(db: Executor, userId: string) {
  await db.updateTable('users').set({ failed_logins: 0, locked_until: null }).where('id', '=', userId).execute();
}

export function getPasswordHash(db: Executor, userId: string) {
  return db.selectFrom('users').select(['password_hash', 'username']).where('id', '=', userId).executeTakeFirstOrThrow();
}

export async function setPassword(db: Executor, userId: string, hash: string, mustChange: boolean) {
  await db
    .updateTable('users')
    .set({ password_hash: hash, must_change_password: mustChange, password_changed_at: new Date(), updated_at: new Date(), failed_logins: 0, locked_until: null })
    .where('id', '=', userId)
    .execute();
}

export function getTotp(db: Executor, userId: string) {
  return db.selectFrom('users').select(['totp_secret', 'totp_enabled']).where('id', '=', userId).executeTakeFirstOrThrow();
}

export async function setTotp(db: Executor, userId: string, sealedSecret: string | null, enabled: boolean) {
  await db.updateTable('users').set({ totp_secret: sealedSecret, totp_enabled: enabled, updated_at: new Date() }).where('id', '=', userId).execute();
}

export async function insertToken(db: Executor, t: { userId: string; name: string; hash: string; prefix: string }) {
  const r = await db
    .insertInto('api_tokens')
    .values({ user_id: t.userId, name: t.name, token_hash: t.hash, prefix: t.prefix })
    .returning(['id', 'created_at'])
    .executeTakeFirstOrThrow();
  return { id: String(r.id), createdAt: r.created_at };
}

export function listTokens(db: Executor, userId: string) {
  return db
    .selectFrom('api_tokens')
    .select(['id', 'name', 'prefix', 'created_at', 'last_used_at', 'revoked_at'])
    .where('user_id', '=', userId)
    .orderBy('id', 'desc')
    .execute();
}

/** Revokes only a token of this user: another user's id simply matches nothing. */
export async function revokeToken(db: Executor, userId: string, tokenId: string) {
  const r = await db
    .updateTable('api_tokens')
    .set({ revoked_at: new Date() })
    .where('id', '=', tokenId)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .returning(['id', 'name'])
    .executeTakeFirst();
  return r;
}

export async function findActiveToken(db: Executor, hash: string) {
  return db
    .selectFrom('api_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select(['t.id', 't.user_id', 't.last_used_at'])
    .where('t.token_hash', '=', hash)
    .where('t.revoked_at', 'is', null)
    .where('u.active', '=', true)
    .executeTakeFirst();
}

export async function touchToken(db: Executor, id: string) {
  await db.updateTable('api_tokens').set({ last_used_at: new Date() }).where('id', '=', id).execute();
}

/** Records `step` as the last accepted TOTP step; false when it is not newer (a replayed code). */
export async function advanceTotpStep(db: Executor, userId: string, step: number): Promise<boolean> {
  const r = await db
    .updateTable('users')
    .set({ totp_last_step: step })
    .where('id', '=', userId)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
