// The archival classification scheme (kode klasifikasi arsip, Permendagri
// 83/2022) and its retention (JRA), maintained by administrators and
// archivists: listCodes, getCode, createCode, updateCode (which also
// deactivates). A code is immutable once created: letters and records refer
// to it. Every change is one transaction with its audit entry.
import { z } from 'zod';
import type { AppContext } from '../../platform/context.js';
import { appendAudit } from '../../platform/audit/index.js';
import { actorOf, type CurrentUser } from '../../platform/auth/current-user.js';
import { can } from '../../platform/auth/permissions.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../platform/http/errors.js';
import { fieldError, parseInput } from '../../platform/http/validate.js';
import * as repo from './classification-repo.js';
import { fieldChanges } from '../../platform/audit/changes.js';

export const FINAL_FATES = ['musnah', 'permanen', 'dinilai_kembali'] as const;
export type FinalFate = (typeof FINAL_FATES)[number];
/** The same rule as the table's CHECK constraint. */
export const CODE_RE = /^[0-9]{3}(\.[0-9]{1,3}){0,5}$/;

/** Administrators and archivists (arsiparis) maintain the scheme. */
export function mayMaintainClassification(user: { roles: string[] } | undefined | null): boolean {
  return can(user, 'org.manage') || can(user, 'archive.manage');
}

// ---------- input ----------

/** '' and null mean "not set"; a form's digits become a number. */
const emptyToNull = (v: unknown) => (v === '' || v === undefined ? null : v);
const years = z.preprocess(
  (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : emptyToNull(typeof v === 'string' ? v.trim() : v)),
  z.number({ error: 'archive.invalid.years' }).int('archive.invalid.years').min(0, 'archive.invalid.years').max(100, 'archive.invalid.years').nullable(),
);
const fate = z.preprocess((v) => emptyToNull(typeof v === 'string' ? v.trim() : v), z.enum(FINAL_FATES, { error: 'archive.invalid.fate' }).nullable());
const name = z.string({ error: 'archive.invalid.name' }).trim().min(1, 'archive.invalid.name').max(500, 'archive.invalid.name');

const createSchema = z.strictObject({
  code: z.string({ error: 'archive.invalid.code' }).trim().regex(CODE_RE, 'archive.invalid.code'),
  name,
  parentCode: z.preprocess((v) => emptyToNull(typeof v === 'string' ? v.trim() : v), z.string({ error: 'archive.invalid.parent_mismatch' }).max(40, 'archive.invalid.parent_mismatch').nullable()).optional(),
  retentionActiveYears: years.optional(),
  retentionInactiveYears: years.optional(),
  finalFate: fate.optional(),
});
const updateSchema = z
  .strictObject({
    name,
    retentionActiveYears: years,
    retentionInactiveYears: years,
    finalFate: fate,
    active: z.boolean({ error: 'archive.invalid.active' }),
  })
  .partial();

// ---------- output ----------

export interface ClassificationCodeDto {
  code: string;
  name: string;
  parentCode: string | null;
  retentionActiveYears: number | null;
  retentionInactiveYears: number | null;
  finalFate: FinalFate | null;
  active: boolean;
  /** Sub-codes still active: a code with none is a leaf, the kind letters use. */
  activeChildren: number;
  updatedAt: Date;
}

type Row = NonNullable<Awaited<ReturnType<typeof repo.getCode>>>;
function dto(r: Row): ClassificationCodeDto {
  return {
    code: r.code, name: r.name, parentCode: r.parent_code, retentionActiveYears: r.retention_active_years,
    retentionInactiveYears: r.retention_inactive_years, finalFate: r.final_fate, active: r.active,
    activeChildren: Number(r.active_children), updatedAt: r.updated_at,
  };
}

/** A leaf is what letters are filed under, so it should carry its retention. */
export function lacksRetention(c: Pick<ClassificationCodeDto, 'active' | 'activeChildren' | 'retentionActiveYears' | 'retentionInactiveYears' | 'finalFate'>): boolean {
  return c.active && c.activeChildren === 0 && (c.retentionActiveYears === null || c.retentionInactiveYears === null || c.finalFate === null);
}

/** Warnings do not refuse the change; the page and the API show them. */
export interface Warning {
  key: string;
  params: Record<string, string>;
}
function warningsFor(c: ClassificationCodeDto): Warning[] {
  return lacksRetention(c) ? [{ key: 'archive.warn.no_retention', params: { code: c.code } }] : [];
}

function requireMaintain(user: CurrentUser) {
  if (!mayMaintainClassification(user)) throw new ForbiddenError();
}

/** The code minus its last segment: 000.1.5 -> 000.1; a three-digit code has none. */
export function parentOf(code: string): string | null {
  const i = code.lastIndexOf('.');
  return i < 0 ? null : code.slice(0, i);
}

// ---------- use cases ----------

export type StatusFilter = 'active' | 'inactive' | 'all';

