// SQL for the organisation: units, positions, users, delegations. Plain rows
// out; the service shapes them. Every function takes an Executor so it runs
// inside the caller's transaction.
import { sql, type Insertable, type Updateable } from 'kysely';
import type { Executor } from '../../platform/db/index.js';
import type { UnitTable, PositionTable, UserTable, DelegationTable } from '../../platform/db/schema.js';

export async function insertUnit(db: Executor, u: Insertable<UnitTable>) {
  return db.insertInto('units').values(u).returningAll().executeTakeFirstOrThrow();
}
export async function insertPosition(db: Executor, p: Insertable<PositionTable>) {
  return db.insertInto('positions').values(p).returningAll().executeTakeFirstOrThrow();
}
export async function insertUser(db: Executor, u: Insertable<UserTable>) {
  return db.insertInto('users').values(u).returningAll().executeTakeFirstOrThrow();
}
export async function insertDelegation(db: Executor, d: Insertable<DelegationTable>) {
  return db.insertInto('delegations').values(d).returningAll().executeTakeFirstOrThrow();
}
export async function countUsers(db: Executor): Promise<number> {
  const r = await db.selectFrom('users').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

// ---------- units ----------

export function listUnits(db: Executor, activeOnly: boolean) {
  let q = db.selectFrom('units').selectAll().orderBy('code');
  if (activeOnly) q = q.where('active', '=', true);
  return q.execute();
}

export function getUnit(db: Executor, id: string) {
  return db.selectFrom('units').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Locks the row too, so two admins cannot interleave a check and a change. */
export function getUnitForUpdate(db: Executor, id: string) {
  return db.selectFrom('units').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateUnit(db: Executor, id: string, patch: Updateable<UnitTable>) {
  await db.updateTable('units').set({ ...patch, updated_at: new Date() }).where('id', '=', id).execute();
}

/** The unit and every unit above it (UNION stops on a cycle). */
export async function unitAncestorIds(db: Executor, unitId: string): Promise<string[]> {
  const r = await sql<{ id: string }>`
    WITH RECURSIVE up(id) AS (
      SELECT id FROM units WHERE id = ${unitId}
      UNION
      SELECT u.parent_id FROM units u JOIN up ON u.id = up.id WHERE u.parent_id IS NOT NULL
    ) SELECT id FROM up`.execute(db);
  return r.rows.map((x) => String(x.id));
}

export async function activeContentsOfUnit(db: Executor, unitId: string) {
  const [units, positions] = await Promise.all([
    db.selectFrom('units').select((eb) => eb.fn.countAll<string>().as('n')).where('parent_id', '=', unitId).where('active', '=', true).executeTakeFirstOrThrow(),
    db.selectFrom('positions').select((eb) => eb.fn.countAll<string>().as('n')).where('unit_id', '=', unitId).where('active', '=', true).executeTakeFirstOrThrow(),
  ]);
  return { units: Number(units.n), positions: Number(positions.n) };
}

// ---------- positions ----------

function positionQuery(db: Executor) {
  return db
    .selectFrom('positions as p')
    .innerJoin('units as u', 'u.id', 'p.unit_id')
    .leftJoin('positions as s', 's.id', 'p.superior_id')
    .select([
      'p.id', 'p.unit_id', 'p.code', 'p.title', 'p.superior_id', 'p.is_head', 'p.active', 'p.created_at', 'p.updated_at',
      'u.code as unit_code', 'u.name as unit_name', 's.code as superior_code', 's.title as superior_title',
      sql<string[]>`coalesce((SELECT array_agg(h.name ORDER BY h.name) FROM users h WHERE h.position_id = p.id AND h.active), '{}')`.as('holders'),
    ]);
}

export function listPositions(db: Executor, f: { unitId?: string; activeOnly: boolean }) {
  let q = positionQuery(db).orderBy('u.code').orderBy('p.is_head', 'desc').orderBy('p.code');
  if (f.unitId) q = q.where('p.unit_id', '=', f.unitId);
  if (f.activeOnly) q = q.where('p.active', '=', true);
  return q.execute();
}

export function getPosition(db: Executor, id: string) {
  return positionQuery(db).where('p.id', '=', id).executeTakeFirst();
}

export function getPositionForUpdate(db: Executor, id: string) {
  return db.selectFrom('positions').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updatePosition(db: Executor, id: string, patch: Updateable<PositionTable>) {
  await db.updateTable('positions').set({ ...patch, updated_at: new Date() }).where('id', '=', id).execute();
}

/** The position and every position above it (UNION stops on a cycle). */
export async function positionAncestorIds(db: Executor, positionId: string): Promise<string[]> {
  const r = await sql<{ id: string }>`
    WITH RECURSIVE up(id) AS (
      SELECT id FROM positions WHERE id = ${positionId}
      UNION
      SELECT p.superior_id FROM positions p JOIN up ON p.id = up.id WHERE p.superior_id IS NOT NULL
    ) SELECT id FROM up`.execute(db);
  return r.rows.map((x) => String(x.id));
}

/** Every position below one, nearest first (depth 1 = reports directly). */
export async function subordinatePositions(db: Executor, positionId: string) {
  const r = await sql<{ id: string; code: string; title: string; unit_id: string; is_head: boolean; active: boolean; depth: number }>`
    WITH RECURSIVE down(id, depth, path) AS (
      SELECT id, 1, ARRAY[superior_id, id] FROM positions WHERE superior_id = ${positionId}
      UNION ALL
      SELECT p.id, down.depth + 1, down.path || p.id
      FROM positions p JOIN down ON p.superior_id = down.id
      WHERE NOT p.id = ANY(down.path) AND down.depth < 50
    )
    SELECT p.id, p.code, p.title, p.unit_id, p.is_head, p.active, down.depth
    FROM down JOIN positions p ON p.id = down.id
    ORDER BY down.depth, p.code`.execute(db);
  return r.rows;
}

export async function positionUsage(db: Executor, positionId: string) {
  const [holders, subordinates] = await Promise.all([
    db.selectFrom('users').select((eb) => eb.fn.countAll<string>().as('n')).where('position_id', '=', positionId).where('active', '=', true).executeTakeFirstOrThrow(),
    db.selectFrom('positions').select((eb) => eb.fn.countAll<string>().as('n')).where('superior_id', '=', positionId).where('active', '=', true).executeTakeFirstOrThrow(),
  ]);
  return { holders: Number(holders.n), subordinates: Number(subordinates.n) };
}

// ---------- users ----------

export interface UserFilter {
  q?: string;
  unitId?: string;
  role?: string;
  active?: boolean;
}

function userQuery(db: Executor) {
  return db
    .selectFrom('users as u')
    .leftJoin('positions as p', 'p.id', 'u.position_id')
    .leftJoin('units as n', 'n.id', 'p.unit_id');
}

function applyUserFilter<Q extends ReturnType<typeof userQuery>>(q: Q, f: UserFilter): Q {
  let out = q;
  if (f.q) {
    const like = '%' + f.q.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
    out = out.where((eb) => eb.or([eb('u.name', 'ilike', like), eb('u.username', 'ilike', like), eb('u.nip', 'like', like)])) as Q;
  }
  // A unit filter includes its sub-units: "everyone in DKIS".
  if (f.unitId) {
    out = out.where(sql<boolean>`p.unit_id IN (
      WITH RECURSIVE sub(id) AS (SELECT id FROM units WHERE id = ${f.unitId} UNION SELECT c.id FROM units c JOIN sub ON c.parent_id = sub.id)
      SELECT id FROM sub)`) as Q;
  }
  if (f.role) out = out.where(sql<boolean>`${f.role} = ANY(u.roles)`) as Q;
  if (f.active !== undefined) out = out.where('u.active', '=', f.active) as Q;
  return out;
}

const USER_COLUMNS = [
  'u.id', 'u.username', 'u.nip', 'u.name', 'u.email', 'u.roles', 'u.active', 'u.locked_until', 'u.must_change_password',
  'u.created_at', 'u.updated_at', 'u.position_id', 'p.code as position_code', 'p.title as position_title',
  'n.id as unit_id', 'n.code as unit_code', 'n.name as unit_name',
] as const;

export async function listUsers(db: Executor, f: UserFilter, page: { size: number; offset: number }) {
  const [rows, total] = await Promise.all([
    applyUserFilter(userQuery(db), f).select(USER_COLUMNS).orderBy('u.name').orderBy('u.id').limit(page.size).offset(page.offset).execute(),
    applyUserFilter(userQuery(db), f).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

export function getUser(db: Executor, id: string) {
  return userQuery(db).select(USER_COLUMNS).where('u.id', '=', id).executeTakeFirst();
}

export function getUserForUpdate(db: Executor, id: string) {
  return db.selectFrom('users').select(['id', 'username', 'name', 'nip', 'email', 'position_id', 'roles', 'active']).where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateUser(db: Executor, id: string, patch: Updateable<UserTable>) {
  await db.updateTable('users').set({ ...patch, updated_at: new Date() }).where('id', '=', id).execute();
}

/** A new password the user must change at next sign-in; any lock-out is lifted. */
export async function resetPassword(db: Executor, id: string, hash: string) {
  await db
    .updateTable('users')
    .set({ password_hash: hash, must_change_password: true, password_changed_at: new Date(), failed_logins: 0, locked_until: null, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

// ---------- delegations ----------

function delegationQuery(db: Executor) {
  return db
    .selectFrom('delegations as d')
    .innerJoin('positions as p', 'p.id', 'd.principal_position_id')
    .innerJoin('users as u', 'u.id', 'd.delegate_user_id')
    .leftJoin('users as c', 'c.id', 'd.created_by')
    .select([
      'd.id', 'd.kind', 'd.principal_position_id', 'd.delegate_user_id', 'd.legal_basis', 'd.note', 'd.revoked_at', 'd.created_at',
      // date columns as text: the driver would turn them into local-midnight Dates.
      sql<string>`to_char(d.starts_on, 'YYYY-MM-DD')`.as('starts_on'),
      sql<string>`to_char(d.ends_on, 'YYYY-MM-DD')`.as('ends_on'),
      'p.code as principal_code', 'p.title as principal_title', 'u.username as delegate_username', 'u.name as delegate_name',
      'c.username as created_by_username',
    ]);
}

export interface DelegationFilter {
  /** Only those neither revoked nor ended before this day (YYYY-MM-DD). */
  currentOn?: string;
  userId?: string;
  positionId?: string;
}

export async function listDelegations(db: Executor, f: DelegationFilter, page: { size: number; offset: number }) {
  const filtered = () => {
    let q = delegationQuery(db);
    if (f.currentOn) q = q.where('d.revoked_at', 'is', null).where('d.ends_on', '>=', f.currentOn);
    if (f.userId) q = q.where('d.delegate_user_id', '=', f.userId);
    if (f.positionId) q = q.where('d.principal_position_id', '=', f.positionId);
    return q;
  };
  const [rows, total] = await Promise.all([
    filtered().orderBy('d.starts_on', 'desc').orderBy('d.id', 'desc').limit(page.size).offset(page.offset).execute(),
    filtered().clearSelect().select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

export function getDelegation(db: Executor, id: string) {
  return delegationQuery(db).where('d.id', '=', id).executeTakeFirst();
}

/** Only a delegation still in force can be revoked: returns nothing otherwise. */
export function revokeDelegation(db: Executor, id: string) {
  return db.updateTable('delegations').set({ revoked_at: new Date() }).where('id', '=', id).where('revoked_at', 'is', null).returning('id').executeTakeFirst();
}
