// Approval chain templates (alur persetujuan): an administrator fixes which
// positions initial (paraf) letters of a kind and/or from a unit, in order,
// replacing the default line of superiors (planChain in service.ts applies
// them through findTemplate). listTemplates, getTemplate, createTemplate,
// updateTemplate (which also deactivates). Administrators only; every change
// is one transaction with its audit entry.
import { z } from 'zod';
import type { AppContext } from '../../platform/context.js';
import type { Executor } from '../../platform/db/index.js';
import { appendAudit } from '../../platform/audit/index.js';
import { actorOf, type CurrentUser } from '../../platform/auth/current-user.js';
import { can } from '../../platform/auth/permissions.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../platform/http/errors.js';
import { fieldError, parseInput } from '../../platform/http/validate.js';
import * as repo from './templates-repo.js';

/** At most as many as a drafter may add on submission. */
export const MAX_TEMPLATE_POSITIONS = 10;

const optCode = (max: number, key: string) =>
  z.preprocess((v) => (typeof v === 'string' ? v.trim() || null : v), z.string({ error: key }).max(max, key).nullable());
const fields = {
  name: z.string({ error: 'approvals.invalid.name' }).trim().min(1, 'approvals.invalid.name').max(200, 'approvals.invalid.name'),
  kind: optCode(16, 'approvals.invalid.kind'),
  unit: optCode(32, 'approvals.invalid.unit'),
  positions: z.array(z.string({ error: 'approvals.invalid.positions' }).trim().min(1, 'approvals.invalid.positions').max(32, 'approvals.invalid.positions'), { error: 'approvals.invalid.positions' }).max(MAX_TEMPLATE_POSITIONS, 'approvals.invalid.positions'),
  allowAdditional: z.boolean({ error: 'approvals.invalid.flag' }),
};
const createSchema = z.strictObject(fields).partial({ kind: true, unit: true, allowAdditional: true });
const updateSchema = z.strictObject({ ...fields, active: z.boolean({ error: 'approvals.invalid.flag' }) }).partial();

export interface TemplateDto {
  id: string;
  name: string;
  kind: { code: string; name: string } | null;
  unit: { code: string; name: string } | null;
  /** In paraf order. */
  positions: { code: string; title: string; active: boolean }[];
  allowAdditional: boolean;
  active: boolean;
  createdAt: Date;
}

async function toDtos(db: Executor, rows: repo.TemplateRow[]): Promise<TemplateDto[]> {
  const positions = new Map((await repo.positionsByIds(db, [...new Set(rows.flatMap((r) => r.position_ids.map(String)))])).map((p) => [String(p.id), p]));
  return rows.map((r) => ({
    id: String(r.id),
    name: r.name,
    kind: r.kind_code ? { code: r.kind_code, name: r.kind_name ?? r.kind_code } : null,
    unit: r.unit_code ? { code: r.unit_code, name: r.unit_name ?? r.unit_code } : null,
    positions: r.position_ids.map(String).map((id) => {
      const p = positions.get(id);
      return p ? { code: p.code, title: p.title, active: p.active } : { code: id, title: id, active: false };
    }),
    allowAdditional: r.allow_additional,
    active: r.active,
    createdAt: r.created_at,
  }));
}

function requireManage(user: CurrentUser) {
  if (!can(user, 'org.manage')) throw new ForbiddenError();
}

function idOrNotFound(id: string) {
  if (!/^\d{1,18}$/.test(id)) throw new NotFoundError();
  return id;
}

export async function listTemplates(ctx: AppContext, user: CurrentUser, page: { size: number; offset: number }) {
  requireManage(user);
  const { rows, total } = await repo.listTemplates(ctx.db, page);
  return { items: await toDtos(ctx.db, rows), total };
}

export async function getTemplate(ctx: AppContext, user: CurrentUser, id: string): Promise<TemplateDto> {
  requireManage(user);
  const row = await repo.getTemplate(ctx.db, idOrNotFound(id));
  if (!row) throw new NotFoundError();
  return (await toDtos(ctx.db, [row]))[0];
}

async function resolveKind(trx: Executor, code: string | null) {
  if (code === null) return null;
  const k = await repo.kindByCode(trx, code);
  if (!k || !k.active) throw fieldError('kind', 'approvals.invalid.kind');
  return k.code;
}

async function resolveUnit(trx: Executor, code: string | null) {
  if (code === null) return null;
  const u = await repo.unitByCode(trx, code);
  if (!u || !u.active) throw fieldError('unit', 'approvals.invalid.unit');
  return String(u.id);
}

