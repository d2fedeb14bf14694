// Certificates and trust: the internal CA on disk, users' certificates (issued
// by an administrator, activated by the user with their own signing passphrase,
// or imported from another CA), revocation and the CRL, trust anchors, the
// signing step's unlock, and the public verification of signed PDFs.
// Key material stays in memory; only PKCS#12 under the user's passphrase and the
// CA key under the operator's passphrase are stored.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { z } from 'zod';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { AppContext } from '../../platform/context.js';
import type { Db, Executor } from '../../platform/db/index.js';
import { appendAudit, type Actor } from '../../platform/audit/index.js';
import { actorOf, type CurrentUser } from '../../platform/auth/current-user.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../platform/http/errors.js';
import { fieldError, parseInput } from '../../platform/http/validate.js';
import { createCa, decryptPrivateKey, encryptPrivateKey, generateKeyPair, issueSigningCertificate, type CaMaterial } from './ca.js';
import { buildCrl, REVOCATION_REASONS, type RevocationReason } from './crl.js';
import { fromPkcs12, InvalidPkcs12Error, toPkcs12, unlockPkcs12, WrongPassphraseError, type Pkcs12Contents } from './pkcs12.js';
import type { SigningIdentity } from './pades.js';
import { verifyPdf, type VerifyOptions, type VerifyReason, type VerifyResult } from './verify.js';
import { certificateInfo, parseCertificate, pemToDer, type CertificateInfo } from './x509.js';
import { mayManageCertificates, mayImportCertificate } from './policy.js';
import * as repo from './repo.js';
import { refuseDestroyed } from '../archive/disposal-gone.js';

/** Validity of certificates our CA issues. */
export const CERTIFICATE_VALID_DAYS = 730;
const CA_VALID_YEARS = 20;
export const PASSPHRASE_MIN = 8;
const SYSTEM: Actor = { id: null, name: 'system' };

type CaContext = { config: Config; db: Db; logger: Logger };

// ---------- the internal CA on disk ----------

function caFiles(certsDir: string) {
  return { cert: path.join(certsDir, 'ca.crt'), key: path.join(certsDir, 'ca.key'), passphrase: path.join(certsDir, 'ca-passphrase') };
}

/** CA_PASSPHRASE, or (outside production, where config requires it) one generated once and kept beside the key. */
export function caPassphrase(config: Config, logger: Logger): string {
  if (config.CA_PASSPHRASE) return config.CA_PASSPHRASE;
  const file = caFiles(config.certsDir).passphrase;
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const generated = crypto.randomBytes(32).toString('base64url');
  fs.writeFileSync(file, generated, { mode: 0o600, flag: 'wx' });
  logger.warn({ file }, 'CA_PASSPHRASE is not set: generated one and kept it beside the CA key; set CA_PASSPHRASE and keep it apart from backups before real use');
  return generated;
}

// One decrypted CA per directory per process: decrypting on every CRL or issue is wasted work.
// After rotating the CA files, restart the server.
const loadedCas = new Map<string, CaMaterial>();

function readCa(config: Config, logger: Logger): CaMaterial | null {
  const files = caFiles(config.certsDir);
  const haveCert = fs.existsSync(files.cert);
  if (haveCert !== fs.existsSync(files.key)) throw new Error(`${config.certsDir}: ca.crt and ca.key belong together; restore both from the backup (or remove both to create a new CA)`);
  if (!haveCert) return null;
  try {
    return { certPem: fs.readFileSync(files.cert, 'utf8'), keyPem: decryptPrivateKey(fs.readFileSync(files.key, 'utf8'), caPassphrase(config, logger)) };
  } catch (e) {
    if (e instanceof WrongPassphraseError) throw new Error(`${files.key}: CA_PASSPHRASE does not open the CA key`);
    throw e;
  }
}

/**
 * On start (main.ts) and on demo seeding: the CA in CERTS_DIR, created when the
 * directory holds none, and registered as an internal, active trust anchor
 * (once: a deactivated anchor stays deactivated).
 */
