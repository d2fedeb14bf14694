// Organisation administration: units (a tree), positions (each with its
// superior), users, and delegations (Plh./Plt./a.n./u.b.). Every change is one
// transaction with its audit entry; authorisation is checked here so the pages
// and the API are covered alike. Also the read-only questions other modules
// ask: superiorChain, subordinates, activeDelegationsFor.
import { z } from 'zod';
import type { AppContext } from '../../platform/context.js';
import type { Executor } from '../../platform/db/index.js';
import { appendAudit, type Actor } from '../../platform/audit/index.js';
import { endSessionsOf } from '../../platform/auth/sessions.js';
import { actorOf, type CurrentUser } from '../../platform/auth/current-user.js';
import { ROLES } from '../../platform/auth/permissions.js';
import { generatePassword, hashPassword, PASSWORD_MAX, PASSWORD_MIN } from '../../platform/auth/passwords.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../platform/http/errors.js';
import { parseInput } from '../../platform/http/validate.js';
import { activeDelegationsOf, superiorChain as chainUp, jakartaDate, type ChainPosition } from './hierarchy.js';
import { mayManageOrganisation, mayViewInactive, mayViewOrganisation, selfLockoutRefusal, userRecordView } from './policy.js';
import { orgMessages } from './messages.js';
import * as repo from './repo.js';

export const UNIT_KINDS = [
  'pemda', 'sekretariat_daerah', 'sekretariat_dprd', 'inspektorat', 'dinas', 'badan', 'biro', 'bagian',
  'sekretariat', 'subbagian', 'bidang', 'seksi', 'uptd', 'kecamatan', 'kelurahan',
] as const;
export const DELEGATION_KINDS = ['plh', 'plt', 'an', 'ub'] as const;
export type DelegationKind = (typeof DELEGATION_KINDS)[number];

// The same rules as the database's CHECK constraints, so a bad value is a clear 400, not a 500.
const CODE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
export const USERNAME_RE = /^[a-z0-9][a-z0-9._-]{1,49}$/;
const NIP_RE = /^[0-9]{18}$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

// ---------- input schemas (the API's camelCase JSON; the pages build the same shape) ----------

const idSchema = z.union([z.string().trim().regex(/^\d{1,18}$/, 'must be a numeric id'), z.number().int().positive().max(Number.MAX_SAFE_INTEGER)]).transform(String);
/** Optional text: '' and null both mean "none". */
const optText = (max: number, re?: RegExp, what = 'value') => {
  const base = z.string().trim().max(max);
  return (re ? base.refine((v) => v === '' || re.test(v), `invalid ${what}`) : base).transform((v) => (v === '' ? null : v)).nullable();
};
const dateSchema = z.string().trim().refine((s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s + 'T00:00:00Z')) && new Date(s + 'T00:00:00Z').toISOString().startsWith(s), 'must be a date YYYY-MM-DD');

const unitFields = {
  code: z.string().trim().regex(CODE_RE, 'letters, digits, . _ - (max 32), starting with a letter or digit'),
  name: z.string().trim().min(1).max(200),
  kind: z.enum(UNIT_KINDS),
  parentId: idSchema.nullable(),
  address: optText(500),
  phone: optText(50),
  email: optText(200, EMAIL_RE, 'e-mail address'),
  website: optText(200, /^https?:\/\/\S+$/, 'web address (http:// or https://)'),
};
const createUnitSchema = z.strictObject(unitFields).partial({ parentId: true, address: true, phone: true, email: true, website: true });
const updateUnitSchema = z.strictObject({ ...unitFields, active: z.boolean() }).partial();

const positionFields = {
  unitId: idSchema,
  code: z.string().trim().regex(CODE_RE, 'letters, digits, . _ - (max 32), starting with a letter or digit'),
  title: z.string().trim().min(1).max(200),
  superiorId: idSchema.nullable(),
  isHead: z.boolean(),
};
const createPositionSchema = z.strictObject(positionFields).partial({ superiorId: true, isHead: true });
const updatePositionSchema = z.strictObject({ ...positionFields, active: z.boolean() }).partial();

