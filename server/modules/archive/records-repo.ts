// SQL for archival records: the upsert from the source views of migration
// 0011_records (the same mapping the backfill used), so a record always
// mirrors its letter or incoming letter as of the caller's transaction. A
// destroyed record (0012_archive) is a tombstone and is never refilled.
import { sql } from 'kysely';
import type { Executor } from '../../platform/db/index.js';

const COLUMNS = sql.raw(
  'letter_id, incoming_letter_id, unit_id, kind_code, number, sender_number, subject, security_class, classification_code, state, record_date, sender, recipients, body_text, attachments_text, created_at',
);
const UPDATES = sql.raw(
  `unit_id = EXCLUDED.unit_id, kind_code = EXCLUDED.kind_code, number = EXCLUDED.number, sender_number = EXCLUDED.sender_number,
   subject = EXCLUDED.subject, security_class = EXCLUDED.security_class, classification_code = EXCLUDED.classification_code,
   state = EXCLUDED.state, record_date = EXCLUDED.record_date, sender = EXCLUDED.sender, recipients = EXCLUDED.recipients,
   body_text = EXCLUDED.body_text, attachments_text = EXCLUDED.attachments_text, updated_at = now()
   WHERE records.destroyed_at IS NULL`,
);

export async function upsertLetterRecord(db: Executor, letterId: string): Promise<void> {
  await sql`INSERT INTO records (${COLUMNS}) SELECT * FROM record_source_letters WHERE letter_id = ${letterId}
            ON CONFLICT (letter_id) DO UPDATE SET ${UPDATES}`.execute(db);
}

/** Incoming copies of our own letters (source 'internal') have no record of their own: the view leaves them out. */
export async function upsertIncomingRecord(db: Executor, incomingId: string): Promise<void> {
  await sql`INSERT INTO records (${COLUMNS}) SELECT * FROM record_source_incoming WHERE incoming_letter_id = ${incomingId}
            ON CONFLICT (incoming_letter_id) DO UPDATE SET ${UPDATES}`.execute(db);
}
