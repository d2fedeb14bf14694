// A TOTP code is good once: the last accepted time step is kept per user, and a
// code for that step or an earlier one is refused (RFC 6238 §5.2).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE users ADD COLUMN totp_last_step integer`.execute(db);
}
