// PKCS#12 (.p12/.pfx): a signer's key and certificates under their passphrase.
// pkijs lays out the ASN.1; the key derivations and ciphers run in node:crypto.
// Why not node-forge here (DESIGN.md §5 suggests it): forge derives PBES2 keys
// in pure JavaScript, measured 690 ms for 100,000 PBKDF2-SHA256 iterations plus
// 215 ms for the MAC, against ~25 ms + ~170 ms natively. At 100,000 iterations
// (what makes a stolen file expensive to brute-force) only the native path opens
// in well under 300 ms. The MAC's PKCS#12 KDF has no native implementation (a
// JavaScript loop of 100,000 hashes, ~95 ms), so the signing step's unlockPkcs12
// skips it and proves the passphrase with the key alone: ~25 ms of PBKDF2 in
// libuv's thread pool, leaving the event loop free for concurrent signatures.
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { derToPem } from './x509.js';

export class WrongPassphraseError extends Error {
  constructor() {
    super('wrong passphrase');
    this.name = 'WrongPassphraseError';
  }
}

/** Not a PKCS#12 file, or one using an algorithm we do not read (e.g. RC2-40). */
export class InvalidPkcs12Error extends Error {
  constructor(detail: string) {
    super(`invalid PKCS#12: ${detail}`);
    this.name = 'InvalidPkcs12Error';
  }
}

/** Both the key encryption (PBKDF2) and the MAC; the weaker of the two is what an attacker would grind. */
export const PKCS12_ITERATIONS = 100_000;

const OIDS = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbeSha1TripleDes: '1.2.840.113549.1.12.1.3',
  hmacWithSha256: '1.2.840.113549.2.9',
  aes256cbc: '2.16.840.1.101.3.4.1.42',
  sha256: '2.16.840.1.101.3.4.2.1',
};

const PRF_HASH: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};
const PBES2_CIPHER: Record<string, { name: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
};
const MAC_HASH: Record<string, { name: string; size: number; block: number }> = {
  '1.3.14.3.2.26': { name: 'sha1', size: 20, block: 64 },
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', size: 32, block: 64 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', size: 48, block: 128 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', size: 64, block: 128 },
};

export interface Pkcs12Contents {
  keyPem: string;
  certPem: string;
  chainPems: string[];
}

export function toPkcs12(opts: Pkcs12Contents & { passphrase: string; friendlyName: string }): Buffer {
  const certDer = new crypto.X509Certificate(opts.certPem).raw;
  // localKeyId ties the key to its certificate for readers that look (Windows, NSS).
  const attrs = [
    new pkijs.Attribute({ type: OIDS.localKeyId, values: [new asn1js.OctetString({ valueHex: crypto.createHash('sha1').update(certDer).digest() })] }),
    new pkijs.Attribute({ type: OIDS.friendlyName, values: [new asn1js.BmpString({ value: opts.friendlyName })] }),
  ];
  const certBags = [certDer, ...opts.chainPems.map((p) => new crypto.X509Certificate(p).raw)].map(
    (der, i) =>
      new pkijs.SafeBag({
        bagId: OIDS.certBag,
        bagValue: new pkijs.CertBag({ parsedValue: pkijs.Certificate.fromBER(new Uint8Array(der)) }),
        ...(i === 0 ? { bagAttributes: attrs } : {}),
      }),
  );
  const keyBag = new pkijs.SafeBag({
    bagId: OIDS.shroudedKeyBag,
    bagValue: encryptKey(crypto.createPrivateKey(opts.keyPem).export({ type: 'pkcs8', format: 'der' }), opts.passphrase),
    bagAttributes: attrs,
  });
  // Certificates are public: they travel in a plain Data content, the key in a shrouded bag.
  const authSafe = new pkijs.AuthenticatedSafe({
    safeContents: [certBags, [keyBag]].map((bags) => dataContent(new pkijs.SafeContents({ safeBags: bags }).toSchema().toBER())),
  });
  const authSafeDer = Buffer.from(authSafe.toSchema().toBER());
  const macSalt = crypto.randomBytes(16);
  const pfx = new pkijs.PFX({
    version: 3,
    authSafe: dataContent(authSafeDer),
    macData: new pkijs.MacData({
      mac: new pkijs.DigestInfo({
        digestAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OIDS.sha256, algorithmParams: new asn1js.Null() }),
        digest: new asn1js.OctetString({ valueHex: mac(MAC_HASH[OIDS.sha256], opts.passphrase, macSalt, PKCS12_ITERATIONS, authSafeDer) }),
      }),
      macSalt: new asn1js.OctetString({ valueHex: macSalt }),
      iterations: PKCS12_ITERATIONS,
    }),
  });
  return Buffer.from(pfx.toSchema().toBER());
}