const rolesSchema = z.array(z.enum(ROLES)).min(1).max(ROLES.length);
const userFields = {
  name: z.string().trim().min(1).max(200),
  nip: optText(18, NIP_RE, 'NIP (exactly 18 digits)'),
  email: optText(200, EMAIL_RE, 'e-mail address'),
  positionId: idSchema.nullable(),
  roles: rolesSchema,
};
const createUserSchema = z
  .strictObject({
    ...userFields,
    username: z.string().trim().regex(USERNAME_RE, 'lowercase letters, digits, . _ - (2 to 50), starting with a letter or digit'),
    password: z.string().min(PASSWORD_MIN).max(PASSWORD_MAX),
  })
  .partial({ nip: true, email: true, positionId: true, password: true });
const updateUserSchema = z.strictObject({ ...userFields, active: z.boolean() }).partial();

const createDelegationSchema = z
  .strictObject({
    kind: z.enum(DELEGATION_KINDS),
    principalPositionId: idSchema,
    delegateUserId: idSchema,
    legalBasis: z.string().trim().min(1).max(200),
    startsOn: dateSchema,
    endsOn: dateSchema,
    note: optText(1000),
  })
  .partial({ note: true });

const userFilterSchema = z.strictObject({
  q: z.string().trim().max(100).optional(),
  unitId: idSchema.optional(),
  role: z.enum(ROLES).optional(),
  active: z.boolean().optional(),
});

// ---------- shared helpers ----------

function requireManage(user: CurrentUser) {
  if (!mayManageOrganisation(user)) throw new ForbiddenError();
}
function requireView(user: CurrentUser) {
  if (!mayViewOrganisation(user)) throw new ForbiddenError();
}

/** An id from a URL: anything that cannot be an id is simply not found. */
function idOrNotFound(id: string): string {
  if (!/^\d{1,18}$/.test(id)) throw new NotFoundError();
  return id;
}

type OrgMessageKey = keyof typeof orgMessages;
/** A refusal about one field: the page marks the field, the API names it. */
function fieldError(field: string, key: OrgMessageKey): ValidationError {
  return new ValidationError(key, {}, [{ field, message: orgMessages[key].en }]);
}

const UNIQUE_MESSAGES: Record<string, OrgMessageKey> = {
  units_code_key: 'org.conflict.unit_code',
  positions_code_key: 'org.conflict.position_code',
  users_username_key: 'org.conflict.username',
  users_nip_key: 'org.conflict.nip',
};

/** Runs a transaction; PostgreSQL's unique violation (23505) becomes a 409 naming what is taken. */
async function uniqueOrConflict<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    const pg = e as { code?: string; constraint?: string };
    if (pg.code === '23505') throw new ConflictError(UNIQUE_MESSAGES[pg.constraint ?? ''] ?? 'error.conflict');
    throw e;
  }
}

/** The fields a patch really changes, as {column: {from, to}} for the audit entry. */
function changesOf(before: Record<string, unknown>, patch: Record<string, unknown>) {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const [k, to] of Object.entries(patch)) {
    if (to === undefined) continue;
    const from = before[k] ?? null;
    if (JSON.stringify(from) !== JSON.stringify(to)) out[k] = { from, to };
  }
  return out;
}

const str = (v: string | number | bigint | null | undefined) => (v === null || v === undefined ? null : String(v));

// ---------- units ----------

export interface UnitDto {
  id: string;
  parentId: string | null;
  code: string;
  name: string;
  kind: string;
  address: string | null;
  phone: string | null;
  email: string | null;
  website: string | null;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}
export interface UnitNode extends UnitDto {
  depth: number;
  children: UnitNode[];
}

type UnitRow = NonNullable<Awaited<ReturnType<typeof repo.getUnit>>>;
function unitDto(u: UnitRow): UnitDto {
  return {
    id: String(u.id), parentId: str(u.parent_id), code: u.code, name: u.name, kind: u.kind, address: u.address,
    phone: u.phone, email: u.email, website: u.website, active: u.active, createdAt: u.created_at, updatedAt: u.updated_at,
  };
}

/** The units as a forest, each level ordered by code. Inactive units only for administrators. */
export async function listUnitTree(ctx: AppContext, user: CurrentUser): Promise<UnitNode[]> {
  requireView(user);
  const rows = await repo.listUnits(ctx.db, !mayViewInactive(user));
  const nodes = new Map(rows.map((r) => [String(r.id), { ...unitDto(r), depth: 0, children: [] as UnitNode[] }]));
  const roots: UnitNode[] = [];
  for (const n of nodes.values()) {
    const parent = n.parentId ? nodes.get(n.parentId) : undefined;
    (parent ? parent.children : roots).push(n);
  }
  const setDepth = (list: UnitNode[], depth: number) => {
    for (const n of list) {
      n.depth = depth;
      setDepth(n.children, depth + 1);
    }
  };
  setDepth(roots, 0);
  return roots;
}

