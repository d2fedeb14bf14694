// Export of an archival package (paket arsip): a BagIt zip of a signed letter,
// or of a berkas with one folder per record, that `package verify` checks
// offline (package-verify.ts). Every export is audited with the zip's SHA-256,
// so a package handed over can be matched to the audit trail.
import type { AppContext } from '../../platform/context.js';
import type { Letter } from '../../platform/db/schema.js';
import { appendAudit } from '../../platform/audit/index.js';
import { actorOf, type CurrentUser } from '../../platform/auth/current-user.js';
import { can } from '../../platform/auth/permissions.js';
import { AppError, ConflictError, ForbiddenError } from '../../platform/http/errors.js';
import { agencyName, jakartaDate } from '../org/hierarchy.js';
import { getUnit } from '../org/repo.js';
import { describeSigner, getLetter, getLetterForRead } from '../letters/service.js';
import { describeSignature } from '../letters/sign.js';
import { verificationOptions } from '../signing/service.js';
import { verifyPdf } from '../signing/verify.js';
import { safeFileName, sha256Hex, writeBag, type PayloadFile } from './bagit.js';
import { AUDIT_JSON, BERKAS_JSON, CA_CRT, METADATA_JSON, PACKAGE_FORMAT, type AuditJson, type BerkasJson, type RecordMetadata } from './package-format.js';
import { refuseDestroyed } from './disposal-gone.js';
import { getFile } from './berkas.js';
import * as repo from './package-repo.js';

export interface ArchivalPackage {
  bytes: Buffer;
  filename: string;
  sha256: string;
}

const FINAL_STATES = ['signed', 'dispatched'];

/**
 * Who may take a signed letter out of the system as a package: archivists, and
 * the letter's drafter and signer (who hold it anyway). Seeing the letter is
 * checked first, by the letters' access rule: others get 404.
 */
export function mayExportLetter(user: CurrentUser, letter: Pick<Letter, 'drafter_id' | 'signer_id'>): boolean {
  return can(user, 'archive.manage') || String(letter.drafter_id) === user.id || String(letter.signer_id) === user.id;
}

interface RecordPart {
  letterId: string;
  number: string | null;
  subject: string;
  securityClass: string;
  files: PayloadFile[];
  /** PEMs of the trust anchors its signature chains to. */
  anchors: string[];
}

