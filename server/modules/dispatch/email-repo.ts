// SQL of the e-mail channel of outbound_messages: claim the rows that are due,
// read what the message needs, record the outcome. The row is the queue: its
// status, attempts, last_error and next_attempt_at are what the sender sees.
import { sql } from 'kysely';
import type { Executor } from '../../platform/db/index.js';

export interface ClaimedEmail {
  id: string;
  letter_id: string;
  address: string;
  attempts: number;
}

/**
 * Claims up to `limit` queued e-mails whose time has come: attempts + 1 and
 * next_attempt_at moved to `leaseUntil`, in one statement. SKIP LOCKED lets
 * concurrent sweeps take different rows; the lease means a process that dies
 * while sending leaves the row to be retried after it, not lost.
 */
export async function claimDueEmails(db: Executor, now: Date, leaseUntil: Date, limit: number): Promise<ClaimedEmail[]> {
  const r = await sql<ClaimedEmail>`
    WITH due AS (
      SELECT id FROM outbound_messages
      WHERE channel = 'email' AND status = 'queued' AND next_attempt_at <= ${now}
      ORDER BY next_attempt_at, id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE outbound_messages o
    SET attempts = o.attempts + 1, next_attempt_at = ${leaseUntil}
    FROM due
    WHERE o.id = due.id
    RETURNING o.id::text AS id, o.letter_id::text AS letter_id, o.address, o.attempts`.execute(db);
  return r.rows;
}

/** What the message says: the letter's number and hal, the addressee's name, the signed PDF. */
export function emailContent(db: Executor, outboundId: string) {
  return db
    .selectFrom('outbound_messages as o')
    .innerJoin('letters as l', 'l.id', 'o.letter_id')
    .innerJoin('letter_recipients as r', 'r.id', 'o.recipient_id')
    .leftJoin('letter_signatures as s', 's.letter_id', 'o.letter_id')
    .select(['l.number', 'l.subject', 'r.ext_name', 's.pdf_sha256', 's.verification_id'])
    .where('o.id', '=', outboundId)
    .executeTakeFirstOrThrow();
}

export async function markSent(db: Executor, id: string, sentAt: Date, receipt: Record<string, unknown>): Promise<boolean> {
  const r = await db
    .updateTable('outbound_messages')
    .set({ status: 'sent', sent_at: sentAt, last_error: null, receipt: JSON.stringify(receipt) })
    .where('id', '=', id)
    .where('status', '=', 'queued')
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

export async function markRetry(db: Executor, id: string, error: string, nextAttemptAt: Date): Promise<void> {
  await db
    .updateTable('outbound_messages')
    .set({ last_error: error, next_attempt_at: nextAttemptAt })
    .where('id', '=', id)
    .where('status', '=', 'queued')
    .execute();
}

export async function markFailed(db: Executor, id: string, error: string): Promise<boolean> {
  const r = await db
    .updateTable('outbound_messages')
    .set({ status: 'failed', last_error: error })
    .where('id', '=', id)
    .where('status', '=', 'queued')
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/** Says why due e-mails wait (no SMTP server configured), without counting an attempt. */
export async function noteWaiting(db: Executor, now: Date, reason: string): Promise<number> {
  const r = await db
    .updateTable('outbound_messages')
    .set({ last_error: reason })
    .where('channel', '=', 'email')
    .where('status', '=', 'queued')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('last_error', 'is', null), eb('last_error', '!=', reason)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}
