// SQL for certificates, trust anchors and the signature registry. Every function
// takes an Executor so it runs inside the caller's transaction.
import { sql } from 'kysely';
import type { Executor } from '../../platform/db/index.js';
import type { CertificateTable } from '../../platform/db/schema.js';

export type CertificateStatus = CertificateTable['status'];

/** An active certificate past its notAfter is shown (and filtered) as expired; nothing rewrites the row. */
const shownStatus = (alias: string) =>
  sql<CertificateStatus>`CASE WHEN ${sql.ref(`${alias}.status`)} = 'active' AND ${sql.ref(`${alias}.not_after`)} < now() THEN 'expired' ELSE ${sql.ref(`${alias}.status`)} END`;

/** The user's certificate the signing step may use: active and within its validity. */
export function activeCertificateOf(db: Executor, userId: string) {
  return db
    .selectFrom('certificates')
    .select(['id', 'cert_pem', 'chain_pem', 'pkcs12', 'source'])
    .where('user_id', '=', userId)
    .where('status', '=', 'active')
    .where('not_after', '>', sql<Date>`now()`)
    .where('not_before', '<=', sql<Date>`now()`)
    .executeTakeFirst();
}

export function getCertificate(db: Executor, id: string, opts: { forUpdate?: boolean } = {}) {
  let q = db.selectFrom('certificates').selectAll().where('id', '=', id);
  if (opts.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function listCertificates(db: Executor, f: { status?: CertificateStatus; q?: string; limit: number; offset: number }) {
  let q = db.selectFrom('certificates as c').innerJoin('users as u', 'u.id', 'c.user_id');
  if (f.status) q = q.where(shownStatus('c'), '=', f.status);
  if (f.q) {
    const like = `%${f.q.replace(/[\\%_]/g, '\\$&')}%`;
    q = q.where((eb) => eb.or([eb('u.name', 'ilike', like), eb('u.username', 'ilike', like), eb('c.serial_hex', 'ilike', like)]));
  }
  const [rows, total] = await Promise.all([
    q
      .select([shownStatus('c').as('status'), 'c.id', 'c.source', 'c.serial_hex', 'c.issuer_dn', 'c.not_before', 'c.not_after', 'c.created_at', 'c.revoked_at', 'c.revocation_reason', 'u.username', 'u.name as user_name'])
      .orderBy('c.id', 'desc')
      .limit(f.limit)
      .offset(f.offset)
      .execute(),
    q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

/** The user's certificates, newest first, without key material. */
export function certificatesOfUser(db: Executor, userId: string) {
  return db
    .selectFrom('certificates as c')
    .select([shownStatus('c').as('status'), 'id', 'source', 'serial_hex', 'issuer_dn', 'subject_dn', 'not_before', 'not_after', 'created_at', 'activated_at', 'revoked_at', 'revocation_reason'])
    .where('user_id', '=', userId)
    .orderBy('id', 'desc')
    .limit(20)
    .execute();
}

export function pendingCertificateOf(db: Executor, userId: string) {
  return db.selectFrom('certificates').select('id').where('user_id', '=', userId).where('status', '=', 'pending').executeTakeFirst();
}

export async function insertPending(db: Executor, userId: string, issuedBy: string | null): Promise<string> {
  const r = await db.insertInto('certificates').values({ user_id: userId, status: 'pending', source: 'internal', issued_by: issuedBy }).returning('id').executeTakeFirstOrThrow();
  return String(r.id);
}

export interface CertificateMaterial {
  serial_hex: string;
  issuer_dn: string;
  subject_dn: string;
  cert_pem: string;
  chain_pem: string;
  pkcs12: Buffer;
  not_before: Date;
  not_after: Date;
}

export async function activate(db: Executor, id: string, m: CertificateMaterial): Promise<void> {
  await db.updateTable('certificates').set({ ...m, status: 'active', activated_at: sql<Date>`now()` }).where('id', '=', id).execute();
}

export async function insertActive(db: Executor, userId: string, source: 'internal' | 'imported', issuedBy: string | null, m: CertificateMaterial): Promise<string> {
  const r = await db
    .insertInto('certificates')
    .values({ ...m, user_id: userId, source, status: 'active', issued_by: issuedBy, activated_at: sql<Date>`now()` })
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(r.id);
}

export async function setPkcs12(db: Executor, id: string, pkcs12: Buffer): Promise<void> {
  await db.updateTable('certificates').set({ pkcs12 }).where('id', '=', id).execute();
}

/** Marks revoked; returns the ids changed (a pending or active one). */
export async function revoke(db: Executor, where: { id?: string; activeOfUser?: string }, reason: string): Promise<string[]> {
  let q = db.updateTable('certificates').set({ status: 'revoked', revoked_at: sql<Date>`now()`, revocation_reason: reason }).where('status', 'in', ['pending', 'active']);
  if (where.id) q = q.where('id', '=', where.id);
  if (where.activeOfUser) q = q.where('user_id', '=', where.activeOfUser).where('status', '=', 'active');
  return (await q.returning('id').execute()).map((r) => String(r.id));
}

/** Revoked certificates issued under `issuerDn` (our CA), for the CRL. */
export function revokedUnder(db: Executor, issuerDn: string) {
  return db
    .selectFrom('certificates')
    .select(['serial_hex', 'revoked_at', 'revocation_reason'])
    .where('status', '=', 'revoked')
    .where('issuer_dn', '=', issuerDn)
    .where('serial_hex', 'is not', null)
    .orderBy('revoked_at')
    .execute();
}

/** What changes the CRL: the number of revocations and the latest one. */
export async function revocationStamp(db: Executor, issuerDn: string): Promise<string> {
  const r = await db
    .selectFrom('certificates')
    .select((eb) => [eb.fn.countAll<string>().as('n'), eb.fn.max('revoked_at').as('latest')])
    .where('status', '=', 'revoked')
    .where('issuer_dn', '=', issuerDn)
    .where('serial_hex', 'is not', null)
    .executeTakeFirstOrThrow();
  return `${r.n}:${r.latest ? new Date(r.latest as Date).toISOString() : ''}`;
}

export function findBySerial(db: Executor, issuerDn: string, serialHex: string) {
  return db
    .selectFrom('certificates')
    .select(['id', 'user_id', 'status', 'revoked_at', 'revocation_reason'])
    .where('issuer_dn', '=', issuerDn)
    .where('serial_hex', '=', serialHex)
    .executeTakeFirst();
}

// ---------- trust anchors ----------

export function activeAnchorPems(db: Executor): Promise<string[]> {
  return db
    .selectFrom('trust_anchors')
    .select('cert_pem')
    .where('active', '=', true)
    .orderBy('id')
    .execute()
    .then((rows) => rows.map((r) => r.cert_pem));
}

export function listAnchors(db: Executor) {
  return db.selectFrom('trust_anchors as t').leftJoin('users as u', 'u.id', 't.added_by').select(['t.id', 't.name', 't.cert_pem', 't.fingerprint', 't.internal', 't.active', 't.created_at', 'u.name as added_by_name']).orderBy('t.id').execute();
}

export function getAnchor(db: Executor, id: string) {
  return db.selectFrom('trust_anchors').selectAll().where('id', '=', id).executeTakeFirst();
}

export function anchorByFingerprint(db: Executor, fingerprint: string) {
  return db.selectFrom('trust_anchors').selectAll().where('fingerprint', '=', fingerprint).executeTakeFirst();
}

/** Inserts unless the fingerprint is known; returns the new id, or null. */
export async function insertAnchor(db: Executor, a: { name: string; cert_pem: string; fingerprint: string; internal: boolean; added_by: string | null }): Promise<string | null> {
  const r = await db.insertInto('trust_anchors').values(a).onConflict((oc) => oc.column('fingerprint').doNothing()).returning('id').executeTakeFirst();
  return r ? String(r.id) : null;
}

export async function setAnchorActive(db: Executor, id: string, active: boolean): Promise<void> {
  await db.updateTable('trust_anchors').set({ active }).where('id', '=', id).execute();
}

// ---------- the people certificates are issued to ----------

export function userForCertificate(db: Executor, userId: string) {
  return db
    .selectFrom('users as u')
    .leftJoin('positions as p', 'p.id', 'u.position_id')
    .leftJoin('units as n', 'n.id', 'p.unit_id')
    .select(['u.id', 'u.username', 'u.name', 'u.nip', 'u.email', 'u.active', 'n.name as unit_name'])
    .where('u.id', '=', userId)
    .executeTakeFirst();
}

export function userByUsername(db: Executor, username: string) {
  return db.selectFrom('users').select(['id', 'username', 'name', 'nip', 'active']).where('username', '=', username.toLowerCase()).executeTakeFirst();
}

/** The top of the unit tree (the Pemda): the organisation in our certificates. */
export async function organisationName(db: Executor): Promise<string | null> {
  const r = await db.selectFrom('units').select('name').where('parent_id', 'is', null).where('active', '=', true).orderBy('id').executeTakeFirst();
  return r?.name ?? null;
}

// ---------- the registry of signed letters ----------

function registryQuery(db: Executor) {
  return db
    .selectFrom('letter_signatures as s')
    .innerJoin('letters as l', 'l.id', 's.letter_id')
    .innerJoin('users as u', 'u.id', 's.signer_id')
    .leftJoin('positions as p', 'p.id', 'l.signer_position_id')
    .leftJoin('letter_kinds as k', 'k.code', 'l.kind_code')
    .select([
      's.letter_id', 's.pdf_sha256', 's.signed_at', 's.on_behalf', 's.verification_id',
      'l.number', 'l.security_class', 'l.kind_code', 'k.name as kind_name', 'u.name as signer_name', 'p.title as position_title',
    ]);
}

export function registeredBySha256(db: Executor, sha256: string) {
  return registryQuery(db).where('s.pdf_sha256', '=', sha256).executeTakeFirst();
}

export function registeredByVerificationId(db: Executor, verificationId: string) {
  return registryQuery(db).where('s.verification_id', '=', verificationId).executeTakeFirst();
}

export type RegistryEntry = NonNullable<Awaited<ReturnType<typeof registeredBySha256>>>;