/** The tree in reading order (parents before children), for lists and selects. */
export function flattenUnits(tree: UnitNode[]): UnitNode[] {
  return tree.flatMap((n) => [n, ...flattenUnits(n.children)]);
}

export async function getUnit(ctx: AppContext, user: CurrentUser, id: string): Promise<UnitDto> {
  requireView(user);
  const u = await repo.getUnit(ctx.db, idOrNotFound(id));
  if (!u || (!u.active && !mayViewInactive(user))) throw new NotFoundError();
  return unitDto(u);
}

async function requireActiveUnit(trx: Executor, id: string, field: string, key: OrgMessageKey) {
  const u = await repo.getUnit(trx, id);
  if (!u || !u.active) throw fieldError(field, key);
  return u;
}

export async function createUnit(ctx: AppContext, user: CurrentUser, input: unknown): Promise<UnitDto> {
  requireManage(user);
  const d = parseInput(createUnitSchema, input);
  return uniqueOrConflict(() =>
    ctx.db.transaction().execute(async (trx) => {
      if (d.parentId) await requireActiveUnit(trx, d.parentId, 'parentId', 'org.invalid.parent');
      const row = await repo.insertUnit(trx, {
        code: d.code, name: d.name, kind: d.kind, parent_id: d.parentId ?? null,
        address: d.address ?? null, phone: d.phone ?? null, email: d.email ?? null, website: d.website ?? null,
      });
      await appendAudit(trx, actorOf(user), {
        action: 'org.unit_created', objectType: 'unit', objectId: row.id,
        details: { code: row.code, name: row.name, kind: row.kind, parentId: str(row.parent_id) },
      });
      return unitDto(row);
    }),
  );
}

/** Changes a unit, including (de)activation. A unit cannot move under itself or one of its sub-units. */
export async function updateUnit(ctx: AppContext, user: CurrentUser, id: string, input: unknown): Promise<UnitDto> {
  requireManage(user);
  idOrNotFound(id);
  const d = parseInput(updateUnitSchema, input);
  return uniqueOrConflict(() =>
    ctx.db.transaction().execute(async (trx) => {
      const before = await repo.getUnitForUpdate(trx, id);
      if (!before) throw new NotFoundError();
      const patch = {
        code: d.code, name: d.name, kind: d.kind, parent_id: d.parentId, address: d.address,
        phone: d.phone, email: d.email, website: d.website, active: d.active,
      };
      const changes = changesOf({ ...before, parent_id: str(before.parent_id) }, patch);
      if (Object.keys(changes).length === 0) return unitDto(before);
      const parentId = d.parentId !== undefined ? d.parentId : str(before.parent_id);
      const active = d.active ?? before.active;
      if (parentId && ('parent_id' in changes || ('active' in changes && active))) {
        const parent = await repo.getUnit(trx, parentId);
        if (!parent || (active && !parent.active)) throw fieldError('parentId', 'org.invalid.parent');
        if ('parent_id' in changes && (await repo.unitAncestorIds(trx, parentId)).includes(id)) throw fieldError('parentId', 'org.invalid.unit_cycle');
      }
      if ('active' in changes && !active) {
        const inside = await repo.activeContentsOfUnit(trx, id);
        if (inside.units + inside.positions > 0) throw fieldError('active', 'org.refuse.unit_not_empty');
      }
      await repo.updateUnit(trx, id, patch);
      await appendAudit(trx, actorOf(user), { action: 'org.unit_updated', objectType: 'unit', objectId: id, details: { code: before.code, changes } });
      return unitDto((await repo.getUnit(trx, id))!);
    }),
  );
}

// ---------- positions ----------

export interface PositionDto {
  id: string;
  code: string;
  title: string;
  isHead: boolean;
  active: boolean;
  unit: { id: string; code: string; name: string };
  superior: { id: string; code: string; title: string } | null;
  /** Names of the active users holding it. */
  holders: string[];
  createdAt: Date;
  updatedAt: Date;
}

