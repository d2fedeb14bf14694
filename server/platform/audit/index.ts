// The audit trail (DESIGN.md section 7): append-only and hash-chained.
// Each entry's hash = SHA-256(previous hash + RFC 8785 canonical JSON of the entry).
// Appends are serialised by locking the one-row head FOR UPDATE inside the caller's
// transaction, so the entry commits or rolls back with the change it records.
import crypto from 'node:crypto';
import canonicalize from 'canonicalize';
import { sql } from 'kysely';
import type { Executor } from '../db/index.js';
import type { AuditAction } from './actions.js';

export { AUDIT_ACTIONS, type AuditAction } from './actions.js';

export interface Actor {
  id: string | null;
  name: string | null;
  ip?: string | null;
}

export interface AuditInput {
  action: AuditAction;
  objectType?: string;
  objectId?: string | number | bigint;
  details?: Record<string, unknown>;
  /** SHA-256 of the document version or file this entry concerns. */
  docSha256?: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** The columns an entry's hash covers, plus the link to the previous entry. */
export interface ChainFields {
  seq: string;
  at: string;
  actor_id: string | null;
  actor_name: string | null;
  action: string;
  object_type: string | null;
  object_id: string | null;
  ip: string | null;
  details: Record<string, unknown>;
  doc_sha256: string | null;
  prev_hash: string;
}

/** What an entry's hash covers, under the names the API also uses. */
export function entryFields(e: Omit<ChainFields, 'prev_hash'>) {
  return {
    seq: String(e.seq),
    at: e.at,
    actorId: e.actor_id === null ? null : String(e.actor_id),
    actorName: e.actor_name,
    action: e.action,
    objectType: e.object_type,
    objectId: e.object_id,
    ip: e.ip,
    details: e.details ?? {},
    docSha256: e.doc_sha256,
  };
}

export function entryHash(e: ChainFields): string {
  const canonical = canonicalize(entryFields(e));
  return crypto.createHash('sha256').update(e.prev_hash).update(canonical ?? '').digest('hex');
}

/** Append one entry; must run inside the transaction that makes the change. */
export async function appendAudit(trx: Executor, actor: Actor, input: AuditInput): Promise<string> {
  const head = await trx.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).forUpdate().executeTakeFirstOrThrow();
  const fields: ChainFields = {
    seq: String(BigInt(head.seq) + 1n),
    at: new Date().toISOString(),
    actor_id: actor.id === null ? null : String(actor.id),
    actor_name: actor.name,
    action: input.action,
    object_type: input.objectType ?? null,
    object_id: input.objectId === undefined ? null : String(input.objectId),
    ip: actor.ip ?? null,
    // Round-trip through JSON so what we hash is exactly what jsonb gives back.
    details: JSON.parse(JSON.stringify(input.details ?? {})),
    doc_sha256: input.docSha256 ?? null,
    prev_hash: head.hash,
  };
  const hash = entryHash(fields);
  await trx
    .insertInto('audit_log')
    .values({ ...fields, details: JSON.stringify(fields.details), hash })
    .execute();
  await trx.updateTable('audit_head').set({ seq: fields.seq, hash }).where('id', '=', 1).execute();
  return hash;
}

export interface ChainVerdict {
  ok: boolean;
  count: number;
  headSeq: string;
  headHash: string;
  firstBad?: { seq: string; reason: string; code: BreakKind };
}

/** Why the chain breaks at an entry; the page translates it (audit.break.*). */
export type BreakKind = 'missing' | 'prev_mismatch' | 'altered' | 'truncated' | 'head_mismatch';

/**
 * Walk the chain in order up to the head read at the start and name the first
 * entry that does not fit. Entries appended meanwhile are left to the next run:
 * on a busy server, walking past that head reported them as tampering.
 */
export async function verifyAuditChain(db: Executor, batch = 5000): Promise<ChainVerdict> {
  const head = await db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
  let prevHash = GENESIS_HASH;
  let expected = 1n;
  let count = 0;
  const bad = (seq: bigint | string, code: BreakKind, reason: string): ChainVerdict => ({
    ok: false,
    count,
    headSeq: String(head.seq),
    headHash: head.hash,
    firstBad: { seq: String(seq), reason, code },
  });
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where(sql<boolean>`seq >= ${String(expected)}::bigint`)
      .where(sql<boolean>`seq <= ${String(head.seq)}::bigint`)
      .orderBy('seq')
      .limit(batch)
      .execute();
    if (rows.length === 0) break;
    for (const r of rows) {
      const seq = BigInt(r.seq);
      if (seq !== expected) return bad(expected, 'missing', `entry ${expected} is missing (next present is ${seq})`);
      if (r.prev_hash !== prevHash) return bad(seq, 'prev_mismatch', 'prev_hash does not match the previous entry');
      if (entryHash(r as unknown as ChainFields) !== r.hash) return bad(seq, 'altered', 'content does not match its hash (altered)');
      prevHash = r.hash;
      expected = seq + 1n;
      count++;
    }
  }
  const last = expected - 1n;
  if (String(last) !== String(head.seq)) {
    return bad(last + 1n, 'truncated', `head says ${head.seq} entries but the chain ends at ${last} (entries deleted at the end)`);
  }
  if (head.hash !== prevHash) return bad(last, 'head_mismatch', 'head hash does not match the last entry');
  // appendAudit moves the head in the entry's transaction: seen in one statement, no entry lies beyond it.
  const now = (await sql<{ head: string; last: string | null }>`SELECT h.seq AS head, (SELECT max(seq) FROM audit_log) AS last FROM audit_head h WHERE h.id = 1`.execute(db)).rows[0];
  if (now.last !== null && BigInt(now.last) > BigInt(now.head)) {
    return bad(BigInt(now.head) + 1n, 'head_mismatch', `entries ${BigInt(now.head) + 1n} to ${now.last} lie beyond the head (${now.head})`);
  }
  return { ok: true, count, headSeq: String(head.seq), headHash: head.hash };
}
