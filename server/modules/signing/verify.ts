// Verifying a signed PDF the way the public verification page needs: every
// signature checked cryptographically, PAdES-shaped, chained to one of our trust
// anchors at its signing time, not revoked, and the last one covering the whole
// file. Stricter than pdfsig on purpose: bytes appended after the last signature
// (an incremental update) make the document invalid, where pdfsig still says
// "Signature is Valid." with "Not total document signed".
// Never throws on bad input: a damaged file is an answer (valid:false + reasons).
import crypto from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CMS_OID } from './pades.js';
import { HASH_BY_OID, OID, dnString, nameAttribute, serialHex } from './x509.js';

/** Stable machine codes; pages translate them, logs and the API show them as is. */
export type VerifyReason =
  | 'no_signature' // no /ByteRange with numbers in the file
  | 'byte_range_invalid' // numbers out of the file (e.g. a truncated download)
  | 'not_whole_document' // the range skips more than the signature's own /Contents
  | 'content_after_signature' // bytes after the end of the last signed range
  | 'cms_invalid' // /Contents is not a CMS SignedData we can read
  | 'digest_mismatch' // the signed bytes changed
  | 'signature_invalid' // the signature does not verify with the signer's key
  | 'not_pades' // no (matching) signing-certificate-v2, or another SubFilter
  | 'untrusted_chain' // no path to one of the trust anchors
  | 'certificate_expired' // a certificate on the path was not valid at signing time
  | 'certificate_revoked';

export interface RevocationStatus {
  revoked: boolean;
  reason?: string;
  revokedAt?: Date;
}

export interface VerifyOptions {
  trustAnchors: string[];
  /**
   * Asked for every certificate on the path below the anchor. `at` is the claimed
   * signing time: without a timestamp it is only the signer's word, so the answer
   * may weigh it against a trusted record (e.g. our audit trail of the signing).
   * Errors propagate: a revocation source that is down is not an invalid signature.
   */
  isRevoked?(serialHex: string, issuerDn: string, at: Date): Promise<RevocationStatus>;
}

export interface SignatureReport {
  signerName: string | null;
  /** The NIP, from the subject's serialNumber attribute. */
  signerSerialNumber: string | null;
  certificateSerial: string | null;
  issuer: string | null;
  signingTime: Date | null;
  coversWholeDocument: boolean;
  byteRange: [number, number, number, number];
  reasons: VerifyReason[];
}

export interface VerifyResult {
  valid: boolean;
  reasons: VerifyReason[];
  signatures: SignatureReport[];
  /** SHA-256 of the whole file, hex. */
  sha256: string;
}

interface Cert {
  x: crypto.X509Certificate;
  pk: pkijs.Certificate;
}

const BYTE_RANGE = /\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g;

export async function verifyPdf(bytes: Uint8Array, opts: VerifyOptions): Promise<VerifyResult> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sha256 = crypto.createHash('sha256').update(buf).digest('hex');
  const anchors = opts.trustAnchors.map((pem) => toCert(new crypto.X509Certificate(pem).raw));
  const text = buf.toString('latin1');
  const signatures: SignatureReport[] = [];
  for (const m of text.matchAll(BYTE_RANGE)) {
    const range = m.slice(1, 5).map(Number) as [number, number, number, number];
    signatures.push(await verifyOne(buf, text, m.index!, range, anchors, opts));
  }

  const reasons = new Set<VerifyReason>(signatures.flatMap((s) => s.reasons));
  if (signatures.length === 0) reasons.add('no_signature');
  // Earlier signatures of co-signers end before EOF; the latest well-formed one must not.
  const wellFormed = signatures.filter((s) => !s.reasons.includes('byte_range_invalid') && !s.reasons.includes('not_whole_document'));
  if (wellFormed.length > 0 && !wellFormed.some((s) => s.coversWholeDocument)) reasons.add('content_after_signature');
  return { valid: reasons.size === 0, reasons: [...reasons], signatures, sha256 };
}