/**
 * Opens a PKCS#12 file: ours or one from `openssl pkcs12 -export` (PBES2 or
 * 3DES, SHA-1/SHA-2 MAC). The certificate returned is the one matching the key.
 */
export function fromPkcs12(buffer: Uint8Array, passphrase: string): Pkcs12Contents {
  let pfx: pkijs.PFX;
  let authSafeDer: Buffer;
  try {
    pfx = pkijs.PFX.fromBER(new Uint8Array(buffer));
    if (pfx.authSafe.contentType !== OIDS.data) throw new Error('public-key integrity mode');
    authSafeDer = octets(pfx.authSafe.content);
  } catch (e) {
    throw new InvalidPkcs12Error((e as Error).message);
  }
  if (pfx.macData) {
    const alg = MAC_HASH[pfx.macData.mac.digestAlgorithm.algorithmId];
    if (!alg) throw new InvalidPkcs12Error(`MAC algorithm ${pfx.macData.mac.digestAlgorithm.algorithmId}`);
    const expected = mac(alg, passphrase, octets(pfx.macData.macSalt), pfx.macData.iterations ?? 1, authSafeDer);
    const actual = octets(pfx.macData.mac.digest);
    if (actual.length !== expected.length || !crypto.timingSafeEqual(actual, expected)) throw new WrongPassphraseError();
  }

  const keys: crypto.KeyObject[] = [];
  const certs: Buffer[] = [];
  for (const bag of readBags(authSafeDer, passphrase)) {
    if (bag.bagId === OIDS.shroudedKeyBag) {
      const shrouded = bag.bagValue as pkijs.PKCS8ShroudedKeyBag;
      const der = decrypt(shrouded.encryptionAlgorithm, octets(shrouded.encryptedData), passphrase);
      keys.push(crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
    } else if (bag.bagId === OIDS.keyBag) {
      keys.push(crypto.createPrivateKey({ key: Buffer.from((bag.bagValue as pkijs.PrivateKeyInfo).toSchema().toBER()), format: 'der', type: 'pkcs8' }));
    } else if (bag.bagId === OIDS.certBag) {
      const cb = bag.bagValue as pkijs.CertBag;
      if (cb.certId === OIDS.x509Certificate) certs.push(octets(cb.certValue as asn1js.OctetString));
    }
  }
  if (keys.length !== 1) throw new InvalidPkcs12Error(`expected one private key, found ${keys.length}`);
  const spki = crypto.createPublicKey(keys[0]).export({ type: 'spki', format: 'der' });
  const mine = certs.findIndex((der) => new crypto.X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' }).equals(spki));
  if (mine < 0) throw new InvalidPkcs12Error('no certificate matches the private key');
  return {
    keyPem: keys[0].export({ type: 'pkcs8', format: 'pem' }) as string,
    certPem: derToPem(certs[mine]),
    chainPems: certs.filter((_, i) => i !== mine).map((der) => derToPem(der)),
  };
}

/**
 * The signing step's unlock of a stored PKCS#12 whose certificate the caller
 * already holds (`certPem`, from the database): only the key is decrypted, its
 * PBKDF2 running in libuv's thread pool (~20 ms at 100,000 iterations, off the
 * event loop). The MAC is not checked: its PKCS#12 KDF (RFC 7292 B.2) has no
 * native implementation and costs ~100 ms of JavaScript on the event loop, and
 * what it would protect (the certificate bags) is not read; the passphrase is
 * proven by a key that decrypts, parses and matches `certPem`. Files in other
 * shapes (OpenSSL's encrypted bags, 3DES) go through fromPkcs12.
 */
export async function unlockPkcs12(buffer: Uint8Array, passphrase: string, certPem: string): Promise<crypto.KeyObject> {
  const shrouded = shroudedKeyInPlainSafe(buffer);
  let key: crypto.KeyObject;
  if (shrouded?.encryptionAlgorithm.algorithmId === OIDS.pbes2) {
    const p = pbes2Params(shrouded.encryptionAlgorithm);
    const derived = await pbes2KeyAsync(Buffer.from(passphrase, 'utf8'), p.salt, p.iterations, p.keyLength, p.prf);
    const der = decipher(p.cipher, derived, p.iv, octets(shrouded.encryptedData));
    try {
      key = crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } catch {
      throw new WrongPassphraseError(); // a padding that happened to check out, over garbage
    }
  } else {
    key = crypto.createPrivateKey(fromPkcs12(buffer, passphrase).keyPem);
  }
  const spki = crypto.createPublicKey(key).export({ type: 'spki', format: 'der' });
  if (!new crypto.X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' }).equals(spki)) {
    throw new InvalidPkcs12Error('the key does not match the certificate');
  }
  return key;
}

/** The one shrouded key bag of a file laid out as toPkcs12 does (plain Data safes), or null. */
function shroudedKeyInPlainSafe(buffer: Uint8Array): pkijs.PKCS8ShroudedKeyBag | null {
  try {
    const pfx = pkijs.PFX.fromBER(new Uint8Array(buffer));
    if (pfx.authSafe.contentType !== OIDS.data) return null;
    const authSafe = pkijs.AuthenticatedSafe.fromBER(new Uint8Array(octets(pfx.authSafe.content)));
    if (!authSafe.safeContents.every((ci) => ci.contentType === OIDS.data)) return null;
    const bags = authSafe.safeContents.flatMap((ci) => pkijs.SafeContents.fromBER(new Uint8Array(octets(ci.content))).safeBags);
    const keys = bags.filter((b) => b.bagId === OIDS.shroudedKeyBag || b.bagId === OIDS.keyBag);
    return keys.length === 1 && keys[0].bagId === OIDS.shroudedKeyBag ? (keys[0].bagValue as pkijs.PKCS8ShroudedKeyBag) : null;
  } catch {
    return null; // fromPkcs12 gives the precise error
  }
}

function readBags(authSafeDer: Buffer, passphrase: string): pkijs.SafeBag[] {
  let authSafe: pkijs.AuthenticatedSafe;
  try {
    authSafe = pkijs.AuthenticatedSafe.fromBER(new Uint8Array(authSafeDer));
  } catch (e) {
    throw new InvalidPkcs12Error((e as Error).message);
  }
  return authSafe.safeContents.flatMap((ci) => {
    let der: Buffer;
    if (ci.contentType === OIDS.data) der = octets(ci.content);
    else if (ci.contentType === OIDS.encryptedData) {
      // OpenSSL encrypts the certificates too (with the same passphrase).
      const eci = new pkijs.EncryptedData({ schema: ci.content }).encryptedContentInfo;
      der = decrypt(eci.contentEncryptionAlgorithm, octets(eci.encryptedContent!), passphrase);
    } else throw new InvalidPkcs12Error(`content type ${ci.contentType}`);
    return pkijs.SafeContents.fromBER(new Uint8Array(der)).safeBags;
  });
}

function dataContent(der: ArrayBuffer | Uint8Array): pkijs.ContentInfo {
  return new pkijs.ContentInfo({ contentType: OIDS.data, content: new asn1js.OctetString({ valueHex: der }) });
}

/** Content octets of an OCTET STRING, including BER's constructed (chunked) form. */
function octets(os: asn1js.OctetString): Buffer {
  if (os.idBlock.isConstructed) return Buffer.concat((os.valueBlock.value as asn1js.OctetString[]).map(octets));
  return Buffer.from(os.valueBlock.valueHexView);
}

function encryptKey(pkcs8Der: Buffer, passphrase: string): pkijs.PKCS8ShroudedKeyBag {
  const salt = crypto.randomBytes(16);
  const iv = crypto.randomBytes(16);
  const key = crypto.pbkdf2Sync(Buffer.from(passphrase, 'utf8'), salt, PKCS12_ITERATIONS, 32, 'sha256');
  const cipher = crypto.createCipheriv('aes-256-cbc', key, iv);
  const encrypted = Buffer.concat([cipher.update(pkcs8Der), cipher.final()]);
  const params = new pkijs.PBES2Params({
    keyDerivationFunc: new pkijs.AlgorithmIdentifier({
      algorithmId: OIDS.pbkdf2,
      algorithmParams: new pkijs.PBKDF2Params({
        salt: new asn1js.OctetString({ valueHex: salt }),
        iterationCount: PKCS12_ITERATIONS,
        prf: new pkijs.AlgorithmIdentifier({ algorithmId: OIDS.hmacWithSha256, algorithmParams: new asn1js.Null() }),
      }).toSchema(),
    }),
    encryptionScheme: new pkijs.AlgorithmIdentifier({ algorithmId: OIDS.aes256cbc, algorithmParams: new asn1js.OctetString({ valueHex: iv }) }),
  });
  return new pkijs.PKCS8ShroudedKeyBag({
    encryptionAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OIDS.pbes2, algorithmParams: params.toSchema() }),
    encryptedData: new asn1js.OctetString({ valueHex: encrypted }),
  });
}