export async function ensureCa(ctx: CaContext): Promise<CaMaterial> {
  const { config, logger } = ctx;
  fs.mkdirSync(config.certsDir, { recursive: true, mode: 0o700 });
  let ca = readCa(config, logger);
  let created = false;
  if (!ca) {
    const organization = (await repo.organisationName(ctx.db)) ?? 'TNDE';
    const commonName = (config.CA_NAME ?? `TNDE Internal CA ${organization}`).slice(0, 64);
    ca = await createCa({ commonName, organization, validYears: CA_VALID_YEARS });
    const files = caFiles(config.certsDir);
    // 'wx': never overwrite a CA another process has just written.
    fs.writeFileSync(files.key, encryptPrivateKey(ca.keyPem, caPassphrase(config, logger)), { mode: 0o600, flag: 'wx' });
    fs.writeFileSync(files.cert, ca.certPem, { mode: 0o644, flag: 'wx' });
    created = true;
    logger.info({ dir: config.certsDir, subject: certificateInfo(ca.certPem).subjectDn }, 'internal CA created');
  }
  loadedCas.set(config.certsDir, ca);
  const info = certificateInfo(ca.certPem);
  await ctx.db.transaction().execute(async (trx) => {
    const id = await repo.insertAnchor(trx, { name: info.subjectName ?? info.subjectDn, cert_pem: ca.certPem, fingerprint: info.sha256, internal: true, added_by: null });
    if (id) await appendAudit(trx, SYSTEM, { action: 'signing.trust_anchor_added', objectType: 'trust_anchor', objectId: id, details: { name: info.subjectDn, fingerprint: info.sha256, internal: true, caCreated: created } });
  });
  return ca;
}

function loadCa(ctx: CaContext): CaMaterial {
  let ca = loadedCas.get(ctx.config.certsDir);
  if (!ca) {
    const read = readCa(ctx.config, ctx.logger);
    if (!read) throw new Error(`no CA in ${ctx.config.certsDir}: it is created on the server's first start`);
    loadedCas.set(ctx.config.certsDir, read);
    ca = read;
  }
  return ca;
}

export function caCertificateDer(ctx: CaContext): Buffer {
  return pemToDer(loadCa(ctx).certPem);
}

// ---------- the signing step ----------

/**
 * Unlocks the user's active certificate for one signature (or one batch).
 * Wrong passphrase: ValidationError 'signing.wrong_passphrase' on field
 * `passphrase` (400); no usable certificate: ConflictError 'signing.no_certificate'
 * (409); a certificate whose CA is no longer trusted: 'signing.certificate_untrusted' (409).
 * Pure read. Run it outside the caller's transaction (the key derivation takes
 * ~20 ms in the thread pool), and audit a refusal with auditRefusedUnlock.
 */
export async function unlockSigningIdentity(
  db: Executor,
  userId: string,
  passphrase: string,
): Promise<{ certificateId: string; identity: SigningIdentity; info: CertificateInfo }> {
  const cert = await repo.activeCertificateOf(db, userId);
  if (!cert?.pkcs12 || !cert.cert_pem) throw new ConflictError('signing.no_certificate');
  const chain = splitPems(cert.chain_pem);
  if (!chainsToAnchor(cert.cert_pem, chain, await repo.activeAnchorPems(db))) throw new ConflictError('signing.certificate_untrusted');
  let privateKey: crypto.KeyObject;
  try {
    privateKey = await unlockPkcs12(cert.pkcs12, passphrase, cert.cert_pem);
  } catch (e) {
    if (e instanceof WrongPassphraseError) throw fieldError('passphrase', 'signing.wrong_passphrase');
    throw e;
  }
  return { certificateId: String(cert.id), identity: { privateKey, certificate: cert.cert_pem, chain }, info: certificateInfo(cert.cert_pem) };
}

/** The security event for a refused unlock, in its own transaction (the refused action has none). */
export async function auditRefusedUnlock(db: Db, actor: Actor, details: Record<string, unknown> = {}): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const cert = actor.id ? await repo.activeCertificateOf(trx, actor.id) : undefined;
    await appendAudit(trx, actor, { action: 'signing.unlock_refused', objectType: 'certificate', objectId: cert?.id, details });
  });
}

/**
 * What verifyPdf needs from the database: the active trust anchors, and
 * revocation by (issuer DN, serial) from our certificates table.
 * `trustedSigningTime` is our registry's record of when the file was signed;
 * without it the PDF's /M is only the signer's claim, which is good enough
 * after a revocation that says nothing against the key (superseded, affiliation
 * changed, cessation of operation), and not after any other (a thief can backdate).
 */
