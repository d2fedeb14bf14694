// SQL of the e-mail channel of outbound_messages: read what the message needs,
// record the outcome (claiming due rows is outbound-repo.ts, shared with exchange). The row is the queue: its
// status, attempts, last_error and next_attempt_at are what the sender sees.
import type { Executor } from '../../platform/db/index.js';

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