interface Pbes2 {
  cipher: string;
  keyLength: number;
  salt: Buffer;
  iterations: number;
  prf: string;
  iv: Buffer;
}

function pbes2Params(alg: pkijs.AlgorithmIdentifier): Pbes2 {
  const params = new pkijs.PBES2Params({ schema: alg.algorithmParams });
  const scheme = PBES2_CIPHER[params.encryptionScheme.algorithmId];
  if (params.keyDerivationFunc.algorithmId !== OIDS.pbkdf2 || !scheme) throw new InvalidPkcs12Error(`cipher ${params.encryptionScheme.algorithmId}`);
  const kdf = new pkijs.PBKDF2Params({ schema: params.keyDerivationFunc.algorithmParams });
  const prf = kdf.prf ? PRF_HASH[kdf.prf.algorithmId] : 'sha1';
  if (!prf) throw new InvalidPkcs12Error(`PRF ${kdf.prf?.algorithmId}`);
  return { cipher: scheme.name, keyLength: scheme.keyLength, salt: octets(kdf.salt), iterations: kdf.iterationCount, prf, iv: octets(params.encryptionScheme.algorithmParams) };
}

// PBES2 takes the passphrase as UTF-8 bytes (as OpenSSL does), unlike the BMPString of the PKCS#12 KDF.
const pbes2Key = (p: Pbes2, passphrase: string) => crypto.pbkdf2Sync(Buffer.from(passphrase, 'utf8'), p.salt, p.iterations, p.keyLength, p.prf);
const pbes2KeyAsync = promisify(crypto.pbkdf2);