export async function verificationOptions(db: Executor, opts: { trustedSigningTime?: Date | null } = {}): Promise<VerifyOptions> {
  return {
    trustAnchors: await repo.activeAnchorPems(db),
    async isRevoked(serialHex, issuerDn, claimedTime) {
      const row = await repo.findBySerial(db, issuerDn, serialHex);
      if (row?.status !== 'revoked' || !row.revoked_at) return { revoked: false };
      const keyStillSound = ['superseded', 'affiliationChanged', 'cessationOfOperation'].includes(row.revocation_reason ?? '');
      const when = opts.trustedSigningTime ?? (keyStillSound ? claimedTime : null);
      if (when && when < row.revoked_at) return { revoked: false };
      return { revoked: true, reason: row.revocation_reason ?? undefined, revokedAt: row.revoked_at };
    },
  };
}

// ---------- certificates: issue, activate, import, change passphrase, revoke ----------

const passphraseSchema = z.string().min(PASSPHRASE_MIN, 'signing.passphrase_too_short').max(256);

function newPassphrase(passphrase: unknown, confirm: unknown, field = 'passphrase'): string {
  const p = passphraseSchema.safeParse(passphrase);
  if (!p.success) throw fieldError(field, 'signing.passphrase_too_short', { min: PASSPHRASE_MIN });
  if (p.data !== confirm) throw fieldError(`${field}_confirm`, 'signing.passphrase_mismatch');
  return p.data;
}

/** Ids come from URLs: anything but a bigint is a record that does not exist. */
function knownId(id: string): string {
  if (!/^\d{1,18}$/.test(id)) throw new NotFoundError();
  return id;
}

function splitPems(pems: string | null): string[] {
  return pems ? (pems.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? []) : [];
}

function material(certPem: string, chainPems: string[], pkcs12: Buffer): repo.CertificateMaterial {
  const info = certificateInfo(certPem);
  return {
    serial_hex: info.serialHex,
    issuer_dn: info.issuerDn,
    subject_dn: info.subjectDn,
    cert_pem: certPem,
    chain_pem: chainPems.join(''),
    pkcs12,
    not_before: info.notBefore,
    not_after: info.notAfter,
  };
}

/** Key pair + certificate from our CA + PKCS#12 under the passphrase. Slow (key generation): outside transactions. */
async function issueInternal(ctx: CaContext, userId: string, passphrase: string): Promise<repo.CertificateMaterial> {
  const ca = loadCa(ctx);
  const user = await repo.userForCertificate(ctx.db, userId);
  if (!user?.nip) throw new ConflictError('signing.user_without_nip');
  const organization = (await repo.organisationName(ctx.db)) ?? certificateInfo(ca.certPem).organization ?? 'TNDE';
  const kp = await generateKeyPair();
  const certPem = issueSigningCertificate(ca, {
    name: user.name,
    nip: user.nip,
    email: user.email ?? undefined,
    organization,
    unit: user.unit_name ?? undefined,
    validDays: CERTIFICATE_VALID_DAYS,
    publicKeyPem: kp.publicKeyPem,
    crlUrl: `${ctx.config.publicUrl}/pki/crl`,
  });
  const pkcs12 = toPkcs12({ keyPem: kp.privateKeyPem, certPem, chainPems: [ca.certPem], passphrase, friendlyName: user.name });
  return material(certPem, [ca.certPem], pkcs12);
}

/** Demo seeding: `username` holds an active internal certificate under `passphrase` (no-op if they hold one). */
export async function seedDemoCertificate(ctx: CaContext, username: string, passphrase: string): Promise<void> {
  await ensureCa(ctx);
  const user = await repo.userByUsername(ctx.db, username);
  if (!user || (await repo.activeCertificateOf(ctx.db, String(user.id)))) return;
  const m = await issueInternal(ctx, String(user.id), passphrase);
  await ctx.db.transaction().execute(async (trx) => {
    const id = await repo.insertActive(trx, String(user.id), 'internal', null, m);
    await appendAudit(trx, SYSTEM, { action: 'signing.certificate_activated', objectType: 'certificate', objectId: id, details: { user: user.username, serial: m.serial_hex, demo: true } });
  });
}