/** The scheme in tree order, searched by code prefix or name, paginated. Inactive codes too, for the maintainers. */
export async function listCodes(ctx: AppContext, user: CurrentUser, filter: { q?: string; status?: StatusFilter }, page: { size: number; offset: number }) {
  requireMaintain(user);
  const active = filter.status === 'active' ? true : filter.status === 'inactive' ? false : undefined;
  const { rows, total } = await repo.listCodes(ctx.db, { q: filter.q?.trim().slice(0, 100) || undefined, active }, page);
  return { items: rows.map(dto), total };
}

export async function getCode(ctx: AppContext, user: CurrentUser, code: string): Promise<ClassificationCodeDto> {
  requireMaintain(user);
  const row = CODE_RE.test(code) ? await repo.getCode(ctx.db, code) : undefined;
  if (!row) throw new NotFoundError();
  return dto(row);
}

/** Active codes, for choosing a parent. */
export async function parentChoices(ctx: AppContext, user: CurrentUser) {
  requireMaintain(user);
  return repo.activeCodes(ctx.db);
}

/**
 * Adds a code under its parent: the parent must exist, be active, and be the
 * code minus its last segment (if the caller names one, it must be that one).
 */
export async function createCode(ctx: AppContext, user: CurrentUser, input: unknown): Promise<{ code: ClassificationCodeDto; warnings: Warning[] }> {
  requireMaintain(user);
  const d = parseInput(createSchema, input);
  const expected = parentOf(d.code);
  // An empty parent is derived; a named one must be the derived one.
  if (d.parentCode != null && d.parentCode !== expected) throw fieldError('parentCode', 'archive.invalid.parent_mismatch');
  try {
    return await ctx.db.transaction().execute(async (trx) => {
      if (await repo.getCode(trx, d.code)) throw new ConflictError('archive.conflict.exists', { code: d.code });
      if (expected !== null) {
        const parent = await repo.lockCode(trx, expected);
        if (!parent) throw fieldError('parentCode', 'archive.invalid.parent_missing');
        if (!parent.active) throw fieldError('parentCode', 'archive.invalid.parent_inactive');
      }
      const row = {
        code: d.code, name: d.name, parent_code: expected, retention_active_years: d.retentionActiveYears ?? null,
        retention_inactive_years: d.retentionInactiveYears ?? null, final_fate: d.finalFate ?? null,
      };
      await repo.insertCode(trx, row);
      await appendAudit(trx, actorOf(user), {
        action: 'classification.created', objectType: 'classification_code', objectId: d.code,
        details: { code: row.code, name: row.name, parentCode: row.parent_code, retentionActiveYears: row.retention_active_years, retentionInactiveYears: row.retention_inactive_years, finalFate: row.final_fate },
      });
      const created = dto((await repo.getCode(trx, d.code))!);
      return { code: created, warnings: warningsFor(created) };
    });
  } catch (e) {
    // Two admins adding the same code at once: the second one hits the primary key.
    if ((e as { code?: string }).code === '23505') throw new ConflictError('archive.conflict.exists', { code: d.code });
    throw e;
  }
}

const COLUMNS = { name: 'name', retentionActiveYears: 'retention_active_years', retentionInactiveYears: 'retention_inactive_years', finalFate: 'final_fate', active: 'active' } as const;

/**
 * Changes a code's name, retention, final fate or active flag; never the code
 * itself. Deactivating is refused while sub-codes are active, reactivating
 * while the parent is inactive. The audit entry names each changed field.
 */
export async function updateCode(ctx: AppContext, user: CurrentUser, code: string, input: unknown): Promise<{ code: ClassificationCodeDto; warnings: Warning[]; changed: boolean }> {
  requireMaintain(user);
  if (!CODE_RE.test(code)) throw new NotFoundError();
  if (input && typeof input === 'object' && ('code' in input || 'parentCode' in input)) throw fieldError('code', 'archive.invalid.code_immutable');
  const d = parseInput(updateSchema, input);
  return ctx.db.transaction().execute(async (trx) => {
    const before = await repo.lockCode(trx, code);
    if (!before) throw new NotFoundError();
    const { changes, patch } = fieldChanges(COLUMNS, d, before);
    if (changes.active) {
      const current = (await repo.getCode(trx, code))!;
      if (d.active === false && Number(current.active_children) > 0) throw fieldError('active', 'archive.refuse.active_children');
      const parent = before.parent_code ? await repo.lockCode(trx, before.parent_code) : undefined;
      if (d.active === true && parent && !parent.active) throw fieldError('active', 'archive.invalid.parent_inactive');
    }
    const changed = Object.keys(changes).length > 0;
    if (changed) {
      await repo.updateCode(trx, code, patch);
      await appendAudit(trx, actorOf(user), { action: 'classification.updated', objectType: 'classification_code', objectId: code, details: { code, changes } });
    }
    const after = dto((await repo.getCode(trx, code))!);
    return { code: after, warnings: warningsFor(after), changed };
  });
}
