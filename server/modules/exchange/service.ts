// Exchange between installations: peers (registered by an administrator),
// the inbound endpoint (authenticate the peer's request, verify the letter's
// PAdES signature, register it as an incoming letter, answer a signed receipt),
// and the outbound sender that delivers queued 'exchange' messages to peers.
import crypto from 'node:crypto';
import { z } from 'zod';
import type { AppContext } from '../../platform/context.js';
import type { Executor } from '../../platform/db/index.js';
import { appendAudit, type Actor } from '../../platform/audit/index.js';
import { actorOf, type CurrentUser } from '../../platform/auth/current-user.js';
import { can } from '../../platform/auth/permissions.js';
import { AppError, ConflictError, ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '../../platform/http/errors.js';
import { fieldError, parseInput } from '../../platform/http/validate.js';
import { verificationOptions } from '../signing/service.js';
import { verifyPdf } from '../signing/verify.js';
import type { PeriodicJob } from '../../platform/jobs/index.js';
import { registerIncoming } from '../dispatch/service.js';
import { agencyName, jakartaDate } from '../org/hierarchy.js';
import { retryDelayMs } from '../dispatch/email.js';
import { claimDueOutbound } from '../dispatch/outbound-repo.js';
import { installationId, installationKey } from './keys.js';
import {
  HEADERS, INBOUND_PATH, MAX_SKEW_SECONDS, NONCE_RE, canonicalRequest, ed25519PublicKey, receiptValid, sha256Hex, signReceipt, signRequest, timestampFresh, verifySignature,
  type LetterMetadata, type SignedReceipt,
} from './protocol.js';
import * as repo from './repo.js';

// ---------- peers (administration) ----------

function mayManagePeers(actor: CurrentUser): boolean {
  return can(actor, 'org.manage');
}

/** Ids come from URLs: anything but a bigint is a record that does not exist. */
function knownId(id: string): string {
  if (!/^\d{1,18}$/.test(id)) throw new NotFoundError();
  return id;
}

export async function listPeers(ctx: AppContext, actor: CurrentUser, page: { limit: number; offset: number }) {
  if (!mayManagePeers(actor)) throw new ForbiddenError();
  const [rows, total] = await Promise.all([repo.listPeers(ctx.db, page), repo.countPeers(ctx.db)]);
  return { rows: rows.map((p) => ({ ...p, fingerprint: keyFingerprint(p.public_key_pem) })), total };
}

const peerSchema = z.object({
  code: z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'exchange.peer_code_invalid'),
  name: z.string().trim().min(1).max(200),
  url: z
    .string()
    .trim()
    .max(500)
    .url()
    .refine((u) => /^https?:\/\//.test(u), 'exchange.peer_url_invalid')
    .transform((u) => u.replace(/\/+$/, '')),
  public_key_pem: z.string().trim().min(1).max(2000),
});

export async function addPeer(ctx: AppContext, actor: CurrentUser, input: unknown): Promise<{ id: string }> {
  if (!mayManagePeers(actor)) throw new ForbiddenError();
  const p = parseInput(peerSchema, input);
  const pem = ed25519PublicKey(p.public_key_pem);
  if (!pem) throw fieldError('public_key_pem', 'exchange.peer_key_invalid');
  // Letters (and their metadata) travel in this request: in production only over TLS.
  if (ctx.config.NODE_ENV === 'production' && !p.url.startsWith('https://')) throw fieldError('url', 'exchange.peer_url_invalid');
  if (p.code === (await installationId(ctx.db, ctx.config))) throw fieldError('code', 'exchange.peer_is_self');
  return ctx.db.transaction().execute(async (trx) => {
    if (await repo.peerByCode(trx, p.code)) throw fieldError('code', 'exchange.peer_duplicate');
    const id = await repo.insertPeer(trx, { ...p, public_key_pem: pem, created_by: actor.id });
    await appendAudit(trx, actorOf(actor), { action: 'exchange.peer_added', objectType: 'peer', objectId: id, details: { code: p.code, name: p.name, url: p.url, fingerprint: keyFingerprint(pem) } });
    return { id };
  });
}

export async function deactivatePeer(ctx: AppContext, actor: CurrentUser, peerId: string): Promise<void> {
  if (!mayManagePeers(actor)) throw new ForbiddenError();
  await ctx.db.transaction().execute(async (trx) => {
    const p = await repo.getPeer(trx, knownId(peerId), { forUpdate: true });
    if (!p) throw new NotFoundError();
    if (!p.active) throw new ConflictError('exchange.peer_inactive');
    await repo.setPeerActive(trx, peerId, false);
    await appendAudit(trx, actorOf(actor), { action: 'exchange.peer_deactivated', objectType: 'peer', objectId: peerId, details: { code: p.code } });
  });
}

function keyFingerprint(pem: string): string {
  return crypto.createHash('sha256').update(crypto.createPublicKey(pem).export({ type: 'spki', format: 'der' })).digest('hex');
}

/** What a peer's administrator needs to register us: our id, public key and URL. Public. */
export async function installationCard(ctx: AppContext) {
  const key = installationKey(ctx);
  return { installationId: await installationId(ctx.db, ctx.config), url: ctx.config.publicUrl, publicKeyPem: key.publicKeyPem, fingerprint: key.fingerprint, algorithm: 'Ed25519' };
}

// ---------- inbound ----------

export interface InboundRequest {
  method: string;
  path: string;
  header(name: string): string | undefined;
  contentType: string | undefined;
  body: Buffer;
  ip: string | null;
}

const metadataSchema = z.object({
  letterId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  number: z.string().trim().min(1).max(200),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  subject: z.string().trim().min(1).max(500),
  urgency: z.enum(['biasa', 'segera', 'sangat_segera']),
  securityClass: z.enum(['biasa', 'terbatas', 'rahasia', 'sangat_rahasia']),
  classificationCode: z.string().trim().max(40).nullish(),
  senderAgency: z.string().trim().min(1).max(300),
  recipient: z.object({ name: z.string().trim().min(1).max(300), unit: z.string().trim().max(32).nullish() }),
  verificationUrl: z.string().url().max(500).nullish(),
  pdfSha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/** 422 with the verifier's reason codes: the PDF's signature is not one we accept. */
export class SignatureRefusedError extends AppError {
  constructor(reasons: string[]) {
    super(422, 'signature_refused', 'exchange.signature_refused', {}, { reasons });
  }
}

/**
 * A peer delivers a signed letter. Refusals (401 unknown/inactive peer, bad
 * signature, stale timestamp; 409 replayed nonce; 422 refused PAdES signature)
 * store nothing but their audit entry. The same letter again answers the same
 * receipt and registers nothing.
 */
export async function receiveInbound(ctx: AppContext, req: InboundRequest): Promise<SignedReceipt> {
  const h = { peer: req.header(HEADERS.peer) ?? '', timestamp: req.header(HEADERS.timestamp) ?? '', nonce: req.header(HEADERS.nonce) ?? '', signature: req.header(HEADERS.signature) ?? '' };
  const refuse = async (reason: string, err: AppError, extra: Record<string, unknown> = {}): Promise<never> => {
    await ctx.db.transaction().execute((trx) =>
      appendAudit(trx, peerActor(h.peer, req.ip), { action: 'exchange.inbound_refused', objectType: 'peer', details: { reason, peer: h.peer.slice(0, 64), ...extra } }),
    );
    throw err;
  };
  if (!h.peer || !h.timestamp || !NONCE_RE.test(h.nonce) || !h.signature) await refuse('missing_headers', new UnauthorizedError('exchange.unauthenticated'));
  const peer = await repo.peerByCode(ctx.db, h.peer.slice(0, 64));
  if (!peer?.active) await refuse(peer ? 'inactive_peer' : 'unknown_peer', new UnauthorizedError('exchange.unauthenticated'));
  const message = canonicalRequest({ method: req.method, path: req.path, timestamp: h.timestamp, nonce: h.nonce, bodySha256: sha256Hex(req.body) });
  if (!verifySignature(peer!.public_key_pem, message, h.signature)) await refuse('bad_signature', new UnauthorizedError('exchange.unauthenticated'));
  if (!timestampFresh(h.timestamp)) await refuse('stale_timestamp', new UnauthorizedError('exchange.unauthenticated'), { timestamp: h.timestamp });

  const { metadata, pdf } = await readMultipart(req);
  const sender: Actor = peerActor(peer!.code, req.ip);
  const expiresAt = new Date(Date.now() + 2 * MAX_SKEW_SECONDS * 1000);
  let refused: { reason: string; err: AppError; extra?: Record<string, unknown> } | undefined;
  try {
    return await ctx.db.transaction().execute(async (trx) => {
      // One delivery per peer at a time: two copies of one letter must not both register.
      await repo.getPeer(trx, String(peer!.id), { forUpdate: true });
      if (!(await repo.useNonce(trx, String(peer!.id), h.nonce, expiresAt))) {
        refused = { reason: 'replayed_nonce', err: new ConflictError('exchange.replayed') };
        throw refused.err;
      }
      const earlier = await repo.inboundOf(trx, String(peer!.id), metadata.letterId);
      if (earlier) {
        if (earlier.pdf_sha256 !== metadata.pdfSha256) {
          refused = { reason: 'different_pdf', err: new ConflictError('exchange.letter_conflict'), extra: { letterId: metadata.letterId } };
          throw refused.err;
        }
        return earlier.receipt as SignedReceipt;
      }
      const verdict = await verifyPdf(pdf, await verificationOptions(trx));
      if (!verdict.valid) {
        refused = { reason: 'pdf_signature', err: new SignatureRefusedError(verdict.reasons), extra: { letterId: metadata.letterId, reasons: verdict.reasons } };
        throw refused.err;
      }
      return register(ctx, trx, sender, String(peer!.id), peer!.code, metadata, pdf);
    });
  } catch (e) {
    if (refused && e === refused.err) await refuse(refused.reason, refused.err, refused.extra);
    throw e;
  }
}

function peerActor(code: string, ip: string | null): Actor {
  return { id: null, name: `peer:${code.slice(0, 64)}`, ip };
}

async function readMultipart(req: InboundRequest): Promise<{ metadata: LetterMetadata; pdf: Buffer }> {
  if (!req.contentType?.toLowerCase().startsWith('multipart/form-data')) throw new ValidationError('exchange.malformed');
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(req.body), { headers: { 'content-type': req.contentType } }).formData();
  } catch {
    throw new ValidationError('exchange.malformed');
  }
  const meta = form.get('metadata');
  const file = form.get('pdf');
  if (meta === null || !(file instanceof Blob)) throw new ValidationError('exchange.malformed');
  let json: unknown;
  try {
    json = JSON.parse(typeof meta === 'string' ? meta : await meta.text());
  } catch {
    throw new ValidationError('exchange.malformed');
  }
  const metadata = parseInput(metadataSchema, json) as LetterMetadata;
  const pdf = Buffer.from(await file.arrayBuffer());
  if (pdf.subarray(0, 5).toString('latin1') !== '%PDF-') throw fieldError('pdf', 'exchange.not_pdf');
  if (sha256Hex(pdf) !== metadata.pdfSha256) throw fieldError('pdf', 'exchange.sha256_mismatch');
  return { metadata, pdf };
}

async function register(ctx: AppContext, trx: Executor, sender: Actor, peerId: string, peerCode: string, m: LetterMetadata, pdf: Buffer): Promise<SignedReceipt> {
  const stored = await ctx.store.put(trx, pdf, 'application/pdf', null);
  const incoming = await registerIncoming(trx, {
    unitId: await repo.registryUnit(trx, m.recipient.unit),
    source: 'exchange',
    externalRef: `${peerCode}/${m.letterId}`,
    senderName: m.senderAgency,
    senderNumber: m.number,
    senderDate: m.date,
    subject: m.subject,
    urgency: m.urgency,
    securityClass: m.securityClass,
    classificationCode: await repo.knownClassification(trx, m.classificationCode),
    pdfSha256: stored.sha256,
    registeredBy: null,
  });
  const receipt = signReceipt(installationKey(ctx).privateKey, {
    receiver: await installationId(trx, ctx.config),
    sender: peerCode,
    letterId: m.letterId,
    pdfSha256: stored.sha256,
    incomingId: String(incoming.id),
    agendaNumber: incoming.agenda_number ?? '',
    receivedAt: new Date().toISOString(),
  });
  await repo.insertInbound(trx, { peer_id: peerId, letter_ref: m.letterId, pdf_sha256: stored.sha256, metadata: m, incoming_id: String(incoming.id), receipt });
  await appendAudit(trx, sender, {
    action: 'exchange.received',
    objectType: 'incoming_letter',
    objectId: incoming.id,
    docSha256: stored.sha256,
    details: { peer: peerCode, letterId: m.letterId, number: m.number, agendaNumber: receipt.receipt.agendaNumber },
  });
  return receipt;
}

// ---------- outbound ----------

/** Attempts before a message is given up ('failed'); between them the e-mail back-off (1, 2, 4 ... minutes, at most an hour): about 5 hours. */
export const MAX_ATTEMPTS = 12;
const LEASE_SECONDS = 120;
const REQUEST_TIMEOUT_MS = 30_000;

export const exchangeJob: PeriodicJob = { name: 'dispatch-exchange', everySeconds: 5, run: (ctx) => deliverDueExchangeMessages(ctx) };

/** A failure the peer will answer the same way however often we try. */
class PermanentError extends Error {}

/**
 * Delivers every due 'exchange' message (called by the dispatch worker, and by
 * tests directly). Each is claimed with a lease, sent outside any transaction,
 * then settled: 'delivered' with the verified receipt, or queued again with
 * back-off, or 'failed' after MAX_ATTEMPTS or a permanent refusal.
 */
export async function deliverDueExchangeMessages(ctx: AppContext): Promise<{ delivered: number; failed: number }> {
  const out = { delivered: 0, failed: 0 };
  // One at a time: each is a request to a peer; the lease keeps another worker off it meanwhile.
  const claimNext = async () => (await claimDueOutbound(ctx.db, 'exchange', new Date(), new Date(Date.now() + LEASE_SECONDS * 1000), 1))[0];
  for (let claimed = await claimNext(); claimed; claimed = await claimNext()) {
    if (await deliverExchangeMessage(ctx, claimed.id)) out.delivered++;
    else out.failed++;
  }
  return out;
}

/** Delivers one message claimed by deliverDueExchangeMessages (its attempt already counted). */
async function deliverExchangeMessage(ctx: AppContext, messageId: string): Promise<boolean> {
  const m = await repo.outboundDetails(ctx.db, messageId);
  if (!m || m.status !== 'queued') return false;
  try {
    if (!m.peer_id || !m.peer_active || !m.peer_url || !m.peer_key) throw new PermanentError('peer unknown or inactive');
    const metadata: LetterMetadata = {
      letterId: String(m.letter_id),
      number: m.number ?? '',
      date: jakartaDate(new Date(m.signed_at)),
      subject: m.subject,
      urgency: m.urgency,
      securityClass: m.security_class,
      classificationCode: m.classification_code,
      senderAgency: await agencyName(ctx.db, String(m.unit_id)),
      recipient: { name: m.peer_name ?? m.ext_name ?? m.peer_code! },
      verificationUrl: `${ctx.config.publicUrl}/v/${m.verification_id}`,
      pdfSha256: m.pdf_sha256,
    };
    const signed = await postLetter(ctx, { url: m.peer_url, key: m.peer_key, code: m.peer_code! }, metadata, await ctx.store.get(m.pdf_sha256));
    await ctx.db.transaction().execute(async (trx) => {
      await repo.markDelivered(trx, messageId, signed);
      await appendAudit(trx, { id: null, name: 'system' }, {
        action: 'exchange.delivered',
        objectType: 'letter',
        objectId: m.letter_id,
        docSha256: m.pdf_sha256,
        details: { peer: m.peer_code, incomingId: signed.receipt.incomingId, agendaNumber: signed.receipt.agendaNumber, receivedAt: signed.receipt.receivedAt },
      });
    });
    return true;
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    const final = e instanceof PermanentError || m.attempts >= MAX_ATTEMPTS;
    ctx.logger.warn({ messageId, peer: m.peer_code, error, final }, 'exchange delivery failed');
    await ctx.db.transaction().execute(async (trx) => {
      await repo.markAttemptFailed(trx, messageId, error, final ? null : new Date(Date.now() + retryDelayMs(m.attempts)));
      if (final) await appendAudit(trx, { id: null, name: 'system' }, { action: 'exchange.delivery_failed', objectType: 'letter', objectId: m.letter_id, details: { peer: m.peer_code, error: error.slice(0, 300), attempts: m.attempts } });
    });
    return false;
  }
}

/** One signed POST to the peer; the answer must be a receipt for this very PDF, signed by the peer's key. */
async function postLetter(ctx: AppContext, peer: { url: string; key: string; code: string }, metadata: LetterMetadata, pdf: Buffer): Promise<SignedReceipt> {
  const form = new FormData();
  form.append('metadata', new Blob([JSON.stringify(metadata)], { type: 'application/json' }), 'metadata.json');
  form.append('pdf', new Blob([new Uint8Array(pdf)], { type: 'application/pdf' }), `${metadata.letterId}.pdf`);
  const target = new URL(peer.url.replace(/\/+$/, '') + INBOUND_PATH);
  const request = new Request(target, { method: 'POST', body: form });
  const body = Buffer.from(await request.arrayBuffer());
  const headers = signRequest(installationKey(ctx).privateKey, await installationId(ctx.db, ctx.config), { method: 'POST', path: target.pathname, body });
  const res = await fetch(target, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': request.headers.get('content-type')!, Accept: 'application/json' },
    body,
    redirect: 'error',
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  if (!res.ok) {
    const why = `HTTP ${res.status}: ${text.slice(0, 300)}`;
    throw [400, 413, 422].includes(res.status) ? new PermanentError(why) : new Error(why);
  }
  let signed: SignedReceipt;
  try {
    signed = JSON.parse(text) as SignedReceipt;
  } catch {
    throw new Error('the peer answered no JSON receipt');
  }
  if (!receiptValid(peer.key, signed)) throw new Error('the receipt is not signed by the peer key');
  if (signed.receipt.letterId !== metadata.letterId || signed.receipt.pdfSha256 !== metadata.pdfSha256 || signed.receipt.receiver !== peer.code) {
    throw new Error('the receipt is for another letter or installation');
  }
  return signed;
}
