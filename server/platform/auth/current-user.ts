// The signed-in user as every service sees it: identity, roles, and where they
// sit in the organisation. Loaded fresh per request so a deactivation or a role
// change takes effect at once.
import type { Executor } from '../db/index.js';

export interface CurrentUser {
  id: string;
  username: string;
  name: string;
  nip: string | null;
  email: string | null;
  roles: string[];
  positionId: string | null;
  positionTitle: string | null;
  unitId: string | null;
  unitCode: string | null;
  unitName: string | null;
  locale: string;
  totpEnabled: boolean;
  mustChangePassword: boolean;
  authMethod: 'session' | 'token';
  ip: string | null;
}

export async function loadCurrentUser(
  db: Executor,
  id: string,
  authMethod: 'session' | 'token',
  ip: string | null,
): Promise<CurrentUser | undefined> {
  const r = await db
    .selectFrom('users as u')
    .leftJoin('positions as p', 'p.id', 'u.position_id')
    .leftJoin('units as n', 'n.id', 'p.unit_id')
    .select([
      'u.id', 'u.username', 'u.name', 'u.nip', 'u.email', 'u.roles', 'u.locale', 'u.totp_enabled',
      'u.must_change_password', 'u.active', 'p.id as position_id', 'p.title as position_title',
      'n.id as unit_id', 'n.code as unit_code', 'n.name as unit_name',
    ])
    .where('u.id', '=', id)
    .executeTakeFirst();
  if (!r || !r.active) return undefined;
  return {
    id: String(r.id),
    username: r.username,
    name: r.name,
    nip: r.nip,
    email: r.email,
    roles: r.roles,
    positionId: r.position_id === null ? null : String(r.position_id),
    positionTitle: r.position_title,
    unitId: r.unit_id === null ? null : String(r.unit_id),
    unitCode: r.unit_code,
    unitName: r.unit_name,
    locale: r.locale,
    totpEnabled: r.totp_enabled,
    mustChangePassword: r.must_change_password,
    authMethod,
    ip,
  };
}

/** The actor for audit entries. */
export function actorOf(user: CurrentUser | undefined, ip?: string | null) {
  return { id: user?.id ?? null, name: user?.username ?? null, ip: ip ?? user?.ip ?? null };
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends CurrentUser {}
  }
}