type PositionRow = NonNullable<Awaited<ReturnType<typeof repo.getPosition>>>;
function positionDto(p: PositionRow): PositionDto {
  return {
    id: String(p.id), code: p.code, title: p.title, isHead: p.is_head, active: p.active,
    unit: { id: String(p.unit_id), code: p.unit_code, name: p.unit_name },
    superior: p.superior_id === null ? null : { id: String(p.superior_id), code: p.superior_code!, title: p.superior_title! },
    holders: p.holders, createdAt: p.created_at, updatedAt: p.updated_at,
  };
}

export async function listPositions(ctx: AppContext, user: CurrentUser, filter: { unitId?: string } = {}): Promise<PositionDto[]> {
  requireView(user);
  const unitId = filter.unitId && /^\d{1,18}$/.test(filter.unitId) ? filter.unitId : undefined;
  const rows = await repo.listPositions(ctx.db, { unitId, activeOnly: !mayViewInactive(user) });
  return rows.map(positionDto);
}

export async function getPosition(ctx: AppContext, user: CurrentUser, id: string): Promise<PositionDto> {
  requireView(user);
  const p = await repo.getPosition(ctx.db, idOrNotFound(id));
  if (!p || (!p.active && !mayViewInactive(user))) throw new NotFoundError();
  return positionDto(p);
}

async function requireActivePosition(trx: Executor, id: string, field: string, key: OrgMessageKey) {
  const p = await repo.getPositionForUpdate(trx, id);
  if (!p || !p.active) throw fieldError(field, key);
  return p;
}

export async function createPosition(ctx: AppContext, user: CurrentUser, input: unknown): Promise<PositionDto> {
  requireManage(user);
  const d = parseInput(createPositionSchema, input);
  return uniqueOrConflict(() =>
    ctx.db.transaction().execute(async (trx) => {
      await requireActiveUnit(trx, d.unitId, 'unitId', 'org.invalid.unit');
      if (d.superiorId) await requireActivePosition(trx, d.superiorId, 'superiorId', 'org.invalid.superior');
      const row = await repo.insertPosition(trx, { unit_id: d.unitId, code: d.code, title: d.title, superior_id: d.superiorId ?? null, is_head: d.isHead ?? false });
      await appendAudit(trx, actorOf(user), {
        action: 'org.position_created', objectType: 'position', objectId: row.id,
        details: { code: row.code, title: row.title, unitId: d.unitId, superiorId: d.superiorId ?? null, isHead: row.is_head },
      });
      return positionDto((await repo.getPosition(trx, String(row.id)))!);
    }),
  );
}

/** Changes a position. Its superior must be active and not below it (no cycles in the chain of command). */
export async function updatePosition(ctx: AppContext, user: CurrentUser, id: string, input: unknown): Promise<PositionDto> {
  requireManage(user);
  idOrNotFound(id);
  const d = parseInput(updatePositionSchema, input);
  return uniqueOrConflict(() =>
    ctx.db.transaction().execute(async (trx) => {
      const before = await repo.getPositionForUpdate(trx, id);
      if (!before) throw new NotFoundError();
      const patch = { unit_id: d.unitId, code: d.code, title: d.title, superior_id: d.superiorId, is_head: d.isHead, active: d.active };
      const changes = changesOf({ ...before, unit_id: String(before.unit_id), superior_id: str(before.superior_id) }, patch);
      if (Object.keys(changes).length === 0) return positionDto((await repo.getPosition(trx, id))!);
      const active = d.active ?? before.active;
      const superiorId = d.superiorId !== undefined ? d.superiorId : str(before.superior_id);
      if ('unit_id' in changes || ('active' in changes && active)) {
        const unit = await repo.getUnit(trx, d.unitId ?? String(before.unit_id));
        if (!unit || (active && !unit.active)) throw fieldError('unitId', 'org.invalid.unit');
      }
      if (superiorId && ('superior_id' in changes || ('active' in changes && active))) {
        const superior = await repo.getPositionForUpdate(trx, superiorId);
        if (!superior || (active && !superior.active)) throw fieldError('superiorId', 'org.invalid.superior');
        if ('superior_id' in changes && (await repo.positionAncestorIds(trx, superiorId)).includes(id)) throw fieldError('superiorId', 'org.invalid.superior_cycle');
      }
      if ('active' in changes && !active) {
        const usage = await repo.positionUsage(trx, id);
        if (usage.holders + usage.subordinates > 0) throw fieldError('active', 'org.refuse.position_in_use');
      }
      await repo.updatePosition(trx, id, patch);
      await appendAudit(trx, actorOf(user), { action: 'org.position_updated', objectType: 'position', objectId: id, details: { code: before.code, changes } });
      return positionDto((await repo.getPosition(trx, id))!);
    }),
  );
}

