// The installation's own certification authority (for testing and for agencies
// without a BSrE certificate): the root, the signers' certificates, and the CA
// key at rest. node-forge builds the X.509 structures; every private-key
// operation and key generation goes through node:crypto (native, and forge's
// pure-JavaScript RSA takes ~100 ms per 3072-bit signature).
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { WrongPassphraseError } from './pkcs12.js';

export interface CaMaterial {
  /** Unencrypted PKCS#8 PEM: keep it only in memory; store encryptPrivateKey()'s output. */
  keyPem: string;
  certPem: string;
}

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

const generateKeyPairAsync = promisify(crypto.generateKeyPair);

/** RSA key generation off the event loop (it takes 50-500 ms). */
export async function generateKeyPair(modulusLength = 2048): Promise<KeyPairPem> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', { modulusLength });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}

export async function createCa(opts: { commonName: string; organization: string; validYears: number }): Promise<CaMaterial> {
  const { privateKeyPem, publicKeyPem } = await generateKeyPair(3072);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  cert.serialNumber = randomSerial();
  setValidity(cert, opts.validYears * 365);
  // Most general first (C, O, ..., CN), the customary X.509 order.
  const name = [{ type: '2.5.4.6', value: 'ID' }, utf8('2.5.4.10', opts.organization), utf8('2.5.4.3', opts.commonName)];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  signWith(cert, privateKeyPem);
  return { keyPem: privateKeyPem, certPem: forge.pki.certificateToPem(cert) };
}

export interface SigningCertificateRequest {
  name: string;
  nip: string;
  email?: string;
  organization: string;
  unit?: string;
  validDays: number;
  publicKeyPem: string;
  /** Where relying parties fetch our CRL, e.g. `${PUBLIC_URL}/pki/crl`. */
  crlUrl: string;
}

export function issueSigningCertificate(ca: CaMaterial, req: SigningCertificateRequest): string {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caSki = (caCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null)?.subjectKeyIdentifier;
  if (!caSki) throw new Error('CA certificate has no subjectKeyIdentifier');
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(req.publicKeyPem);
  cert.serialNumber = randomSerial();
  setValidity(cert, req.validDays);
  cert.setSubject([
    { type: '2.5.4.6', value: 'ID' },
    utf8('2.5.4.10', req.organization),
    ...(req.unit ? [utf8('2.5.4.11', req.unit)] : []),
    // X.520 serialNumber is a PrintableString; NIPs are digits.
    { type: '2.5.4.5', value: req.nip },
    utf8('2.5.4.3', req.name),
  ]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    // nonRepudiation (contentCommitment) marks a signature that binds its signer, as a TTE must.
    { name: 'keyUsage', digitalSignature: true, nonRepudiation: true, critical: true },
    // emailProtection is what NSS (pdfsig) and Adobe accept for document signing; the
    // Microsoft document-signing OID helps Windows-based readers.
    { name: 'extKeyUsage', emailProtection: true, '1.3.6.1.4.1.311.10.3.12': true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: forge.util.hexToBytes(caSki) },
    { name: 'cRLDistributionPoints', altNames: [{ type: 6, value: req.crlUrl }] },
    ...(req.email ? [{ name: 'subjectAltName', altNames: [{ type: 1, value: req.email }] }] : []),
  ]);
  signWith(cert, ca.keyPem);
  return forge.pki.certificateToPem(cert);
}

/** The CA key at rest: PKCS#8 encrypted PEM (PBES2, AES-256-CBC) under a long operator passphrase. */
export function encryptPrivateKey(keyPem: string, passphrase: string): string {
  return crypto.createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }) as string;
}

export function decryptPrivateKey(encryptedPem: string, passphrase: string): string {
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey({ key: encryptedPem, format: 'pem', passphrase });
  } catch (e) {
    // OpenSSL reports a wrong passphrase as a failed decrypt / bad padding.
    if (/bad decrypt|wrong password|DECODER routines|bad password/i.test(String((e as Error).message))) throw new WrongPassphraseError();
    throw e;
  }
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

// 16 random bytes, first byte 0x40-0x7f: positive, never a leading zero, so the
// serial has one spelling (RFC 5280 asks for at most 20 octets, unpredictable).
function randomSerial(): string {
  const b = crypto.randomBytes(16);
  b[0] = (b[0] & 0x3f) | 0x40;
  return b.toString('hex');
}

function setValidity(cert: forge.pki.Certificate, days: number): void {
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 5 * 60_000); // tolerate clock skew between servers
  cert.validity.notAfter = new Date(now + days * 86_400_000);
}

function utf8(type: string, value: string) {
  // Names may carry characters PrintableString cannot (apostrophes are fine, diacritics are not).
  return { type, value, valueTagClass: forge.asn1.Type.UTF8 as number };
}

/** forge lays out the TBSCertificate; node:crypto signs it. */
function signWith(cert: forge.pki.Certificate, keyPem: string): void {
  const c = cert as forge.pki.Certificate & { tbsCertificate: forge.asn1.Asn1; siginfo: { algorithmOid: string } };
  c.signatureOid = c.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption;
  // getTBSCertificate exists in node-forge but is missing from @types/node-forge.
  c.tbsCertificate = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  const tbs = Buffer.from(forge.asn1.toDer(c.tbsCertificate).getBytes(), 'binary');
  c.signature = crypto.sign('sha256', tbs, keyPem).toString('binary');
}
