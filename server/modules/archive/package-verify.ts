// Verifies an archival package offline: no database, no network. The bag
// (structure, every manifest and tag-manifest sum, Payload-Oxum), then for each
// record in it: the signed PDF is the one metadata.json registers, its PAdES
// signature is valid and covers the whole file (signing/verify.ts), the
// attachments are the ones listed, and audit.json's entries hash as the audit
// chain does (platform/audit entryHash) and link where their seqs are consecutive.
//
// Trust: a CA certificate packed in the bag only proves the package is
// self-consistent; whoever could rewrite the package could pack their own CA.
// The report prints the anchor's fingerprint to compare with the installation's
// /pki/ca.crt, and the caller may pass the anchor from outside instead (--ca).
import crypto from 'node:crypto';
import { entryHash } from '../../platform/audit/index.js';
import { verifyPdf, type VerifyReason } from '../signing/verify.js';
import { readBag, sha256Hex, type BagLimits } from './bagit.js';
import { AUDIT_JSON, BERKAS_JSON, CA_CRT, METADATA_JSON, PACKAGE_FORMAT, type AuditJson, type BerkasJson, type RecordMetadata } from './package-format.js';

export interface PackageReport {
  valid: boolean;
  bag: string | null;
  /** What was checked and held. */
  passed: string[];
  /** What did not hold, each naming the file or entry; any makes the package invalid. */
  failed: string[];
  /** Said, but not a failure (e.g. which CA was trusted). */
  notes: string[];
}

export interface VerifyPackageOptions {
  /** PEM certificates to trust instead of the package's own data/ca.crt. */
  trustAnchorsPem?: string;
  limits?: BagLimits;
}

const REASON_TEXT: Record<VerifyReason, string> = {
  no_signature: 'the PDF has no signature',
  byte_range_invalid: 'the signature byte range lies outside the file',
  not_whole_document: 'the signature does not cover the document',
  content_after_signature: 'bytes were added after the signature',
  cms_invalid: 'the signature is not a readable CMS structure',
  digest_mismatch: 'the signed bytes were changed (digest mismatch)',
  signature_invalid: 'the signature does not verify with the signer key',
  not_pades: 'the signature is not PAdES',
  untrusted_chain: 'the signer certificate does not chain to the trusted CA',
  certificate_expired: 'a certificate was outside its validity at signing time',
  certificate_revoked: 'a certificate was revoked',
};

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export async function verifyPackage(zip: Uint8Array, opts: VerifyPackageOptions = {}): Promise<PackageReport> {
  const report: PackageReport = { valid: false, bag: null, passed: [], failed: [], notes: [] };
  const bag = readBag(zip, opts.limits);
  report.bag = bag.name;
  report.failed.push(...bag.problems);
  if (bag.name === null) return report;
  if (bag.problems.length === 0) report.passed.push(`BagIt structure, manifest and tag-manifest sums, Payload-Oxum ${bag.info.get('Payload-Oxum')?.[0]} (${bag.payload.size} payload files)`);

  const anchors = trustAnchors(opts.trustAnchorsPem ?? textOf(bag.payload, CA_CRT), opts.trustAnchorsPem ? '--ca' : `data/${CA_CRT}`, report);

  const folders = [...bag.payload.keys()].filter((p) => p === METADATA_JSON || /^[^/]+\/metadata\.json$/.test(p)).map((p) => p.slice(0, -METADATA_JSON.length));
  if (folders.length === 0) report.failed.push(`no ${METADATA_JSON} in data/: not an archival package`);
  // A hand-edited JSON file may lack any field: that is an invalid package, not a crash.
  const guarded = async (file: string, check: () => unknown) => {
    try {
      await check();
    } catch {
      report.failed.push(`data/${file}: missing or malformed fields`);
    }
  };
  for (const folder of folders) await guarded(folder + METADATA_JSON, () => checkRecord(bag.payload, folder, anchors, report));
  if (bag.payload.has(BERKAS_JSON)) await guarded(BERKAS_JSON, () => checkBerkas(bag.payload, folders, report));
  if (folders.length) report.notes.push("revocation is not checked offline: compare the certificate serial with the CA's revocation list (/pki/crl) if it matters");

  report.valid = report.failed.length === 0;
  return report;
}

function textOf(payload: Map<string, Uint8Array>, path: string): string | undefined {
  const b = payload.get(path);
  return b ? new TextDecoder('utf-8').decode(b) : undefined;
}

function jsonOf<T>(payload: Map<string, Uint8Array>, path: string, report: PackageReport): T | null {
  const text = textOf(payload, path);
  if (text === undefined) {
    report.failed.push(`data/${path} is missing`);
    return null;
  }
  try {
    const v = JSON.parse(text) as { format?: unknown };
    if (v?.format !== PACKAGE_FORMAT) {
      report.failed.push(`data/${path}: unknown format ${JSON.stringify(v?.format)} (expected ${PACKAGE_FORMAT})`);
      return null;
    }
    return v as T;
  } catch {
    report.failed.push(`data/${path} is not valid JSON`);
    return null;
  }
}

/** The anchors' PEMs; each is named with its SHA-256 fingerprint so a reader can compare it with the official one. */
function trustAnchors(pem: string | undefined, source: string, report: PackageReport): string[] | null {
  if (pem === undefined) {
    report.notes.push(`no CA certificate (data/${CA_CRT} or --ca): signature chains are not checked`);
    return null;
  }
  const pems = pem.match(PEM_CERT) ?? [];
  const out: string[] = [];
  for (const p of pems) {
    try {
      const x = new crypto.X509Certificate(p);
      report.notes.push(`trusting CA from ${source}: ${x.subject.replace(/\n/g, ', ')}; SHA-256 fingerprint ${x.fingerprint256}`);
      out.push(p);
    } catch {
      report.failed.push(`${source}: a certificate that cannot be read`);
    }
  }
  if (out.length === 0) report.failed.push(`${source} holds no readable CA certificate`);
  return out;
}