/** A letter's folder: signed PDF, lampiran/, metadata.json, audit.json (paths relative to the folder). */
async function letterPart(ctx: AppContext, user: CurrentUser, letterId: string, anchorPems: string[]): Promise<RecordPart> {
  const { letter, content, recipients, versions, kind, classification } = await getLetter(ctx, user, letterId);
  if (!FINAL_STATES.includes(letter.state)) throw new ConflictError('archive.package.not_signed');
  const signature = await describeSignature(ctx, letterId);
  if (!signature) throw new ConflictError('archive.package.not_signed');
  // A destroyed record's bytes are gone: 410 with the date, as for its PDF.
  await refuseDestroyed(ctx.db, signature.pdf_sha256);
  const record = await repo.recordOfLetter(ctx.db, letterId);

  const [pdf, unit, agency, signer, audit] = await Promise.all([
    ctx.store.get(signature.pdf_sha256),
    getUnit(ctx.db, String(letter.unit_id)),
    agencyName(ctx.db, String(letter.unit_id)),
    describeSigner(ctx, content.signer),
    repo.auditEntriesOf(ctx.db, letterId, record ? String(record.id) : null),
  ]);
  // The anchors its signature chains to go into the package, so the chain can be checked offline.
  const anchors: string[] = [];
  let nip: string | null = null;
  for (const pem of anchorPems) {
    const v = await verifyPdf(pdf, { trustAnchors: [pem] });
    if (!v.reasons.includes('untrusted_chain')) anchors.push(pem);
    nip ??= v.signatures[v.signatures.length - 1]?.signerSerialNumber ?? null;
  }

  const taken = new Set<string>([METADATA_JSON, AUDIT_JSON, 'lampiran']);
  const pdfName = safeFileName(`naskah-${numberSlug(letter.number ?? letterId)}.pdf`, taken);
  const files: PayloadFile[] = [{ path: pdfName, bytes: pdf }];
  const attachments: RecordMetadata['attachments'] = [];
  const attachmentNames = new Set<string>();
  for (const a of content.attachments) {
    const path = `lampiran/${safeFileName(a.filename, attachmentNames, 'lampiran')}`;
    files.push({ path, bytes: await ctx.store.get(a.sha256) });
    attachments.push({ path, originalFilename: a.filename, sha256: a.sha256, size: a.size, contentType: a.contentType });
  }

  const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
  const who = (r: (typeof recipients)[number]) =>
    r.user_id ? `${r.user_name}${r.user_position_title ? ` (${r.user_position_title})` : ''}` : r.unit_id ? `${r.unit_name} (${r.unit_code})` : r.position_id ? String(r.position_title) : r.peer_id ? `${r.peer_name} (${r.peer_code})` : `${r.ext_name}${r.ext_email ? ` <${r.ext_email}>` : ''}`;
  const metadata: RecordMetadata = {
    format: PACKAGE_FORMAT,
    record: { type: 'letter', letterId, recordId: record ? String(record.id) : null },
    number: letter.number,
    kind: { code: kind.code, name: kind.name },
    subject: letter.subject,
    urgency: letter.urgency,
    securityClass: letter.security_class,
    classification: {
      code: classification.code,
      name: classification.name,
      retentionActiveYears: classification.retention_active_years,
      retentionInactiveYears: classification.retention_inactive_years,
      finalFate: classification.final_fate,
    },
    unit: { code: unit?.code ?? '', name: unit?.name ?? '', agency },
    dates: { created: iso(letter.created_at)!, submitted: iso(letter.submitted_at), approved: iso(letter.approved_at), signed: iso(letter.signed_at) },
    recipients: { to: recipients.filter((r) => r.role === 'to').map(who), cc: recipients.filter((r) => r.role === 'cc').map(who) },
    signer: { name: signer.name ?? signature.signer_name, nip, position: signer.positionTitle, capacity: signer.prefix, onBehalf: signature.on_behalf },
    signature: {
      signedAt: iso(signature.signed_at)!,
      certificateSubject: signature.subject_dn,
      certificateIssuer: signature.issuer_dn,
      certificateSerial: signature.serial_hex,
      verificationUrl: `${ctx.config.publicUrl}/v/${signature.verification_id}`,
    },
    signedPdf: { path: pdfName, sha256: signature.pdf_sha256, size: pdf.length },
    attachments,
    versions: [...versions].reverse().map((v) => ({ version: v.version, sha256: v.sha256, createdAt: iso(v.created_at)! })),
    audit: { path: AUDIT_JSON, entries: audit.length },
  };
  const auditJson: AuditJson = { format: PACKAGE_FORMAT, entries: audit };
  files.push({ path: METADATA_JSON, bytes: json(metadata) }, { path: AUDIT_JSON, bytes: json(auditJson) });
  return { letterId, number: letter.number, subject: letter.subject, securityClass: letter.security_class, files, anchors };
}

/** Letter and berkas numbers have slashes: in a file name they are separators, not directories. */
function numberSlug(n: string): string {
  return n.replace(/[\\/]/g, '_');
}

function json(v: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v, null, 2) + '\n');
}

function caFile(parts: RecordPart[]): PayloadFile[] {
  const pems = [...new Set(parts.flatMap((p) => p.anchors))];
  return pems.length ? [{ path: CA_CRT, bytes: new TextEncoder().encode(pems.map((p) => p.trim() + '\n').join('')) }] : [];
}

/** `unitId`: the records' unit, whose agency is the Source-Organization. */
async function bag(ctx: AppContext, unitId: string, name: string, payload: PayloadFile[], info: [string, string][]): Promise<ArchivalPackage> {
  const now = new Date();
  const bytes = Buffer.from(
    writeBag({
      name,
      payload,
      info: [['Source-Organization', await agencyName(ctx.db, unitId)], ['Bagging-Date', jakartaDate(now)], ...info, ['Bag-Software-Agent', 'TNDE (Tata Naskah Dinas Elektronik)']],
      mtime: now,
    }),
  );
  return { bytes, filename: `${name}.zip`, sha256: sha256Hex(bytes) };
}