/** An administrator issues a certificate to a user: a pending row; the key is made when the user activates it. */
export async function issueCertificate(ctx: AppContext, actor: CurrentUser, input: unknown): Promise<{ id: string }> {
  if (!mayManageCertificates(actor)) throw new ForbiddenError();
  const { username } = parseInput(z.object({ username: z.string().trim().min(1).max(50) }), input);
  const user = await repo.userByUsername(ctx.db, username);
  if (!user?.active) throw fieldError('username', 'signing.unknown_user');
  if (!user.nip) throw fieldError('username', 'signing.user_without_nip');
  return ctx.db.transaction().execute(async (trx) => {
    if (await repo.pendingCertificateOf(trx, String(user.id))) throw new ConflictError('signing.already_pending');
    const id = await repo.insertPending(trx, String(user.id), actor.id);
    await appendAudit(trx, actorOf(actor), { action: 'signing.certificate_issued', objectType: 'certificate', objectId: id, details: { user: user.username } });
    return { id };
  });
}

/** The user's own pending certificate becomes active under the passphrase they chose (twice). */
export async function activateCertificate(ctx: AppContext, actor: CurrentUser, certificateId: string, input: { passphrase?: unknown; passphrase_confirm?: unknown }): Promise<void> {
  const cert = await repo.getCertificate(ctx.db, knownId(certificateId));
  if (!cert || String(cert.user_id) !== actor.id) throw new NotFoundError();
  if (cert.status !== 'pending') throw new ConflictError('signing.not_pending');
  const passphrase = newPassphrase(input.passphrase, input.passphrase_confirm);
  const m = await issueInternal(ctx, actor.id, passphrase);
  await ctx.db.transaction().execute(async (trx) => {
    const locked = await repo.getCertificate(trx, certificateId, { forUpdate: true });
    if (locked?.status !== 'pending') throw new ConflictError('signing.not_pending');
    const superseded = await repo.revoke(trx, { activeOfUser: actor.id }, 'superseded');
    await repo.activate(trx, certificateId, m);
    await auditSuperseded(trx, actor, superseded);
    await appendAudit(trx, actorOf(actor), { action: 'signing.certificate_activated', objectType: 'certificate', objectId: certificateId, details: { serial: m.serial_hex, notAfter: m.not_after.toISOString() } });
  });
}

async function auditSuperseded(trx: Executor, actor: CurrentUser, ids: string[]): Promise<void> {
  for (const id of ids) await appendAudit(trx, actorOf(actor), { action: 'signing.certificate_revoked', objectType: 'certificate', objectId: id, details: { reason: 'superseded' } });
}

const KEY_USAGE_OID = '2.5.29.15';

/** keyUsage present and allowing digitalSignature (bit 0) or nonRepudiation (bit 1). */
function allowsSigning(certPem: string): boolean {
  const ext = parseCertificate(certPem).extensions?.find((e) => e.extnID === KEY_USAGE_OID);
  const bits = (ext?.parsedValue as { valueBlock?: { valueHexView?: Uint8Array } } | undefined)?.valueBlock?.valueHexView;
  return !!bits && bits.length > 0 && (bits[0] & 0xc0) !== 0;
}

/** Leaf -> certificates the file carries -> an anchor, each link's signature checked, all within validity now. */
function chainsToAnchor(certPem: string, chainPems: string[], anchorPems: string[]): boolean {
  const now = Date.now();
  const inForce = (x: crypto.X509Certificate) => Date.parse(x.validFrom) <= now && now <= Date.parse(x.validTo);
  const anchors = anchorPems.map((p) => new crypto.X509Certificate(p)).filter(inForce);
  const pool = chainPems.map((p) => new crypto.X509Certificate(p)).filter((x) => x.ca && inForce(x));
  const seen = new Set<string>();
  for (let x = new crypto.X509Certificate(certPem); !seen.has(x.fingerprint256); ) {
    seen.add(x.fingerprint256);
    const child = x;
    const signedBy = (issuer: crypto.X509Certificate) => child.checkIssued(issuer) && child.verify(issuer.publicKey);
    if (anchors.some((a) => a.fingerprint256 === child.fingerprint256 || signedBy(a))) return true;
    const next = pool.find(signedBy);
    if (!next) return false;
    x = next;
  }
  return false;
}

