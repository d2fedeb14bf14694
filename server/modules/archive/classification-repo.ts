// SQL for the archival classification codes (kode klasifikasi arsip).
import { sql, type Insertable, type Updateable } from 'kysely';
import type { Executor } from '../../platform/db/index.js';
import type { ClassificationCodeTable } from '../../platform/db/schema.js';

export interface CodeFilter {
  q?: string;
  active?: boolean;
}

/** Tree order: by the numeric segments, so 000.1.9 comes before 000.1.10 and every parent before its children. */
const treeOrder = sql`string_to_array(c.code, '.')::int[]`;

function filtered(db: Executor, f: CodeFilter) {
  let q = db.selectFrom('classification_codes as c');
  if (f.active !== undefined) q = q.where('c.active', '=', f.active);
  if (f.q) {
    const like = f.q.replace(/[\\%_]/g, (m) => '\\' + m);
    q = q.where((eb) => eb.or([eb('c.code', 'like', `${like}%`), eb('c.name', 'ilike', `%${like}%`)]));
  }
  return q;
}

const withChildren = [
  sql<number>`(SELECT count(*) FROM classification_codes k WHERE k.parent_code = c.code AND k.active)::int`.as('active_children'),
  sql<number>`(SELECT count(*) FROM classification_codes k WHERE k.parent_code = c.code)::int`.as('children'),
];

export async function listCodes(db: Executor, f: CodeFilter, page: { size: number; offset: number }) {
  const [rows, total] = await Promise.all([
    filtered(db, f).selectAll('c').select(withChildren).orderBy(treeOrder).limit(page.size).offset(page.offset).execute(),
    filtered(db, f).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

export function getCode(db: Executor, code: string) {
  return db.selectFrom('classification_codes as c').selectAll('c').select(withChildren).where('c.code', '=', code).executeTakeFirst();
}

/** Locks the row, so a child cannot be added under a code that is being deactivated at the same moment. */
export function lockCode(db: Executor, code: string) {
  return db.selectFrom('classification_codes').selectAll().where('code', '=', code).forUpdate().executeTakeFirst();
}

export async function insertCode(db: Executor, row: Insertable<ClassificationCodeTable>) {
  await db.insertInto('classification_codes').values(row).execute();
}

export async function updateCode(db: Executor, code: string, patch: Updateable<ClassificationCodeTable>) {
  await db.updateTable('classification_codes').set({ ...patch, updated_at: new Date() }).where('code', '=', code).execute();
}

/** Codes for a datalist of parents: active headings and leaves, in tree order. */
export function activeCodes(db: Executor) {
  return db.selectFrom('classification_codes as c').select(['c.code', 'c.name']).where('c.active', '=', true).orderBy(treeOrder).execute();
}