function decipher(cipherName: string, key: Buffer, iv: Buffer, data: Buffer): Buffer {
  try {
    const d = crypto.createDecipheriv(cipherName, key, iv);
    return Buffer.concat([d.update(data), d.final()]);
  } catch {
    // Without a MAC a bad padding is the only sign of a wrong passphrase.
    throw new WrongPassphraseError();
  }
}

function decrypt(alg: pkijs.AlgorithmIdentifier, data: Buffer, passphrase: string): Buffer {
  let cipherName: string;
  let key: Buffer;
  let iv: Buffer;
  if (alg.algorithmId === OIDS.pbes2) {
    const p = pbes2Params(alg);
    key = pbes2Key(p, passphrase);
    iv = p.iv;
    cipherName = p.cipher;
  } else if (alg.algorithmId === OIDS.pbeSha1TripleDes) {
    // The pre-OpenSSL-3 default: PKCS#12 KDF with SHA-1, ids 1 (key) and 2 (IV).
    const params = alg.algorithmParams as asn1js.Sequence;
    const [salt, iter] = params.valueBlock.value as [asn1js.OctetString, asn1js.Integer];
    const sha1 = MAC_HASH['1.3.14.3.2.26'];
    key = pkcs12Kdf(sha1, passphrase, octets(salt), 1, iter.valueBlock.valueDec, 24);
    iv = pkcs12Kdf(sha1, passphrase, octets(salt), 2, iter.valueBlock.valueDec, 8);
    cipherName = 'des-ede3-cbc';
  } else {
    throw new InvalidPkcs12Error(`encryption ${alg.algorithmId}`);
  }
  return decipher(cipherName, key, iv, data);
}

function mac(alg: { name: string; size: number; block: number }, passphrase: string, salt: Buffer, iterations: number, data: Buffer): Buffer {
  const key = pkcs12Kdf(alg, passphrase, salt, 3, iterations, alg.size);
  return crypto.createHmac(alg.name, key).update(data).digest();
}

/** RFC 7292 Appendix B.2 key derivation (the passphrase as a NUL-terminated BMPString). */
function pkcs12Kdf(alg: { name: string; size: number; block: number }, passphrase: string, salt: Buffer, id: number, iterations: number, length: number): Buffer {
  const v = alg.block;
  const pw = Buffer.alloc((passphrase.length + 1) * 2);
  for (let i = 0; i < passphrase.length; i++) pw.writeUInt16BE(passphrase.charCodeAt(i), i * 2);
  const stretch = (src: Buffer) => {
    const out = Buffer.alloc(src.length ? v * Math.ceil(src.length / v) : 0);
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length];
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([stretch(salt), stretch(pw)]);
  const blocks: Buffer[] = [];
  for (let got = 0; got < length; ) {
    let A = crypto.createHash(alg.name).update(D).update(I).digest();
    // crypto.hash (one-shot) is ~30% faster than createHash here; the loop is still JavaScript.
    for (let r = 1; r < iterations; r++) A = crypto.hash(alg.name, A, 'buffer');
    blocks.push(A);
    got += A.length;
    if (got >= length) break;
    // I_j = (I_j + B + 1) mod 2^(8v) for each v-byte block of I
    const B = stretch(A);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        carry += I[j + k] + B[k];
        I[j + k] = carry & 0xff;
        carry >>= 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, length);
}
