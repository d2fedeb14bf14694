// The wire protocol between installations, without database or HTTP: the
// canonical string a request signature covers, the signed headers, and the
// signed receipt. docs/openapi.yaml (/api/v1/exchange/inbound) describes the
// same for other implementers; change both together.
import crypto from 'node:crypto';
import canonicalize from 'canonicalize';

export const INBOUND_PATH = '/api/v1/exchange/inbound';
/** A request's timestamp may be this far from our clock, either way. */
export const MAX_SKEW_SECONDS = 300;
export const NONCE_RE = /^[A-Za-z0-9_-]{16,64}$/;
export const HEADERS = { peer: 'x-tnde-peer', timestamp: 'x-tnde-timestamp', nonce: 'x-tnde-nonce', signature: 'x-tnde-signature' } as const;

export function sha256Hex(bytes: Uint8Array | string): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** "TNDE-EXCHANGE-1\n<METHOD>\n<path>\n<timestamp>\n<nonce>\n<sha256 hex of the body>" */
export function canonicalRequest(r: { method: string; path: string; timestamp: string; nonce: string; bodySha256: string }): string {
  return ['TNDE-EXCHANGE-1', r.method.toUpperCase(), r.path, r.timestamp, r.nonce, r.bodySha256].join('\n');
}

/** The four headers of a request from `installationId`, signed with its Ed25519 key. */
export function signRequest(key: crypto.KeyObject, installationId: string, r: { method: string; path: string; body: Uint8Array }, now = new Date()): Record<string, string> {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const nonce = crypto.randomBytes(18).toString('base64url');
  const signature = crypto.sign(null, Buffer.from(canonicalRequest({ ...r, timestamp, nonce, bodySha256: sha256Hex(r.body) })), key).toString('base64');
  return { 'X-TNDE-Peer': installationId, 'X-TNDE-Timestamp': timestamp, 'X-TNDE-Nonce': nonce, 'X-TNDE-Signature': signature };
}

export function verifySignature(publicKeyPem: string, message: string, signatureB64: string): boolean {
  try {
    const sig = Buffer.from(signatureB64, 'base64');
    return sig.length === 64 && crypto.verify(null, Buffer.from(message), crypto.createPublicKey(publicKeyPem), sig);
  } catch {
    return false;
  }
}

/** Within MAX_SKEW_SECONDS of now; the header is whole seconds since 1970 (UTC). */
export function timestampFresh(value: string, now = new Date()): boolean {
  if (!/^\d{1,12}$/.test(value)) return false;
  return Math.abs(Number(value) - now.getTime() / 1000) <= MAX_SKEW_SECONDS;
}

/** What the sender tells the receiver about the letter, as the `metadata` part. */
export interface LetterMetadata {
  letterId: string;
  number: string;
  date: string;
  subject: string;
  urgency: 'biasa' | 'segera' | 'sangat_segera';
  securityClass: 'biasa' | 'terbatas' | 'rahasia' | 'sangat_rahasia';
  classificationCode: string | null;
  senderAgency: string;
  recipient: { name: string; unit?: string | null };
  verificationUrl: string;
  pdfSha256: string;
}

export interface Receipt {
  /** The receiving installation, and the sender as the receiver knows it. */
  receiver: string;
  sender: string;
  letterId: string;
  pdfSha256: string;
  incomingId: string;
  agendaNumber: string;
  receivedAt: string;
}

export interface SignedReceipt {
  receipt: Receipt;
  /** Ed25519 by the receiver's installation key over the RFC 8785 canonical JSON of `receipt`, base64. */
  signature: string;
}

export function signReceipt(key: crypto.KeyObject, receipt: Receipt): SignedReceipt {
  return { receipt, signature: crypto.sign(null, Buffer.from(canonicalize(receipt)!), key).toString('base64') };
}

export function receiptValid(publicKeyPem: string, signed: SignedReceipt): boolean {
  return typeof signed?.signature === 'string' && !!signed.receipt && verifySignature(publicKeyPem, canonicalize(signed.receipt)!, signed.signature);
}

/** A PEM that is an Ed25519 public key, normalised; null otherwise. */
export function ed25519PublicKey(pem: string): string | null {
  try {
    const k = crypto.createPublicKey(pem);
    return k.asymmetricKeyType === 'ed25519' ? (k.export({ type: 'spki', format: 'pem' }) as string) : null;
  } catch {
    return null;
  }
}