/** The position and its superiors, bottom up, to the top of the hierarchy (approval chains read this). */
export function superiorChain(db: Executor, positionId: string): Promise<ChainPosition[]> {
  return chainUp(db, positionId);
}

/** Every position below one, nearest first (disposisi goes down this). */
export async function subordinates(db: Executor, positionId: string) {
  const rows = await repo.subordinatePositions(db, positionId);
  return rows.map((p) => ({ id: String(p.id), code: p.code, title: p.title, unitId: String(p.unit_id), isHead: p.is_head, active: p.active, depth: Number(p.depth) }));
}

// ---------- users ----------

export interface DirectoryEntry {
  id: string;
  username: string;
  name: string;
  position: { id: string; code: string; title: string } | null;
  unit: { id: string; code: string; name: string } | null;
}
export interface UserDto extends DirectoryEntry {
  nip: string | null;
  email: string | null;
  roles: string[];
  active: boolean;
  /** Locked out after repeated failed sign-ins. */
  locked: boolean;
  mustChangePassword: boolean;
  createdAt: Date;
  updatedAt: Date;
}

type UserRow = NonNullable<Awaited<ReturnType<typeof repo.getUser>>>;
function directoryEntry(u: UserRow): DirectoryEntry {
  return {
    id: String(u.id), username: u.username, name: u.name,
    position: u.position_id === null ? null : { id: String(u.position_id), code: u.position_code!, title: u.position_title! },
    unit: u.unit_id === null ? null : { id: String(u.unit_id), code: u.unit_code!, name: u.unit_name! },
  };
}
function userDto(u: UserRow): UserDto {
  return {
    ...directoryEntry(u), nip: u.nip, email: u.email, roles: u.roles, active: u.active,
    locked: !!u.locked_until && u.locked_until > new Date(), mustChangePassword: u.must_change_password,
    createdAt: u.created_at, updatedAt: u.updated_at,
  };
}

/** Roles in the table's order, once each: one canonical form to store and compare. */
const canonicalRoles = (roles: string[]) => ROLES.filter((r) => roles.includes(r));

/**
 * The user list (administrators) or directory (everyone else: active users,
 * name, position and unit only, and no filtering by the roles they cannot see).
 */
export async function listUsers(ctx: AppContext, user: CurrentUser, filter: unknown, page: { size: number; offset: number }) {
  requireView(user);
  const f = parseInput(userFilterSchema, filter);
  const full = mayManageOrganisation(user);
  const { rows, total } = await repo.listUsers(ctx.db, { q: f.q || undefined, unitId: f.unitId, role: full ? f.role : undefined, active: full ? f.active : true }, page);
  return { items: full ? rows.map(userDto) : rows.map(directoryEntry), total, full };
}

export async function getUser(ctx: AppContext, user: CurrentUser, id: string): Promise<UserDto | DirectoryEntry> {
  requireView(user);
  const u = await repo.getUser(ctx.db, idOrNotFound(id));
  const view = u ? userRecordView(user, u) : null;
  if (!u || !view) throw new NotFoundError();
  return view === 'full' ? userDto(u) : directoryEntry(u);
}

/** The full record for the administration pages. */
export async function getUserForAdmin(ctx: AppContext, user: CurrentUser, id: string): Promise<UserDto> {
  requireManage(user);
  return (await getUser(ctx, user, id)) as UserDto;
}

/**
 * Creates an account. Without a password one is generated and returned once
 * (shown to the administrator, never stored in clear or audited); either way the
 * user must change it at first sign-in.
 */
export async function createUser(ctx: AppContext, user: CurrentUser, input: unknown): Promise<{ user: UserDto; password: string | null }> {
  requireManage(user);
  return insertUser(ctx, actorOf(user), input);
}

/**
 * An administrator made by the operator at the console (`npm run cli -- admin create`),
 * for an installation started without the demo organisation. Audited with the
 * operator's login name as the actor.
 */
export function createAdministratorFromConsole(ctx: AppContext, operator: string, input: { username: string; name: string; nip?: string }) {
  return insertUser(ctx, { id: null, name: `cli:${operator}`, ip: 'cli' }, { ...input, roles: ['admin'] });
}

