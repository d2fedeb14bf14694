// SQL for the kinds of letter (jenis naskah) as the administrator sees them, inactive ones included.
import type { Updateable } from 'kysely';
import type { Executor } from '../../platform/db/index.js';
import type { LetterKindTable } from '../../platform/db/schema.js';

export function listAllKinds(db: Executor) {
  return db.selectFrom('letter_kinds').selectAll().orderBy('sort_order').orderBy('code').execute();
}

export function getKind(db: Executor, code: string) {
  return db.selectFrom('letter_kinds').selectAll().where('code', '=', code).executeTakeFirst();
}

export function getKindForUpdate(db: Executor, code: string) {
  return db.selectFrom('letter_kinds').selectAll().where('code', '=', code).forUpdate().executeTakeFirst();
}

export async function updateKind(db: Executor, code: string, patch: Updateable<LetterKindTable>) {
  await db.updateTable('letter_kinds').set(patch).where('code', '=', code).execute();
}