async function verifyOne(buf: Buffer, text: string, at: number, range: [number, number, number, number], anchors: Cert[], opts: VerifyOptions): Promise<SignatureReport> {
  const [a, b, c, d] = range;
  const report: SignatureReport = {
    signerName: null,
    signerSerialNumber: null,
    certificateSerial: null,
    issuer: null,
    signingTime: null,
    coversWholeDocument: false,
    byteRange: range,
    reasons: [],
  };
  const fail = (r: VerifyReason) => {
    report.reasons.push(r);
    return report;
  };
  if (!range.every(Number.isSafeInteger) || a + b > c || c + d > buf.length) return fail('byte_range_invalid');
  // The one gap allowed is the signature value itself: "<hex>".
  const gap = text.slice(a + b, c);
  if (a !== 0 || !/^<[0-9A-Fa-f\s]*>$/.test(gap)) return fail('not_whole_document');
  report.coversWholeDocument = c + d === buf.length;

  const dict = signatureDictionary(text, at, a + b, c);
  report.signingTime = dict.signingTime;
  const signedBytes = Buffer.concat([buf.subarray(a, a + b), buf.subarray(c, c + d)]);

  let path: Cert[] | null;
  try {
    const cms = readCms(Buffer.from(gap.slice(1, -1).replace(/\s/g, ''), 'hex'));
    if (!cms) return fail('cms_invalid');
    const { signerInfo, certs } = cms;
    const signer = findSigner(signerInfo, certs);
    if (!signer) return fail('cms_invalid');
    report.signerName = nameAttribute(signer.pk.subject, OID.commonName) ?? null;
    report.signerSerialNumber = nameAttribute(signer.pk.subject, OID.serialNumber) ?? null;
    report.certificateSerial = serialHex(signer.pk.serialNumber.valueBlock.valueHexView);
    report.issuer = dnString(signer.pk.issuer);

    const hash = HASH_BY_OID[signerInfo.digestAlgorithm.algorithmId];
    const attrs = signerInfo.signedAttrs;
    if (!hash) return fail('signature_invalid');
    if (!attrs) return fail('not_pades'); // PAdES signs attributes, never the bare content
    const attr = (oid: string) => attrs.attributes.find((x) => x.type === oid)?.values[0];

    const md = attr(CMS_OID.messageDigest);
    if (!(md instanceof asn1js.OctetString) || !Buffer.from(md.valueBlock.valueHexView).equals(crypto.createHash(hash).update(signedBytes).digest())) {
      report.reasons.push('digest_mismatch');
    }
    // Verify over the attributes exactly as received, re-tagged from [0] to SET (0x31).
    const signedAttrsDer = Buffer.from(attrs.encodedValue);
    signedAttrsDer[0] = 0x31;
    if (!verifySignature(hash, signedAttrsDer, signer, signerInfo)) report.reasons.push('signature_invalid');
    if (dict.subFilter !== 'ETSI.CAdES.detached' || !matchesSigningCertificateV2(attr(CMS_OID.signingCertificateV2), signer)) report.reasons.push('not_pades');
    report.signingTime ??= cmsSigningTime(attr(CMS_OID.signingTime));

    path = buildPath(signer, certs, anchors);
    if (!path) return fail('untrusted_chain');
    const when = report.signingTime ?? new Date();
    if (path.some((p) => when < p.pk.notBefore.value || when > p.pk.notAfter.value)) report.reasons.push('certificate_expired');
  } catch {
    // asn1js/pkijs throw on malformed structures deep inside; all of it is an unreadable CMS.
    return fail('cms_invalid');
  }

  if (opts.isRevoked) {
    for (const p of path.slice(0, -1)) {
      const status = await opts.isRevoked(serialHex(p.pk.serialNumber.valueBlock.valueHexView), dnString(p.pk.issuer), report.signingTime ?? new Date());
      if (status.revoked) {
        report.reasons.push('certificate_revoked');
        break;
      }
    }
  }
  return report;
}

function toCert(der: Uint8Array): Cert {
  return { x: new crypto.X509Certificate(Buffer.from(der)), pk: pkijs.Certificate.fromBER(new Uint8Array(der)) };
}

function readCms(der: Buffer): { signerInfo: pkijs.SignerInfo; certs: Cert[] } | null {
  // The hex is zero-padded to the placeholder's size; asn1js reads the first element and ignores the rest.
  const parsed = asn1js.fromBER(new Uint8Array(der));
  if (parsed.offset === -1) return null;
  const ci = new pkijs.ContentInfo({ schema: parsed.result });
  if (ci.contentType !== CMS_OID.signedData) return null;
  const sd = new pkijs.SignedData({ schema: ci.content });
  if (sd.signerInfos.length !== 1) return null;
  const certs = (sd.certificates ?? []).filter((x): x is pkijs.Certificate => x instanceof pkijs.Certificate).map((x) => toCert(new Uint8Array(x.toSchema().toBER())));
  return { signerInfo: sd.signerInfos[0], certs };
}

function findSigner(si: pkijs.SignerInfo, certs: Cert[]): Cert | undefined {
  if (si.sid instanceof pkijs.IssuerAndSerialNumber) {
    const sid = si.sid;
    return certs.find((c) => c.pk.issuer.isEqual(sid.issuer) && c.pk.serialNumber.isEqual(sid.serialNumber));
  }
  // [0] SubjectKeyIdentifier
  const ski = Buffer.from((si.sid as asn1js.Primitive).valueBlock.valueHexView).toString('hex');
  return certs.find((c) => subjectKeyId(c) === ski);
}

