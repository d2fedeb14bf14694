// PAdES baseline B-B signing of a rendered letter: placeholder (@signpdf's
// pdf-lib helper), ByteRange (@signpdf/signpdf), a CMS SignedData with
// content-type, message-digest and signing-certificate-v2 (DER from asn1js/pkijs
// fragments), the RSA operation in node:crypto (~0.3 ms; forge's pure-JS RSA is
// ~37 ms, DESIGN.md §5).
// PAdES forbids the CMS signing-time attribute (ETSI EN 319 142-1 §6.3): the
// claimed time is the dictionary's /M entry, which is inside the signed bytes.
import crypto from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { PDFDocument } from 'pdf-lib';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { SignPdf } from '@signpdf/signpdf';
import { Signer, SUBFILTER_ETSI_CADES_DETACHED } from '@signpdf/utils';
import { OID, parseCertificate } from './x509.js';

/** Who signs: the one place a remote signer (BSrE API, HSM) would replace the local key. */
export interface SigningIdentity {
  privateKey: crypto.KeyObject;
  certificate: string;
  /** Issuers up to (and usually including) the root, PEM. */
  chain: string[];
}

export interface SignOptions {
  reason?: string;
  location?: string;
  name?: string;
  contactInfo?: string;
  signingTime?: Date;
}

/** Room for the CMS, in hex digits: 8 KiB of DER, enough for a three-certificate chain. */
export const SIGNATURE_LENGTH = 16384;

export const CMS_OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
} as const;

const pdfSigner = new SignPdf();

/**
 * Signs an unsigned PDF (as saved by pdf-lib with useObjectStreams:false) and
 * returns the signed file. The placeholder is added and the document saved
 * once; a signed PDF must never be re-saved by pdf-lib (it rewrites the file).
 */
export async function signPdf(pdfBytes: Uint8Array, signer: SigningIdentity, opts: SignOptions = {}): Promise<Buffer> {
  if (Buffer.from(pdfBytes.buffer, pdfBytes.byteOffset, pdfBytes.byteLength).includes('/ByteRange')) {
    throw new Error('PDF is already signed: a further signature must be an incremental update');
  }
  const signingTime = opts.signingTime ?? new Date();
  const doc = await PDFDocument.load(pdfBytes, { updateMetadata: false });
  pdflibAddPlaceholder({
    pdfDoc: doc,
    reason: pdfLiteral(opts.reason ?? ''),
    location: pdfLiteral(opts.location ?? ''),
    name: pdfLiteral(opts.name ?? ''),
    contactInfo: pdfLiteral(opts.contactInfo ?? ''),
    signingTime,
    signatureLength: SIGNATURE_LENGTH,
    subFilter: SUBFILTER_ETSI_CADES_DETACHED,
  });
  const withPlaceholder = Buffer.from(await doc.save({ useObjectStreams: false }));
  return pdfSigner.sign(withPlaceholder, new CadesSigner(signer), signingTime);
}

/** @signpdf hands sign() the concatenated ByteRange bytes; we return the CMS DER. */
class CadesSigner extends Signer {
  constructor(private readonly identity: SigningIdentity) {
    super();
  }

  override async sign(signedBytes: Buffer): Promise<Buffer> {
    return buildCms(crypto.createHash('sha256').update(signedBytes).digest(), this.identity);
  }
}

/**
 * Detached CMS SignedData (RFC 5652) over a precomputed SHA-256 message digest.
 * The structure is fixed and small, so it is laid out as DER from fragments
 * encoded once (constants at load, the certificates per signer): building it
 * through pkijs objects re-encoded certificates, names and OIDs on every
 * signature and cost ~5 ms, fifteen times the RSA operation itself.
 */