async function checkRecord(payload: Map<string, Uint8Array>, folder: string, anchors: string[] | null, report: PackageReport) {
  const where = (p: string) => `data/${folder}${p}`;
  const meta = jsonOf<RecordMetadata>(payload, folder + METADATA_JSON, report);
  if (!meta) return;
  const label = `letter ${meta.number ?? meta.record?.letterId}`;

  const pdf = payload.get(folder + meta.signedPdf.path);
  if (!pdf) report.failed.push(`${where(meta.signedPdf.path)}: the signed PDF named in metadata.json is missing`);
  else if (sha256Hex(pdf) !== meta.signedPdf.sha256) report.failed.push(`${where(meta.signedPdf.path)}: SHA-256 differs from the one registered at signing (metadata.json)`);
  else report.passed.push(`${label}: ${where(meta.signedPdf.path)} is the PDF registered at signing (SHA-256 ${meta.signedPdf.sha256})`);

  if (pdf) {
    const v = await verifyPdf(pdf, { trustAnchors: anchors ?? [] });
    const reasons = v.reasons.filter((r) => anchors !== null || r !== 'untrusted_chain');
    const sig = v.signatures[v.signatures.length - 1];
    if (reasons.length) report.failed.push(`${where(meta.signedPdf.path)}: signature invalid: ${reasons.map((r) => REASON_TEXT[r]).join('; ')}`);
    else {
      report.passed.push(
        `${label}: PAdES signature cryptographically valid${anchors ? ', chained to the trusted CA' : ''}, covering the whole file; signed by ${sig.signerName ?? '?'} (NIP ${sig.signerSerialNumber ?? '-'}), certificate ${sig.certificateSerial}, issuer ${sig.issuer}`,
      );
    }
    if (sig && meta.signature.certificateSerial && sig.certificateSerial !== meta.signature.certificateSerial) {
      report.failed.push(`${where(meta.signedPdf.path)}: signed with certificate ${sig.certificateSerial}, but metadata.json names ${meta.signature.certificateSerial}`);
    }
  }

  let attachmentsOk = true;
  for (const a of meta.attachments) {
    const bytes = payload.get(folder + a.path);
    if (!bytes) report.failed.push(`${where(a.path)}: attachment listed in metadata.json is missing`);
    else if (sha256Hex(bytes) !== a.sha256) report.failed.push(`${where(a.path)}: SHA-256 differs from the attachment registered in metadata.json`);
    else continue;
    attachmentsOk = false;
  }
  if (attachmentsOk) report.passed.push(`${label}: ${meta.attachments.length} attachment(s) as registered`);

  checkAudit(payload, folder, meta, report, label);
}

function checkAudit(payload: Map<string, Uint8Array>, folder: string, meta: RecordMetadata, report: PackageReport, label: string) {
  const path = folder + meta.audit.path;
  const audit = jsonOf<AuditJson>(payload, path, report);
  if (!audit) return;
  const failedBefore = report.failed.length;
  if (!Array.isArray(audit.entries) || !audit.entries.every((e) => /^\d{1,19}$/.test(String(e?.seq)))) {
    report.failed.push(`data/${path}: entries without a valid seq`);
    return;
  }
  const entries = [...audit.entries].sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
  let links = 0;
  entries.forEach((e, i) => {
    const concerns = (e.object_type === 'letter' && e.object_id === meta.record.letterId) || (e.object_type === 'record' && e.object_id !== null && e.object_id === meta.record.recordId);
    if (!concerns) report.failed.push(`data/${path}: entry ${e.seq} concerns another object (${e.object_type} ${e.object_id})`);
    if (entryHash(e) !== e.hash) report.failed.push(`data/${path}: entry ${e.seq} (${e.action}) does not match its hash: altered`);
    const prev = entries[i - 1];
    if (prev && BigInt(prev.seq) + 1n === BigInt(e.seq)) {
      links++;
      if (e.prev_hash !== prev.hash) report.failed.push(`data/${path}: entry ${e.seq} does not link to entry ${prev.seq} (prev_hash)`);
    }
  });
  if (entries.length !== meta.audit.entries) report.failed.push(`data/${path}: ${entries.length} entries, metadata.json says ${meta.audit.entries}`);
  if (!entries.some((e) => e.action === 'letter.signed' && e.doc_sha256 === meta.signedPdf.sha256)) report.failed.push(`data/${path}: no letter.signed entry names the PDF's SHA-256`);
  if (report.failed.length === failedBefore) report.passed.push(`${label}: ${entries.length} audit entries re-hashed, ${links} chain link(s) checked, the signing entry names this PDF`);
}

function checkBerkas(payload: Map<string, Uint8Array>, folders: string[], report: PackageReport) {
  const berkas = jsonOf<BerkasJson>(payload, BERKAS_JSON, report);
  if (!berkas) return;
  const listed = new Set(berkas.records.map((r) => r.folder + '/'));
  const present = new Set(folders);
  const failedBefore = report.failed.length;
  for (const f of listed) if (!present.has(f)) report.failed.push(`data/${BERKAS_JSON} lists data/${f}, which has no ${METADATA_JSON}`);
  for (const f of present) if (!listed.has(f)) report.failed.push(`data/${f} is not listed in data/${BERKAS_JSON}`);
  if (report.failed.length === failedBefore) report.passed.push(`berkas ${berkas.file.number} "${berkas.file.title}": ${listed.size} record folder(s), as listed`);
}
