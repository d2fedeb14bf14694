// The outbound_messages queue, shared by its two channels (e-mail, and letters to
// peer installations through exchange): claiming the rows whose time has come.
// The row is the queue: status, attempts, last_error and next_attempt_at are
// what the sender sees; each channel records its own outcome.
import { sql } from 'kysely';
import type { Executor } from '../../platform/db/index.js';

export interface ClaimedMessage {
  id: string;
  letter_id: string;
  /** The e-mail address (channel 'email'); null for 'exchange', whose peer is on the row. */
  address: string | null;
  /** Including this claim: a claim counts as an attempt, so a process that dies mid-send still moves towards giving up. */
  attempts: number;
}

/**
 * Claims up to `limit` queued messages of `channel` whose time has come:
 * attempts + 1 and next_attempt_at moved to `leaseUntil`, in one statement.
 * SKIP LOCKED lets concurrent sweeps take different rows; the lease means a
 * process that dies while sending leaves the row to be retried after it, not lost.
 */
export async function claimDueOutbound(db: Executor, channel: 'email' | 'exchange', now: Date, leaseUntil: Date, limit: number): Promise<ClaimedMessage[]> {
  const r = await sql<ClaimedMessage>`
    WITH due AS (
      SELECT id FROM outbound_messages
      WHERE channel = ${channel} AND status = 'queued' AND next_attempt_at <= ${now}
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