/** Position codes in order -> ids: at least one, no repeats, each active. */
async function resolvePositions(trx: Executor, codes: string[]) {
  if (!codes.length) throw fieldError('positions', 'approvals.invalid.positions_empty');
  const repeated = codes.find((c, i) => codes.indexOf(c) !== i);
  if (repeated) throw fieldError('positions', 'approvals.invalid.positions_duplicate', { code: repeated });
  const found = new Map((await repo.positionsByCodes(trx, codes)).map((p) => [p.code, p]));
  const bad = codes.find((c) => !found.get(c)?.active);
  if (bad) throw fieldError('positions', 'approvals.invalid.position_unknown', { code: bad });
  return codes.map((c) => String(found.get(c)!.id));
}

/** A template applies to a kind, a unit, or both; and one active template per exact scope, so which one applies is never a guess. */
async function checkScope(trx: Executor, kindCode: string | null, unitId: string | null, active: boolean, exceptId: string | null) {
  if (kindCode === null && unitId === null) {
    throw new ValidationError('approvals.invalid.scope', {}, [{ field: 'kind', message: 'approvals.invalid.scope' }, { field: 'unit', message: 'approvals.invalid.scope' }]);
  }
  const other = active ? await repo.activeTemplateWithScope(trx, kindCode, unitId, exceptId) : undefined;
  if (other) throw new ConflictError('approvals.conflict.same_scope', { name: other.name });
}

export async function createTemplate(ctx: AppContext, user: CurrentUser, input: unknown): Promise<TemplateDto> {
  requireManage(user);
  const d = parseInput(createSchema, input);
  return ctx.db.transaction().execute(async (trx) => {
    const kindCode = await resolveKind(trx, d.kind ?? null);
    const unitId = await resolveUnit(trx, d.unit ?? null);
    const positionIds = await resolvePositions(trx, d.positions);
    await checkScope(trx, kindCode, unitId, true, null);
    const id = await repo.insertTemplate(trx, { name: d.name, kind_code: kindCode, unit_id: unitId, position_ids: positionIds, allow_additional: d.allowAdditional ?? true });
    const created = (await toDtos(trx, [(await repo.getTemplate(trx, id))!]))[0];
    await appendAudit(trx, actorOf(user), {
      action: 'approval.template_created', objectType: 'approval_template', objectId: id,
      details: { name: created.name, kind: created.kind?.code ?? null, unit: created.unit?.code ?? null, positions: created.positions.map((p) => p.code), allowAdditional: created.allowAdditional },
    });
    return created;
  });
}

/** Changes a template, including deactivating it; the audit entry names each changed field as {from, to}. */
export async function updateTemplate(ctx: AppContext, user: CurrentUser, id: string, input: unknown): Promise<{ template: TemplateDto; changed: boolean }> {
  requireManage(user);
  idOrNotFound(id);
  const d = parseInput(updateSchema, input);
  return ctx.db.transaction().execute(async (trx) => {
    const row = await repo.lockTemplate(trx, id);
    if (!row) throw new NotFoundError();
    const before = (await toDtos(trx, [(await repo.getTemplate(trx, id))!]))[0];
    const kindCode = d.kind === undefined ? row.kind_code : await resolveKind(trx, d.kind);
    const unitId = d.unit === undefined ? (row.unit_id === null ? null : String(row.unit_id)) : await resolveUnit(trx, d.unit);
    const positionIds = d.positions === undefined ? row.position_ids.map(String) : await resolvePositions(trx, d.positions);
    const active = d.active ?? row.active;
    await checkScope(trx, kindCode, unitId, active, id);
    await repo.updateTemplate(trx, id, { name: d.name ?? row.name, kind_code: kindCode, unit_id: unitId, position_ids: positionIds, allow_additional: d.allowAdditional ?? row.allow_additional, active });
    const after = (await toDtos(trx, [(await repo.getTemplate(trx, id))!]))[0];
    const view = (t: TemplateDto) => ({ name: t.name, kind: t.kind?.code ?? null, unit: t.unit?.code ?? null, positions: t.positions.map((p) => p.code), allowAdditional: t.allowAdditional, active: t.active });
    const [from, to] = [view(before), view(after)];
    const changes = Object.fromEntries(
      (Object.keys(to) as (keyof typeof to)[]).filter((k) => JSON.stringify(from[k]) !== JSON.stringify(to[k])).map((k) => [k, { from: from[k], to: to[k] }]),
    );
    const changed = Object.keys(changes).length > 0;
    if (changed) await appendAudit(trx, actorOf(user), { action: 'approval.template_updated', objectType: 'approval_template', objectId: id, details: { name: after.name, changes } });
    return { template: after, changed };
  });
}

/** Choices for the template form: active kinds, units and positions. */
export async function templateChoices(ctx: AppContext, user: CurrentUser) {
  requireManage(user);
  return repo.choices(ctx.db);
}