export function buildCms(messageDigest: Buffer, identity: SigningIdentity): Buffer {
  const prepared = prepare(identity);
  // DER sorts a SET OF by its members' encodings; verifiers that re-encode (OpenSSL
  // does) would otherwise hash other bytes than we signed.
  const attributes = [
    CONTENT_TYPE_DATA_ATTRIBUTE,
    der(0x30, [DER.messageDigestOid, der(0x31, [der(0x04, [messageDigest])])]),
    prepared.signingCertificateV2Attribute,
  ].sort(Buffer.compare);
  // The signature covers the attributes as a SET (0x31), not as the [0] they are stored under.
  const signature = crypto.sign('sha256', der(0x31, attributes), identity.privateKey);
  const signerInfo = der(0x30, [
    DER.version1,
    prepared.sid, // IssuerAndSerialNumber
    DER.sha256Algorithm,
    der(0xa0, attributes), // signedAttrs [0] IMPLICIT
    identity.privateKey.asymmetricKeyType === 'ec' ? DER.ecdsaWithSha256Algorithm : DER.rsaEncryptionAlgorithm,
    der(0x04, [signature]),
  ]);
  const signedData = der(0x30, [
    DER.version1,
    der(0x31, [DER.sha256Algorithm]), // digestAlgorithms
    DER.encapContentInfoData, // detached: eContentType only, no eContent
    der(0xa0, prepared.certificates), // certificates [0] IMPLICIT: signer first, then the chain
    der(0x31, [signerInfo]),
  ]);
  return der(0x30, [DER.signedDataOid, der(0xa0, [signedData])]);
}

const ber = (block: { toBER(): ArrayBuffer }) => Buffer.from(block.toBER());
const DER = {
  version1: ber(new asn1js.Integer({ value: 1 })),
  sha256Algorithm: ber(new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.sha256 })] })), // RFC 5754: no parameters
  rsaEncryptionAlgorithm: ber(new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.rsaEncryption }), new asn1js.Null()] })),
  ecdsaWithSha256Algorithm: ber(new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: CMS_OID.ecdsaWithSha256 })] })),
  encapContentInfoData: ber(new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: CMS_OID.data })] })),
  messageDigestOid: ber(new asn1js.ObjectIdentifier({ value: CMS_OID.messageDigest })),
  signedDataOid: ber(new asn1js.ObjectIdentifier({ value: CMS_OID.signedData })),
};
const CONTENT_TYPE_DATA_ATTRIBUTE = ber(
  new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: CMS_OID.contentType }), new asn1js.Set({ value: [new asn1js.ObjectIdentifier({ value: CMS_OID.data })] })] }),
);

interface PreparedIdentity {
  certificates: Buffer[];
  sid: Buffer;
  signingCertificateV2Attribute: Buffer;
}

// Parsing a certificate costs ~1 ms, more than the RSA signature: keep the
// encoded pieces per certificate chain (a signer signs many letters). Bounded.
const preparedCache = new Map<string, PreparedIdentity>();

function prepare(identity: SigningIdentity): PreparedIdentity {
  const key = [identity.certificate, ...identity.chain].join('\n');
  let p = preparedCache.get(key);
  if (!p) {
    const certificates = [identity.certificate, ...identity.chain].map((pem) => new crypto.X509Certificate(pem).raw);
    const signerCert = parseCertificate(certificates[0]);
    // SigningCertificateV2 { certs: [ ESSCertIDv2 { certHash } ] }: hashAlgorithm is
    // SHA-256 by DEFAULT, so DER omits it; issuerSerial "should not" be present (EN 319 122-1).
    const essCertIdV2 = der(0x30, [der(0x04, [crypto.createHash('sha256').update(certificates[0]).digest()])]);
    p = {
      certificates,
      sid: ber(new pkijs.IssuerAndSerialNumber({ issuer: signerCert.issuer, serialNumber: signerCert.serialNumber }).toSchema()),
      signingCertificateV2Attribute: der(0x30, [
        ber(new asn1js.ObjectIdentifier({ value: CMS_OID.signingCertificateV2 })),
        der(0x31, [der(0x30, [der(0x30, [essCertIdV2])])]),
      ]),
    };
    if (preparedCache.size >= 256) preparedCache.clear();
    preparedCache.set(key, p);
  }
  return p;
}

/** One DER TLV (definite length) around already-encoded parts. */
function der(tag: number, parts: Uint8Array[]): Buffer {
  const content = Buffer.concat(parts);
  const n = content.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), content]);
}

// pdf-lib writes PDFString values verbatim (no escaping, one byte per char), so
// we hand it a ready literal body: printable ASCII as is, anything else as an
// octal escape; non-ASCII text becomes UTF-16BE with a BOM, as PDF text strings allow.
export function pdfLiteral(text: string): string {
  const bytes = /^[\x20-\x7e]*$/.test(text) ? Buffer.from(text, 'latin1') : Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
  let out = '';
  for (const b of bytes) out += b >= 0x20 && b < 0x7f && b !== 0x28 && b !== 0x29 && b !== 0x5c ? String.fromCharCode(b) : '\\' + b.toString(8).padStart(3, '0');
  return out;
}
