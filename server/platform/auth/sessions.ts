// Ending a user's browser sessions (the store is connect-pg-simple's `session`
// table, its JSON holding passport's user id).
import { sql } from 'kysely';
import type { Executor } from '../db/index.js';

/** Signs the user out everywhere, except the session `keepSid` (the one making the change). */
export async function endSessionsOf(db: Executor, userId: string, keepSid?: string) {
  await sql`DELETE FROM session WHERE sess->'passport'->>'user' = ${userId} AND sid IS DISTINCT FROM ${keepSid ?? null}`.execute(db);
}
