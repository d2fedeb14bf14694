// Personal API tokens: `tnde_` + 32 random bytes. Only the SHA-256 is stored;
// the token itself is shown once, when it is created.
import crypto from 'node:crypto';

export const TOKEN_PREFIX = 'tnde_';

export function newTokenSecret(): { token: string; hash: string; prefix: string } {
  const token = TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token), prefix: token.slice(0, 12) };
}

export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}

export function looksLikeToken(s: string): boolean {
  return /^tnde_[A-Za-z0-9_-]{43}$/.test(s);
}