/** GET /surat/:id/paket and /api/v1/letters/:id/package. */
export async function exportLetterPackage(ctx: AppContext, user: CurrentUser, letterId: string): Promise<ArchivalPackage> {
  const { letter } = await getLetterForExport(ctx, user, letterId);
  const part = await letterPart(ctx, user, letterId, (await verificationOptions(ctx.db)).trustAnchors);
  const name = `paket-arsip-${safeFileName(numberSlug(letter.number ?? letterId), new Set())}`;
  const pkg = await bag(ctx, String(letter.unit_id), name, [...part.files, ...caFile([part])], [
    ['External-Identifier', letter.number ?? `letter/${letterId}`],
    ['External-Description', letter.subject],
    ['Internal-Sender-Identifier', `letter/${letterId}`],
  ]);
  await ctx.db.transaction().execute((trx) =>
    appendAudit(trx, actorOf(user), {
      action: 'record.exported',
      objectType: 'letter',
      objectId: letterId,
      docSha256: pkg.sha256,
      details: { number: letter.number, securityClass: letter.security_class, files: part.files.length, bytes: pkg.bytes.length },
    }),
  );
  return pkg;
}

async function getLetterForExport(ctx: AppContext, user: CurrentUser, letterId: string) {
  // Visibility first (404), then the right to export (403): nothing is read or written on refusal.
  const seen = await getLetterForRead(ctx, user, letterId);
  if (!mayExportLetter(user, seen.letter)) throw new ForbiddenError('archive.package.not_allowed');
  return seen;
}

/** Why a filed record has no folder in a berkas package, by the refusal its export met. */
const OMITTED_BY_STATUS: Record<number, string> = { 404: 'not_visible', 409: 'not_signed', 410: 'destroyed' };

/**
 * GET /arsip/berkas/:id/paket and /api/v1/archive/berkas/:id/package: archivists only. Each record of the
 * berkas that is a signed letter gets a folder; the others (received letters,
 * destroyed or unsigned ones) are named in berkas.json as omitted, by record id and reason.
 */
export async function exportBerkasPackage(ctx: AppContext, user: CurrentUser, fileId: string): Promise<ArchivalPackage> {
  // The berkas module decides who may open a berkas (archivists) and which of its records they see.
  const { file, records } = await getFile(ctx, user, fileId);
  const anchorPems = (await verificationOptions(ctx.db)).trustAnchors;
  const parts: RecordPart[] = [];
  const folders: string[] = [];
  const omitted: BerkasJson['omitted'] = [];
  const taken = new Set<string>();
  for (const r of records) {
    const skip = r.destroyed_at ? 'destroyed' : r.letter_id === null ? 'incoming_letter' : null;
    if (skip) {
      omitted.push({ recordId: String(r.id), reason: skip });
      continue;
    }
    try {
      const part = await letterPart(ctx, user, String(r.letter_id), anchorPems);
      parts.push(part);
      folders.push(safeFileName(`${String(parts.length).padStart(3, '0')}-${numberSlug(part.number ?? part.letterId)}`, taken));
    } catch (e) {
      const reason = e instanceof AppError ? OMITTED_BY_STATUS[e.status] : undefined;
      if (!reason) throw e;
      omitted.push({ recordId: String(r.id), reason });
    }
  }
  const berkasJson: BerkasJson = {
    format: PACKAGE_FORMAT,
    file: { id: fileId, number: file.number, title: file.title, classificationCode: file.classification_code, unit: file.unit_name, description: file.description, createdAt: new Date(file.created_at).toISOString(), closedAt: file.closed_at ? new Date(file.closed_at).toISOString() : null },
    records: parts.map((p, i) => ({ folder: folders[i], number: p.number, subject: p.subject })),
    omitted,
  };
  const payload = [...parts.flatMap((p, i) => p.files.map((f) => ({ path: `${folders[i]}/${f.path}`, bytes: f.bytes }))), { path: BERKAS_JSON, bytes: json(berkasJson) }, ...caFile(parts)];
  const name = `paket-berkas-${safeFileName(numberSlug(file.number), new Set())}`;
  const pkg = await bag(ctx, String(file.unit_id), name, payload, [
    ['External-Identifier', file.number],
    ['External-Description', file.title],
    ['Internal-Sender-Identifier', `berkas/${fileId}`],
  ]);
  await ctx.db.transaction().execute(async (trx) => {
    await appendAudit(trx, actorOf(user), { action: 'berkas.exported', objectType: 'berkas', objectId: fileId, docSha256: pkg.sha256, details: { number: file.number, letters: parts.map((p) => p.letterId), omitted: omitted.length, bytes: pkg.bytes.length } });
    // Each letter's own trail says it left in this package too (and which classification left).
    for (const p of parts) {
      await appendAudit(trx, actorOf(user), { action: 'record.exported', objectType: 'letter', objectId: p.letterId, docSha256: pkg.sha256, details: { number: p.number, securityClass: p.securityClass, berkas: fileId } });
    }
  });
  return pkg;
}
