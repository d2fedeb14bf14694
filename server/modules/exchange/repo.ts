// SQL for peers, nonces, letters received from peers, and the exchange rows of
// outbound_messages (the dispatch module's queue; we only claim and settle 'exchange' rows).
import { sql } from 'kysely';
import type { Executor } from '../../platform/db/index.js';
import type { SignedReceipt } from './protocol.js';

export function listPeers(db: Executor, page: { limit: number; offset: number }) {
  return db.selectFrom('peers').selectAll().orderBy('active', 'desc').orderBy('code').limit(page.limit).offset(page.offset).execute();
}

export async function countPeers(db: Executor): Promise<number> {
  return Number((await db.selectFrom('peers').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
}

export function peerByCode(db: Executor, code: string) {
  return db.selectFrom('peers').selectAll().where('code', '=', code).executeTakeFirst();
}

export function getPeer(db: Executor, id: string, opts: { forUpdate?: boolean } = {}) {
  const q = db.selectFrom('peers').selectAll().where('id', '=', id);
  return (opts.forUpdate ? q.forUpdate() : q).executeTakeFirst();
}

export async function insertPeer(db: Executor, p: { code: string; name: string; url: string; public_key_pem: string; created_by: string }): Promise<string> {
  return String((await db.insertInto('peers').values(p).returning('id').executeTakeFirstOrThrow()).id);
}

export async function setPeerActive(db: Executor, id: string, active: boolean) {
  await db.updateTable('peers').set({ active }).where('id', '=', id).execute();
}

/** False when the nonce was already used by this peer (a replay). Expired nonces are swept on the way. */
export async function useNonce(db: Executor, peerId: string, nonce: string, expiresAt: Date): Promise<boolean> {
  await db.deleteFrom('exchange_nonces').where('expires_at', '<', new Date()).execute();
  const row = await db
    .insertInto('exchange_nonces')
    .values({ peer_id: peerId, nonce, expires_at: expiresAt })
    .onConflict((oc) => oc.columns(['peer_id', 'nonce']).doNothing())
    .returning('nonce')
    .executeTakeFirst();
  return !!row;
}

export function inboundOf(db: Executor, peerId: string, letterRef: string) {
  return db.selectFrom('exchange_inbound').selectAll().where('peer_id', '=', peerId).where('letter_ref', '=', letterRef).executeTakeFirst();
}

export async function insertInbound(db: Executor, r: { peer_id: string; letter_ref: string; pdf_sha256: string; metadata: unknown; incoming_id: string; receipt: SignedReceipt }) {
  await db
    .insertInto('exchange_inbound')
    .values({ ...r, metadata: JSON.stringify(r.metadata), receipt: JSON.stringify(r.receipt) })
    .execute();
}

/** The unit a peer's letter goes to: the active unit with that code, else the top unit. */
export async function registryUnit(db: Executor, code: string | null | undefined): Promise<string> {
  const named = code ? await db.selectFrom('units').select('id').where('code', '=', code).where('active', '=', true).executeTakeFirst() : undefined;
  if (named) return String(named.id);
  const top = await db.selectFrom('units').select('id').where('parent_id', 'is', null).where('active', '=', true).orderBy('id').executeTakeFirstOrThrow();
  return String(top.id);
}

/** The sender's classification code when it is one of ours too; an incoming letter only references known codes. */
export async function knownClassification(db: Executor, code: string | null | undefined): Promise<string | null> {
  if (!code) return null;
  return (await db.selectFrom('classification_codes').select('code').where('code', '=', code).executeTakeFirst())?.code ?? null;
}

// ---------- outbound ----------

/** One queued 'exchange' message per recipient of the letter that is a peer agency; none twice. */
export async function queueForPeers(db: Executor, letterId: string): Promise<number> {
  const r = await sql`
    INSERT INTO outbound_messages (letter_id, recipient_id, channel, peer_id)
    SELECT letter_id, id, 'exchange', peer_id FROM letter_recipients WHERE letter_id = ${letterId} AND peer_id IS NOT NULL
    ON CONFLICT (recipient_id, channel) DO NOTHING`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/** Everything the request needs about one queued message: the letter, its signature, its addressee, the peer. */
export function outboundDetails(db: Executor, messageId: string) {
  return db
    .selectFrom('outbound_messages as m')
    .innerJoin('letters as l', 'l.id', 'm.letter_id')
    .innerJoin('letter_signatures as s', 's.letter_id', 'l.id')
    .innerJoin('letter_recipients as r', 'r.id', 'm.recipient_id')
    .innerJoin('units as u', 'u.id', 'l.unit_id')
    .leftJoin('peers as p', 'p.id', 'm.peer_id')
    .select([
      'm.id', 'm.status', 'm.attempts', 'm.letter_id', 'l.number', 'l.subject', 'l.urgency', 'l.security_class', 'l.classification_code', 'l.unit_id',
      's.signed_at', 's.pdf_sha256', 's.verification_id', 'u.name as unit_name', 'r.ext_name',
      'p.id as peer_id', 'p.code as peer_code', 'p.name as peer_name', 'p.url as peer_url', 'p.public_key_pem as peer_key', 'p.active as peer_active',
    ])
    .where('m.id', '=', messageId)
    .where('m.channel', '=', 'exchange')
    .executeTakeFirst();
}

export async function markDelivered(db: Executor, messageId: string, receipt: SignedReceipt) {
  await db
    .updateTable('outbound_messages')
    .set({ status: 'delivered', receipt: JSON.stringify(receipt), sent_at: new Date(), last_error: null })
    .where('id', '=', messageId)
    .execute();
}

/** One failed attempt (counted when it was claimed): queued again after `retryAt`, or failed for good when `retryAt` is null. */
export async function markAttemptFailed(db: Executor, messageId: string, error: string, retryAt: Date | null) {
  await db
    .updateTable('outbound_messages')
    .set({ status: retryAt ? 'queued' : 'failed', last_error: error.slice(0, 1000), ...(retryAt ? { next_attempt_at: retryAt } : {}) })
    .where('id', '=', messageId)
    .execute();
}