async function insertUser(ctx: AppContext, actor: Actor, input: unknown): Promise<{ user: UserDto; password: string | null }> {
  const d = parseInput(createUserSchema, input);
  if (d.password && d.password.toLowerCase() === d.username) throw fieldError('password', 'org.invalid.password_is_username');
  const generated = d.password ? null : generatePassword();
  const hash = await hashPassword(d.password ?? generated!);
  return uniqueOrConflict(() =>
    ctx.db.transaction().execute(async (trx) => {
      if (d.positionId) await requireActivePosition(trx, d.positionId, 'positionId', 'org.invalid.position');
      const row = await repo.insertUser(trx, {
        username: d.username, name: d.name, nip: d.nip ?? null, email: d.email ?? null, password_hash: hash,
        position_id: d.positionId ?? null, roles: canonicalRoles(d.roles), must_change_password: true,
      });
      await appendAudit(trx, actor, {
        action: 'org.user_created', objectType: 'user', objectId: row.id,
        details: { username: row.username, name: row.name, nip: row.nip, positionId: str(row.position_id), roles: row.roles, passwordGenerated: !!generated },
      });
      return { user: userDto((await repo.getUser(trx, String(row.id)))!), password: generated };
    }),
  );
}

/** Changes profile, position, roles or active state. An administrator cannot lock themselves out. */
export async function updateUser(ctx: AppContext, user: CurrentUser, id: string, input: unknown): Promise<UserDto> {
  requireManage(user);
  idOrNotFound(id);
  const d = parseInput(updateUserSchema, input);
  const roles = d.roles && canonicalRoles(d.roles);
  const refusal = selfLockoutRefusal(user, id, { active: d.active, roles });
  if (refusal) throw fieldError(refusal === 'org.refuse.self_deactivate' ? 'active' : 'roles', refusal as OrgMessageKey);
  return uniqueOrConflict(() =>
    ctx.db.transaction().execute(async (trx) => {
      const before = await repo.getUserForUpdate(trx, id);
      if (!before) throw new NotFoundError();
      const patch = { name: d.name, nip: d.nip, email: d.email, position_id: d.positionId, roles, active: d.active };
      const changes = changesOf({ ...before, position_id: str(before.position_id) }, patch);
      if (Object.keys(changes).length === 0) return userDto((await repo.getUser(trx, id))!);
      if ('position_id' in changes && d.positionId) await requireActivePosition(trx, d.positionId, 'positionId', 'org.invalid.position');
      await repo.updateUser(trx, id, patch);
      await appendAudit(trx, actorOf(user), { action: 'org.user_updated', objectType: 'user', objectId: id, details: { username: before.username, changes } });
      return userDto((await repo.getUser(trx, id))!);
    }),
  );
}

/**
 * A new generated password, returned once for the administrator to hand over.
 * The user must change it at next sign-in; a lock-out is lifted and their other
 * browser sessions end (in case the account was taken over).
 */
export async function resetPassword(ctx: AppContext, user: CurrentUser, id: string): Promise<{ username: string; password: string }> {
  requireManage(user);
  idOrNotFound(id);
  const password = generatePassword();
  const hash = await hashPassword(password);
  const username = await ctx.db.transaction().execute(async (trx) => {
    const target = await repo.getUserForUpdate(trx, id);
    if (!target) throw new NotFoundError();
    await repo.resetPassword(trx, id, hash);
    const self = id === user.id;
    if (!self) await endSessionsOf(trx, id);
    await appendAudit(trx, actorOf(user), {
      action: 'org.user_password_reset', objectType: 'user', objectId: id,
      details: { username: target.username, mustChangePassword: true, lockoutCleared: true, sessionsEnded: !self },
    });
    return target.username;
  });
  return { username, password };
}

// ---------- delegations ----------

export interface DelegationDto {
  id: string;
  kind: DelegationKind;
  principalPosition: { id: string; code: string; title: string };
  delegate: { id: string; username: string; name: string };
  legalBasis: string;
  startsOn: string;
  endsOn: string;
  note: string | null;
  revokedAt: Date | null;
  /** Today (Asia/Jakarta): in force, not yet, over, or revoked. */
  state: 'current' | 'upcoming' | 'ended' | 'revoked';
  createdBy: string | null;
  createdAt: Date;
}