/**
 * A certificate and key from another CA (e.g. BSrE) as PKCS#12. Accepted only if
 * it opens, the key matches, the key usage allows signing, it is in force and
 * chains to an active anchor; stored re-wrapped in our PKCS#12 layout under the
 * same passphrase (so the signing step's fast unlock applies).
 */
export async function importCertificate(ctx: AppContext, actor: CurrentUser, file: Buffer | undefined, passphrase: unknown): Promise<{ id: string }> {
  if (!mayImportCertificate(actor)) throw new ForbiddenError();
  if (!file?.length) throw fieldError('file', 'signing.import_no_file');
  if (typeof passphrase !== 'string' || passphrase.length === 0 || passphrase.length > 256) throw fieldError('passphrase', 'signing.wrong_passphrase');
  let contents: Pkcs12Contents;
  try {
    contents = fromPkcs12(file, passphrase);
  } catch (e) {
    if (e instanceof WrongPassphraseError) throw fieldError('passphrase', 'signing.wrong_passphrase');
    if (e instanceof InvalidPkcs12Error) throw fieldError('file', 'signing.import_unreadable');
    throw e;
  }
  const info = certificateInfo(contents.certPem);
  const now = new Date();
  if (!allowsSigning(contents.certPem)) throw fieldError('file', 'signing.import_key_usage');
  if (now < info.notBefore || now > info.notAfter) throw fieldError('file', 'signing.import_not_in_force');
  if (!chainsToAnchor(contents.certPem, contents.chainPems, await repo.activeAnchorPems(ctx.db))) throw fieldError('file', 'signing.import_untrusted');
  const known = await repo.findBySerial(ctx.db, info.issuerDn, info.serialHex);
  if (known) throw fieldError('file', known.status === 'revoked' ? 'signing.import_revoked' : 'signing.import_duplicate');
  const pkcs12 = toPkcs12({ ...contents, passphrase, friendlyName: info.subjectName ?? actor.name });
  const m = material(contents.certPem, contents.chainPems, pkcs12);
  return ctx.db.transaction().execute(async (trx) => {
    const superseded = await repo.revoke(trx, { activeOfUser: actor.id }, 'superseded');
    const id = await repo.insertActive(trx, actor.id, 'imported', actor.id, m);
    await auditSuperseded(trx, actor, superseded);
    await appendAudit(trx, actorOf(actor), { action: 'signing.certificate_imported', objectType: 'certificate', objectId: id, details: { serial: m.serial_hex, issuer: m.issuer_dn, subject: m.subject_dn } });
    return { id };
  });
}

/** Re-wraps the user's active PKCS#12 under a new passphrase; the old one must open it. */
export async function changePassphrase(ctx: AppContext, actor: CurrentUser, input: { old_passphrase?: unknown; passphrase?: unknown; passphrase_confirm?: unknown }): Promise<void> {
  const cert = await repo.activeCertificateOf(ctx.db, actor.id);
  if (!cert?.pkcs12 || !cert.cert_pem) throw new ConflictError('signing.no_certificate');
  const next = newPassphrase(input.passphrase, input.passphrase_confirm);
  let key: crypto.KeyObject;
  try {
    key = await unlockPkcs12(cert.pkcs12, typeof input.old_passphrase === 'string' ? input.old_passphrase : '', cert.cert_pem);
  } catch (e) {
    if (!(e instanceof WrongPassphraseError)) throw e;
    await auditRefusedUnlock(ctx.db, actorOf(actor), { during: 'passphrase_change' });
    throw fieldError('old_passphrase', 'signing.wrong_passphrase');
  }
  const pkcs12 = toPkcs12({
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string,
    certPem: cert.cert_pem,
    chainPems: splitPems(cert.chain_pem),
    passphrase: next,
    friendlyName: certificateInfo(cert.cert_pem).subjectName ?? actor.name,
  });
  await ctx.db.transaction().execute(async (trx) => {
    const locked = await repo.getCertificate(trx, String(cert.id), { forUpdate: true });
    if (locked?.status !== 'active') throw new ConflictError('signing.no_certificate');
    await repo.setPkcs12(trx, String(cert.id), pkcs12);
    await appendAudit(trx, actorOf(actor), { action: 'signing.passphrase_changed', objectType: 'certificate', objectId: String(cert.id) });
  });
}