function subjectKeyId(c: Cert): string | undefined {
  const ext = c.pk.extensions?.find((e) => e.extnID === OID.subjectKeyIdentifier);
  return ext ? Buffer.from(ext.extnValue.valueBlock.valueHexView.subarray(2)).toString('hex') : undefined;
}

function verifySignature(hash: string, data: Buffer, signer: Cert, si: pkijs.SignerInfo): boolean {
  const alg = si.signatureAlgorithm.algorithmId;
  // rsaEncryption, sha*WithRSAEncryption and ecdsa-with-SHA* all verify the same way in node:crypto; PSS is not used here.
  if (alg === '1.2.840.113549.1.1.10') return false;
  try {
    return crypto.verify(hash, data, signer.x.publicKey, Buffer.from(si.signature.valueBlock.valueHexView));
  } catch {
    return false;
  }
}

/** SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, ... }; the first names the signer. */
function matchesSigningCertificateV2(value: unknown, signer: Cert): boolean {
  if (!(value instanceof asn1js.Sequence)) return false;
  const certsSeq = value.valueBlock.value[0];
  if (!(certsSeq instanceof asn1js.Sequence)) return false;
  const essCertId = certsSeq.valueBlock.value[0];
  if (!(essCertId instanceof asn1js.Sequence)) return false;
  const [first, second] = essCertId.valueBlock.value;
  // hashAlgorithm DEFAULT sha256: present only when it is something else.
  const hasAlg = first instanceof asn1js.Sequence;
  const hashOid = hasAlg ? new pkijs.AlgorithmIdentifier({ schema: first }).algorithmId : OID.sha256;
  const certHash = hasAlg ? second : first;
  const hash = HASH_BY_OID[hashOid];
  if (!hash || hash === 'sha1' || !(certHash instanceof asn1js.OctetString)) return false;
  return Buffer.from(certHash.valueBlock.valueHexView).equals(crypto.createHash(hash).update(signer.x.raw).digest());
}

function cmsSigningTime(value: unknown): Date | null {
  return value instanceof asn1js.UTCTime || value instanceof asn1js.GeneralizedTime ? value.toDate() : null;
}

/** Signer -> intermediates carried in the CMS -> one of our anchors, each link signature-checked. */
function buildPath(signer: Cert, pool: Cert[], anchors: Cert[]): Cert[] | null {
  const path = [signer];
  let cur = signer;
  for (let depth = 0; depth < 8; depth++) {
    const fp = cur.x.fingerprint256;
    if (anchors.some((a) => a.x.fingerprint256 === fp)) return path;
    const anchor = anchors.find((a) => issuedBy(cur, a));
    if (anchor) return [...path, anchor];
    const next = pool.find((p) => p.x.ca && !path.some((q) => q.x.fingerprint256 === p.x.fingerprint256) && issuedBy(cur, p));
    if (!next) return null;
    path.push(next);
    cur = next;
  }
  return null;
}

function issuedBy(child: Cert, issuer: Cert): boolean {
  return child.x.checkIssued(issuer.x) && child.x.verify(issuer.x.publicKey);
}

/**
 * /M and /SubFilter of the signature dictionary holding this /ByteRange: the text
 * of the enclosing indirect object, minus the signature hex. Both lie inside the
 * signed bytes, so once the digest checks they cannot have been altered.
 */
function signatureDictionary(text: string, byteRangeAt: number, gapStart: number, gapEnd: number): { signingTime: Date | null; subFilter: string | null } {
  const start = Math.max(0, text.lastIndexOf(' obj', byteRangeAt));
  const endobj = text.indexOf('endobj', gapEnd);
  const body = text.slice(start, gapStart) + text.slice(gapEnd, endobj < 0 ? text.length : endobj);
  const subFilter = /\/SubFilter\s*\/([^\s/<>[\]()]+)/.exec(body)?.[1] ?? null;
  const m = /\/M\s*\(D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:([Z+-])(\d{2})?'?(\d{2})?'?)?\)/.exec(body);
  return { signingTime: m ? pdfDate(m) : null, subFilter };
}

function pdfDate(m: RegExpExecArray): Date | null {
  const [y, mo = '01', d = '01', h = '00', mi = '00', s = '00', tz, th = '00', tm = '00'] = m.slice(1);
  const offset = tz === '+' || tz === '-' ? `${tz}${th}:${tm}` : 'Z';
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${offset}`);
  return Number.isNaN(date.getTime()) ? null : date;
}
