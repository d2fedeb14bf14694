// The CA's certificate revocation list (X.509 v2 CRL, RFC 5280 §5), published at
// the URL our certificates name in cRLDistributionPoints so that outside readers
// (Adobe, pdfsig with CRL fetching) see revocations too. node-forge has no CRL
// writer: pkijs lays it out, node:crypto signs it.
import crypto from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { CaMaterial } from './ca.js';
import { OID, parseCertificate } from './x509.js';

/** RFC 5280 CRLReason names (7 is unused). */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

export interface RevokedEntry {
  serialHex: string;
  revokedAt: Date;
  reason: RevocationReason;
}

const EXT = { authorityKeyIdentifier: '2.5.29.35', cRLNumber: '2.5.29.20', reasonCode: '2.5.29.21' };

/**
 * DER of a CRL signed by the CA. `crlNumber` must grow with each issue (RFC 5280
 * requires the extension); by default the seconds of thisUpdate, which does.
 */
export function buildCrl(ca: CaMaterial, revoked: RevokedEntry[], opts: { thisUpdate: Date; nextUpdate: Date; crlNumber?: number }): Buffer {
  const caCert = parseCertificate(ca.certPem);
  const ski = caCert.extensions?.find((e) => e.extnID === OID.subjectKeyIdentifier);
  if (!ski) throw new Error('CA certificate has no subjectKeyIdentifier');
  const sha256WithRsa = () => new pkijs.AlgorithmIdentifier({ algorithmId: OID.sha256WithRSA, algorithmParams: new asn1js.Null() });
  const crlNumber = opts.crlNumber ?? Math.floor(opts.thisUpdate.getTime() / 1000);

  const crl = new pkijs.CertificateRevocationList({
    version: 1, // v2
    signature: sha256WithRsa(),
    issuer: caCert.subject,
    thisUpdate: utcTime(opts.thisUpdate),
    nextUpdate: utcTime(opts.nextUpdate),
    crlExtensions: new pkijs.Extensions({
      extensions: [
        extension(EXT.authorityKeyIdentifier, new pkijs.AuthorityKeyIdentifier({ keyIdentifier: asn1js.fromBER(ski.extnValue.valueBlock.valueHexView).result as asn1js.OctetString }).toSchema()),
        extension(EXT.cRLNumber, new asn1js.Integer({ value: crlNumber })),
      ],
    }),
    signatureAlgorithm: sha256WithRsa(),
  });
  if (revoked.length > 0) {
    crl.revokedCertificates = revoked.map(
      (r) =>
        new pkijs.RevokedCertificate({
          userCertificate: new asn1js.Integer({ valueHex: serialBytes(r.serialHex) }),
          revocationDate: utcTime(r.revokedAt),
          // RFC 5280: the reasonCode "unspecified" SHOULD be absent.
          ...(r.reason === 'unspecified'
            ? {}
            : { crlEntryExtensions: new pkijs.Extensions({ extensions: [extension(EXT.reasonCode, new asn1js.Enumerated({ value: REVOCATION_REASONS[r.reason] }))] }) }),
        }),
    );
  }
  const tbs = Buffer.from((crl.toSchema(true) as asn1js.Sequence).valueBlock.value[0].toBER());
  crl.tbsView = new Uint8Array(tbs);
  crl.signatureValue = new asn1js.BitString({ valueHex: crypto.sign('sha256', tbs, ca.keyPem) });
  return Buffer.from(crl.toSchema().toBER());
}

function extension(extnID: string, value: asn1js.BaseBlock): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical: false, extnValue: value.toBER() });
}

function utcTime(value: Date): pkijs.Time {
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
  return new pkijs.Time({ type: value.getUTCFullYear() < 2050 ? pkijs.TimeType.UTCTime : pkijs.TimeType.GeneralizedTime, value });
}

/** Positive INTEGER bytes: a leading 0x00 when the top bit is set. */
function serialBytes(hex: string): Uint8Array {
  const even = hex.length % 2 ? `0${hex}` : hex;
  const bytes = Buffer.from(even, 'hex');
  return new Uint8Array(bytes[0] >= 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}