export const REVOCATION_REASON_NAMES = Object.keys(REVOCATION_REASONS).filter((r) => r !== 'removeFromCRL') as RevocationReason[];

export async function revokeCertificate(ctx: AppContext, actor: CurrentUser, certificateId: string, input: unknown): Promise<void> {
  if (!mayManageCertificates(actor)) throw new ForbiddenError();
  const { reason } = parseInput(z.object({ reason: z.enum(REVOCATION_REASON_NAMES as [RevocationReason, ...RevocationReason[]]) }), input);
  await ctx.db.transaction().execute(async (trx) => {
    const cert = await repo.getCertificate(trx, knownId(certificateId), { forUpdate: true });
    if (!cert) throw new NotFoundError();
    if (cert.status !== 'active' && cert.status !== 'pending') throw new ConflictError('signing.not_revocable');
    await repo.revoke(trx, { id: certificateId }, reason);
    await appendAudit(trx, actorOf(actor), { action: 'signing.certificate_revoked', objectType: 'certificate', objectId: certificateId, details: { reason, serial: cert.serial_hex, wasPending: cert.status === 'pending' } });
  });
}

export async function listCertificates(ctx: AppContext, actor: CurrentUser, filter: { status?: string; q?: string; limit: number; offset: number }) {
  if (!mayManageCertificates(actor)) throw new ForbiddenError();
  const status = ['pending', 'active', 'revoked', 'expired'].includes(filter.status ?? '') ? (filter.status as repo.CertificateStatus) : undefined;
  return repo.listCertificates(ctx.db, { ...filter, status, q: filter.q?.trim().slice(0, 100) || undefined });
}

export function myCertificates(ctx: AppContext, actor: CurrentUser) {
  return repo.certificatesOfUser(ctx.db, actor.id);
}

// ---------- trust anchors ----------

export async function listTrustAnchors(ctx: AppContext, actor: CurrentUser) {
  if (!mayManageCertificates(actor)) throw new ForbiddenError();
  return (await repo.listAnchors(ctx.db)).map((a) => ({ ...a, info: certificateInfo(a.cert_pem) }));
}

export async function addTrustAnchor(ctx: AppContext, actor: CurrentUser, input: unknown): Promise<{ id: string }> {
  if (!mayManageCertificates(actor)) throw new ForbiddenError();
  const { name, pem } = parseInput(z.object({ name: z.string().trim().min(1).max(200), pem: z.string().trim().min(1).max(20_000) }), input);
  let x: crypto.X509Certificate;
  try {
    x = new crypto.X509Certificate(pem);
  } catch {
    throw fieldError('pem', 'signing.anchor_unreadable');
  }
  if (!x.ca) throw fieldError('pem', 'signing.anchor_not_ca');
  const certPem = x.toString();
  const info = certificateInfo(certPem);
  return ctx.db.transaction().execute(async (trx) => {
    const existing = await repo.anchorByFingerprint(trx, info.sha256);
    if (existing?.active) throw fieldError('pem', 'signing.anchor_duplicate');
    let id: string;
    if (existing) {
      id = String(existing.id);
      await repo.setAnchorActive(trx, id, true);
    } else {
      id = (await repo.insertAnchor(trx, { name, cert_pem: certPem, fingerprint: info.sha256, internal: false, added_by: actor.id }))!;
    }
    await appendAudit(trx, actorOf(actor), { action: 'signing.trust_anchor_added', objectType: 'trust_anchor', objectId: id, details: { name, subject: info.subjectDn, fingerprint: info.sha256, reactivated: !!existing } });
    return { id };
  });
}

export async function deactivateTrustAnchor(ctx: AppContext, actor: CurrentUser, anchorId: string): Promise<void> {
  if (!mayManageCertificates(actor)) throw new ForbiddenError();
  await ctx.db.transaction().execute(async (trx) => {
    const a = await repo.getAnchor(trx, knownId(anchorId));
    if (!a) throw new NotFoundError();
    if (!a.active) throw new ConflictError('signing.anchor_inactive');
    await repo.setAnchorActive(trx, anchorId, false);
    await appendAudit(trx, actorOf(actor), { action: 'signing.trust_anchor_deactivated', objectType: 'trust_anchor', objectId: anchorId, details: { name: a.name, fingerprint: a.fingerprint, internal: a.internal } });
  });
}

