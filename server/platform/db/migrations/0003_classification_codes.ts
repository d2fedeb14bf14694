// Seeds the archival classification codes; parents are inserted before children.
import type { Kysely } from 'kysely';
import { loadClassificationSeed } from '../../../modules/archive/classification-seed.js';

export async function up(db: Kysely<any>): Promise<void> {
  const rows = loadClassificationSeed().sort((a, b) => a.code.split('.').length - b.code.split('.').length);
  for (let i = 0; i < rows.length; i += 100) {
    await db.insertInto('classification_codes').values(rows.slice(i, i + 100)).execute();
  }
}