type DelegationRow = NonNullable<Awaited<ReturnType<typeof repo.getDelegation>>>;
function delegationDto(d: DelegationRow, today: string): DelegationDto {
  return {
    id: String(d.id), kind: d.kind,
    principalPosition: { id: String(d.principal_position_id), code: d.principal_code, title: d.principal_title },
    delegate: { id: String(d.delegate_user_id), username: d.delegate_username, name: d.delegate_name },
    legalBasis: d.legal_basis, startsOn: d.starts_on, endsOn: d.ends_on, note: d.note, revokedAt: d.revoked_at,
    state: d.revoked_at !== null ? 'revoked' : d.starts_on > today ? 'upcoming' : d.ends_on < today ? 'ended' : 'current',
    createdBy: d.created_by_username, createdAt: d.created_at,
  };
}

/** Delegations, newest first; `status: 'current'` hides revoked and ended ones. */
export async function listDelegations(ctx: AppContext, user: CurrentUser, filter: { status?: string; userId?: string; positionId?: string }, page: { size: number; offset: number }) {
  requireManage(user);
  const today = jakartaDate(new Date());
  const id = (v: string | undefined) => (v && /^\d{1,18}$/.test(v) ? v : undefined);
  const { rows, total } = await repo.listDelegations(ctx.db, { currentOn: filter.status === 'all' ? undefined : today, userId: id(filter.userId), positionId: id(filter.positionId) }, page);
  return { items: rows.map((r) => delegationDto(r, today)), total };
}

/**
 * Records that a user acts (Plh./Plt.) or signs (a.n./u.b.) for a position,
 * on the legal basis of an SK, between two dates inclusive.
 */
export async function createDelegation(ctx: AppContext, user: CurrentUser, input: unknown): Promise<DelegationDto> {
  requireManage(user);
  const d = parseInput(createDelegationSchema, input);
  if (d.endsOn < d.startsOn) throw fieldError('endsOn', 'org.invalid.delegation_dates');
  return ctx.db.transaction().execute(async (trx) => {
    const principal = await requireActivePosition(trx, d.principalPositionId, 'principalPositionId', 'org.invalid.position');
    const delegate = await repo.getUserForUpdate(trx, d.delegateUserId);
    if (!delegate || !delegate.active) throw fieldError('delegateUserId', 'org.invalid.delegate');
    if (str(delegate.position_id) === d.principalPositionId) throw fieldError('delegateUserId', 'org.invalid.delegate_holds_position');
    const row = await repo.insertDelegation(trx, {
      kind: d.kind, principal_position_id: d.principalPositionId, delegate_user_id: d.delegateUserId, legal_basis: d.legalBasis,
      starts_on: d.startsOn, ends_on: d.endsOn, note: d.note ?? null, created_by: user.id,
    });
    await appendAudit(trx, actorOf(user), {
      action: 'org.delegation_created', objectType: 'delegation', objectId: row.id,
      details: { kind: d.kind, principal: principal.code, delegate: delegate.username, legalBasis: d.legalBasis, startsOn: d.startsOn, endsOn: d.endsOn },
    });
    return delegationDto((await repo.getDelegation(trx, String(row.id)))!, jakartaDate(new Date()));
  });
}

export async function revokeDelegation(ctx: AppContext, user: CurrentUser, id: string): Promise<DelegationDto> {
  requireManage(user);
  idOrNotFound(id);
  return ctx.db.transaction().execute(async (trx) => {
    const d = await repo.getDelegation(trx, id);
    if (!d) throw new NotFoundError();
    if (!(await repo.revokeDelegation(trx, id))) throw new ConflictError('org.conflict.delegation_revoked');
    await appendAudit(trx, actorOf(user), {
      action: 'org.delegation_revoked', objectType: 'delegation', objectId: id,
      details: { kind: d.kind, principal: d.principal_code, delegate: d.delegate_username, legalBasis: d.legal_basis },
    });
    return delegationDto((await repo.getDelegation(trx, id))!, jakartaDate(new Date()));
  });
}

/**
 * The positions a user may act or sign for on a day (Asia/Jakarta calendar day
 * of a Date, or a 'YYYY-MM-DD' day): delegations not revoked whose dates include it.
 */
export function activeDelegationsFor(db: Executor, userId: string, on: Date | string = new Date()) {
  return activeDelegationsOf(db, userId, [...DELEGATION_KINDS], on);
}
