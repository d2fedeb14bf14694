// Objects get two lifecycle marks: when their copy reached the backup store
// (DESIGN.md section 6; the replication job fills it), and when they were
// destroyed by a disposal (the row stays as the tombstone's evidence, so the
// integrity scanner expects the object gone rather than missing).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE objects ADD COLUMN backed_up_at timestamptz, ADD COLUMN destroyed_at timestamptz`.execute(db);
  await sql`CREATE INDEX objects_not_backed_up ON objects (created_at) WHERE backed_up_at IS NULL AND destroyed_at IS NULL`.execute(db);
}
