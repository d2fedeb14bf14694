// "Balas" answers a received letter of any source (paper, e-mail, exchange, or
// our own): the draft records the incoming letter it answers.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE letters ADD COLUMN reply_to_incoming_id bigint REFERENCES incoming_letters(id)`.execute(db);
}
