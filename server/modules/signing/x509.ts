// Reading certificates: the few fields the signing module shows, stores and
// compares. One place, so the issuer DN and serial strings used for revocation
// look the same whether they come from a stored certificate or a signed PDF.
import crypto from 'node:crypto';
import * as pkijs from 'pkijs';

export const OID = {
  commonName: '2.5.4.3',
  serialNumber: '2.5.4.5', // the NIP in our certificates
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  country: '2.5.4.6',
  email: '1.2.840.113549.1.9.1',
  subjectKeyIdentifier: '2.5.29.14',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  sha1: '1.3.14.3.2.26',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRSA: '1.2.840.113549.1.1.11',
} as const;

/** Digest OIDs we accept, as node:crypto names. */
export const HASH_BY_OID: Record<string, string> = {
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
  [OID.sha1]: 'sha1',
};

const SHORT: Record<string, string> = {
  [OID.commonName]: 'CN',
  [OID.serialNumber]: 'serialNumber',
  [OID.organization]: 'O',
  [OID.organizationalUnit]: 'OU',
  [OID.country]: 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  [OID.email]: 'emailAddress',
};

export function pemToDer(pem: string): Buffer {
  return new crypto.X509Certificate(pem).raw;
}

export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

export function parseCertificate(pemOrDer: string | Uint8Array): pkijs.Certificate {
  const der = typeof pemOrDer === 'string' ? pemToDer(pemOrDer) : pemOrDer;
  return pkijs.Certificate.fromBER(new Uint8Array(der));
}

export function nameAttribute(name: pkijs.RelativeDistinguishedNames, oid: string): string | undefined {
  const atv = name.typesAndValues.find((t) => t.type === oid);
  return atv ? String(atv.value.valueBlock.value) : undefined;
}

/** RFC 4514 order (most specific first), e.g. "CN=Root,O=Pemda,C=ID". */
export function dnString(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((t) => `${SHORT[t.type] ?? t.type}=${String(t.value.valueBlock.value).replace(/([,+"\\<>;=])/g, '\\$1')}`)
    .reverse()
    .join(',');
}

/** Lower-case hex without leading zero bytes: the one spelling of a serial we store and compare. */
export function serialHex(serial: Uint8Array | string): string {
  let hex = typeof serial === 'string' ? serial.toLowerCase() : Buffer.from(serial).toString('hex');
  while (hex.length > 2 && hex.startsWith('00')) hex = hex.slice(2);
  return hex;
}

export interface CertificateInfo {
  subjectName: string | undefined;
  nip: string | undefined;
  organization: string | undefined;
  subjectDn: string;
  issuerDn: string;
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the DER, hex: a stable id for the certificate. */
  sha256: string;
}

export function certificateInfo(pemOrDer: string | Uint8Array): CertificateInfo {
  const der = typeof pemOrDer === 'string' ? pemToDer(pemOrDer) : Buffer.from(pemOrDer);
  const cert = pkijs.Certificate.fromBER(new Uint8Array(der));
  return {
    subjectName: nameAttribute(cert.subject, OID.commonName),
    nip: nameAttribute(cert.subject, OID.serialNumber),
    organization: nameAttribute(cert.subject, OID.organization),
    subjectDn: dnString(cert.subject),
    issuerDn: dnString(cert.issuer),
    serialHex: serialHex(cert.serialNumber.valueBlock.valueHexView),
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
    sha256: crypto.createHash('sha256').update(der).digest('hex'),
  };
}
