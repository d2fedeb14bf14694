// SQL for the archival package: a letter's record row and its audit entries.
import type { Executor } from '../../platform/db/index.js';
import type { AuditEntryJson } from './package-format.js';

export function recordOfLetter(db: Executor, letterId: string) {
  return db.selectFrom('records').select('id').where('letter_id', '=', letterId).executeTakeFirst();
}

/** The entries of the chain about this letter (and its record), oldest first, exactly as hashed. */
export async function auditEntriesOf(db: Executor, letterId: string, recordId: string | null): Promise<AuditEntryJson[]> {
  const rows = await db
    .selectFrom('audit_log')
    .select(['seq', 'at', 'actor_id', 'actor_name', 'action', 'object_type', 'object_id', 'ip', 'details', 'doc_sha256', 'prev_hash', 'hash'])
    .where((eb) => eb.or([eb.and([eb('object_type', '=', 'letter'), eb('object_id', '=', letterId)]), ...(recordId ? [eb.and([eb('object_type', '=', 'record'), eb('object_id', '=', recordId)])] : [])]))
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({ ...r, seq: String(r.seq), actor_id: r.actor_id === null ? null : String(r.actor_id) }));
}
