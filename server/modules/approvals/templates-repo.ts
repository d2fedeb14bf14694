// SQL for approval chain templates (alur persetujuan) and the lookups their
// administration needs. findTemplate, which picks a template for a letter, is in repo.ts.
import type { Insertable, Updateable } from 'kysely';
import type { Executor } from '../../platform/db/index.js';
import type { ApprovalTemplateTable } from '../../platform/db/schema.js';

function withNames(db: Executor) {
  return db
    .selectFrom('approval_templates as t')
    .leftJoin('letter_kinds as k', 'k.code', 't.kind_code')
    .leftJoin('units as u', 'u.id', 't.unit_id')
    .selectAll('t')
    .select(['k.name as kind_name', 'u.code as unit_code', 'u.name as unit_name']);
}
export type TemplateRow = NonNullable<Awaited<ReturnType<ReturnType<typeof withNames>['executeTakeFirst']>>>;

export async function listTemplates(db: Executor, page: { size: number; offset: number }) {
  const [rows, total] = await Promise.all([
    withNames(db).orderBy('t.active', 'desc').orderBy('t.name').orderBy('t.id').limit(page.size).offset(page.offset).execute(),
    db.selectFrom('approval_templates').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

export function getTemplate(db: Executor, id: string) {
  return withNames(db).where('t.id', '=', id).executeTakeFirst();
}

export function lockTemplate(db: Executor, id: string) {
  return db.selectFrom('approval_templates').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function insertTemplate(db: Executor, row: Insertable<ApprovalTemplateTable>) {
  return String((await db.insertInto('approval_templates').values(row).returning('id').executeTakeFirstOrThrow()).id);
}

export async function updateTemplate(db: Executor, id: string, patch: Updateable<ApprovalTemplateTable>) {
  await db.updateTable('approval_templates').set(patch).where('id', '=', id).execute();
}

/** Another active template for exactly this kind and unit (null matching null). */
export function activeTemplateWithScope(db: Executor, kindCode: string | null, unitId: string | null, exceptId: string | null) {
  let q = db.selectFrom('approval_templates').select(['id', 'name']).where('active', '=', true);
  q = kindCode === null ? q.where('kind_code', 'is', null) : q.where('kind_code', '=', kindCode);
  q = unitId === null ? q.where('unit_id', 'is', null) : q.where('unit_id', '=', unitId);
  if (exceptId) q = q.where('id', '<>', exceptId);
  return q.executeTakeFirst();
}

export function positionsByIds(db: Executor, ids: string[]) {
  if (!ids.length) return Promise.resolve([]);
  return db.selectFrom('positions').select(['id', 'code', 'title', 'active']).where('id', 'in', ids).execute();
}

export function positionsByCodes(db: Executor, codes: string[]) {
  if (!codes.length) return Promise.resolve([]);
  return db.selectFrom('positions').select(['id', 'code', 'title', 'active']).where('code', 'in', codes).execute();
}

export function unitByCode(db: Executor, code: string) {
  return db.selectFrom('units').select(['id', 'code', 'name', 'active']).where('code', '=', code).executeTakeFirst();
}

export function kindByCode(db: Executor, code: string) {
  return db.selectFrom('letter_kinds').select(['code', 'name', 'active']).where('code', '=', code).executeTakeFirst();
}

/** Active kinds, units and positions, for the template form. */
export async function choices(db: Executor) {
  const [kinds, units, positions] = await Promise.all([
    db.selectFrom('letter_kinds').select(['code', 'name']).where('active', '=', true).orderBy('sort_order').execute(),
    db.selectFrom('units').select(['code', 'name']).where('active', '=', true).orderBy('code').execute(),
    db.selectFrom('positions').select(['code', 'title']).where('active', '=', true).orderBy('code').execute(),
  ]);
  return { kinds, units, positions };
}