// ---------- publication: CRL and CA certificate ----------

const CRL_VALID_DAYS = 7;
const CRL_REISSUE_AFTER_MS = 86_400_000;
const crlCache = new Map<string, { stamp: string; der: Buffer; at: number }>();

/**
 * The CRL of our CA, rebuilt when a revocation changes what it lists (checked
 * with one cheap query, so every server of a cluster notices) or once a day.
 */
export async function currentCrl(ctx: CaContext): Promise<Buffer> {
  const ca = loadCa(ctx);
  const issuerDn = certificateInfo(ca.certPem).subjectDn;
  const stamp = await repo.revocationStamp(ctx.db, issuerDn);
  const cached = crlCache.get(ctx.config.certsDir);
  if (cached && cached.stamp === stamp && Date.now() - cached.at < CRL_REISSUE_AFTER_MS) return cached.der;
  const revoked = (await repo.revokedUnder(ctx.db, issuerDn)).map((r) => ({
    serialHex: r.serial_hex!,
    revokedAt: new Date(r.revoked_at!),
    reason: (r.revocation_reason && r.revocation_reason in REVOCATION_REASONS ? r.revocation_reason : 'unspecified') as RevocationReason,
  }));
  const now = new Date();
  const der = buildCrl(ca, revoked, { thisUpdate: now, nextUpdate: new Date(now.getTime() + CRL_VALID_DAYS * 86_400_000) });
  crlCache.set(ctx.config.certsDir, { stamp, der, at: now.getTime() });
  return der;
}

// ---------- public verification ----------

/** The checks the verification page lists, each failed by these reasons. */
export const VERIFICATION_CHECKS: { key: string; failedBy: VerifyReason[] }[] = [
  { key: 'signed', failedBy: ['no_signature', 'cms_invalid', 'digest_mismatch', 'signature_invalid', 'not_pades'] },
  { key: 'whole_file', failedBy: ['byte_range_invalid', 'not_whole_document', 'content_after_signature'] },
  { key: 'trusted', failedBy: ['untrusted_chain', 'certificate_expired'] },
  { key: 'not_revoked', failedBy: ['certificate_revoked'] },
];

export interface Verification {
  result: VerifyResult;
  registered: repo.RegistryEntry | null;
  checks: { key: string; ok: boolean }[];
}

async function judge(db: Executor, bytes: Buffer, registered: repo.RegistryEntry | null): Promise<Verification> {
  const result = await verifyPdf(bytes, await verificationOptions(db, { trustedSigningTime: registered ? new Date(registered.signed_at) : null }));
  const checks = VERIFICATION_CHECKS.map((c) => ({ key: c.key, ok: !c.failedBy.some((r) => result.reasons.includes(r)) }));
  return { result, registered, checks };
}

/**
 * Any PDF: cryptographically valid, covering the whole file, chained to an
 * active anchor, unrevoked at signing time. Whether it is in our registry is
 * reported beside the verdict, not part of it: a valid signature by another
 * trusted CA is valid with `registered: null`.
 */
export async function verifyUpload(ctx: AppContext, bytes: Buffer): Promise<Verification> {
  if (bytes.subarray(0, 5).toString('latin1') !== '%PDF-') throw fieldError('file', 'verify.not_pdf');
  const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
  return judge(ctx.db, bytes, (await repo.registeredBySha256(ctx.db, sha256)) ?? null);
}

/** The QR target: the stored PDF of a signed letter, re-verified now. Unknown id: 404. */
export async function verifyRegistered(ctx: AppContext, verificationId: string): Promise<Verification> {
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(verificationId)) throw new NotFoundError('verify.unknown_id');
  const entry = await repo.registeredByVerificationId(ctx.db, verificationId);
  if (!entry) throw new NotFoundError('verify.unknown_id');
  await refuseDestroyed(ctx.db, entry.pdf_sha256);
  return judge(ctx.db, await ctx.store.get(entry.pdf_sha256), entry);
}
