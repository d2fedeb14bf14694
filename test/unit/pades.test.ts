// The signing core checked by independent tools: pdfsig (poppler + NSS),
// openssl cms/x509/crl/pkcs12, qpdf, and by our own verifier on tampered files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { createCa, issueSigningCertificate, generateKeyPair, encryptPrivateKey, decryptPrivateKey, type CaMaterial } from '../../server/modules/signing/ca.js';
import { toPkcs12, fromPkcs12, WrongPassphraseError } from '../../server/modules/signing/pkcs12.js';
import { signPdf, type SigningIdentity } from '../../server/modules/signing/pades.js';
import { verifyPdf } from '../../server/modules/signing/verify.js';
import { buildCrl } from '../../server/modules/signing/crl.js';
import { certificateInfo } from '../../server/modules/signing/x509.js';
import { requireTools, nssTrustDb, type NssTrust } from '../support/nss.js';
import { signatureParts } from '../support/pdf-signature.js';

const NAME = "Dra. Siti Nur'aini, M.Si.";
const NIP = '197001011990032001';
const CRL_URL = 'http://localhost:3000/pki/crl';

async function onePagePdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([595.28, 841.89]);
  page.drawText('SURAT DINAS - Nomor: 000.8.3.3/15/DKIS/2026', { x: 85, y: 760, size: 11, font: await doc.embedFont(StandardFonts.Helvetica) });
  return doc.save({ useObjectStreams: false });
}

async function signerFor(ca: CaMaterial, validDays = 730): Promise<SigningIdentity & { privateKeyPem: string }> {
  const kp = await generateKeyPair();
  const certificate = issueSigningCertificate(ca, {
    name: NAME, nip: NIP, email: 'siti@contoh.go.id', organization: 'Pemerintah Kota Contoh', unit: 'Dinas Komunikasi dan Informatika',
    validDays, publicKeyPem: kp.publicKeyPem, crlUrl: CRL_URL,
  });
  return { privateKey: crypto.createPrivateKey(kp.privateKeyPem), privateKeyPem: kp.privateKeyPem, certificate, chain: [ca.certPem] };
}

/** A minimal, well-formed incremental update: one new object, its xref section, a trailer with /Prev. */
function appendIncrementalUpdate(pdf: Buffer): Buffer {
  const text = pdf.toString('latin1');
  const prev = Number([...text.matchAll(/startxref\s+(\d+)/g)].at(-1)![1]);
  const size = Number([...text.matchAll(/\/Size (\d+)/g)].at(-1)![1]);
  const root = /\/Root (\d+ \d+ R)/.exec(text)![1];
  const objOffset = pdf.length + 1;
  const obj = `\n${size} 0 obj\n<< /Note (ditambahkan setelah ditandatangani) >>\nendobj\n`;
  const xrefOffset = pdf.length + obj.length;
  const tail = `xref\n0 1\n0000000000 65535 f \n${size} 1\n${String(objOffset).padStart(10, '0')} 00000 n \ntrailer\n<< /Size ${size + 1} /Root ${root} /Prev ${prev} >>\nstartxref\n${xrefOffset}\n%%EOF\n`;
  return Buffer.concat([pdf, Buffer.from(obj + tail, 'latin1')]);
}

/** A file whose ByteRange is well-formed around `<hex>`: only the CMS can be wrong. */
function fakeSignature(hex: string): Buffer {
  const n = (x: number) => String(x).padStart(10, '0');
  const head = `%PDF-1.7\n1 0 obj\n<< /Type /Sig /ByteRange [0 ${n(0)} ${n(0)} ${n(0)}] /Contents `;
  const tail = ' >>\nendobj\n%%EOF\n';
  const c = head.length + hex.length + 2;
  const real = head.replace(`[0 ${n(0)} ${n(0)} ${n(0)}]`, `[0 ${n(head.length)} ${n(c)} ${n(tail.length)}]`);
  return Buffer.from(`${real}<${hex}>${tail}`, 'latin1');
}

describe('signing: CA, PKCS#12, PAdES, verification, CRL', function () {
  this.timeout(60000);
  let dir: string;
  let ca: CaMaterial;
  let signer: Awaited<ReturnType<typeof signerFor>>;
  let unsigned: Uint8Array;
  let signed: Buffer;
  let nss: NssTrust;
  const signingTime = new Date(Date.now() - 60_000);

  before(async function () {
    requireTools(this, 'pdfsig', 'qpdf', 'openssl', 'certutil');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-pades-'));
    ca = await createCa({ commonName: 'TNDE Root CA Uji', organization: 'Pemerintah Kota Contoh', validYears: 10 });
    fs.writeFileSync(path.join(dir, 'ca.pem'), ca.certPem);
    signer = await signerFor(ca);
    unsigned = await onePagePdf();
    // Parentheses and non-ASCII in the dictionary strings must come out escaped (pdf-lib writes them verbatim).
    signed = await signPdf(unsigned, signer, { reason: 'Naskah dinas ditandatangani secara elektronik', location: 'Kota Contoh (Jawa Barat)', name: `${NAME} — Kepala Dinas`, contactInfo: 'siti@contoh.go.id', signingTime });
    fs.writeFileSync(path.join(dir, 'signed.pdf'), signed);
    nss = nssTrustDb([ca.certPem]);
  });

  after(() => {
    nss?.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const write = (name: string, bytes: Uint8Array) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  };
  const verify = (bytes: Uint8Array, anchors = [ca.certPem]) => verifyPdf(bytes, { trustAnchors: anchors });

  describe('certificates', () => {
    it('issues a signer certificate that openssl chains to the CA, with the NIP, key usages and CRL URL', () => {
      const userPem = write('user.pem', Buffer.from(signer.certificate));
      expect(execFileSync('openssl', ['verify', '-CAfile', path.join(dir, 'ca.pem'), userPem]).toString()).to.contain(': OK');
      const text = execFileSync('openssl', ['x509', '-in', userPem, '-noout', '-text']).toString();
      expect(text).to.match(/Key Usage: critical\s+Digital Signature, Non Repudiation/);
      expect(text).to.contain('E-mail Protection, 1.3.6.1.4.1.311.10.3.12');
      expect(text).to.contain(`URI:${CRL_URL}`);
      expect(text).to.contain('Authority Key Identifier');
      const info = certificateInfo(signer.certificate);
      expect(info).to.include({ subjectName: NAME, nip: NIP, organization: 'Pemerintah Kota Contoh' });
      expect(info.serialHex).to.match(/^[4-7][0-9a-f]{31}$/);
      const caText = execFileSync('openssl', ['x509', '-in', path.join(dir, 'ca.pem'), '-noout', '-text']).toString();
      expect(caText).to.match(/Basic Constraints: critical\s+CA:TRUE/);
      expect(caText).to.match(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    });

    it('keeps the CA key encrypted at rest and refuses a wrong passphrase', () => {
      const encrypted = encryptPrivateKey(ca.keyPem, 'frasa-sandi-operator-yang-panjang');
      expect(encrypted).to.contain('BEGIN ENCRYPTED PRIVATE KEY');
      expect(decryptPrivateKey(encrypted, 'frasa-sandi-operator-yang-panjang')).to.equal(ca.keyPem);
      expect(() => decryptPrivateKey(encrypted, 'salah')).to.throw(WrongPassphraseError);
    });
  });

  describe('PKCS#12', () => {
    it('round-trips key and chain, and openssl opens our file', () => {
      const p12 = toPkcs12({ keyPem: signer.privateKeyPem, certPem: signer.certificate, chainPems: [ca.certPem], passphrase: 'rahasia-123', friendlyName: NAME });
      const back = fromPkcs12(p12, 'rahasia-123');
      expect(certificateInfo(back.certPem).sha256).to.equal(certificateInfo(signer.certificate).sha256);
      expect(back.chainPems.map((p) => certificateInfo(p).sha256)).to.deep.equal([certificateInfo(ca.certPem).sha256]);
      expect(crypto.createPrivateKey(back.keyPem).equals(signer.privateKey)).to.equal(true);
      const out = execFileSync('openssl', ['pkcs12', '-in', write('ours.p12', p12), '-passin', 'pass:rahasia-123', '-nodes'], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
      expect(out).to.contain('BEGIN PRIVATE KEY').and.to.contain(`friendlyName: ${NAME}`);
    });

    it('throws WrongPassphraseError on a wrong passphrase', () => {
      const p12 = toPkcs12({ keyPem: signer.privateKeyPem, certPem: signer.certificate, chainPems: [], passphrase: 'rahasia-123', friendlyName: 'x' });
      expect(() => fromPkcs12(p12, 'rahasia-124')).to.throw(WrongPassphraseError);
    });

    it('reads files made by `openssl pkcs12 -export`, current and legacy (3DES) defaults', () => {
      const key = write('user.key', Buffer.from(signer.privateKeyPem));
      const cert = write('user.pem', Buffer.from(signer.certificate));
      const ca1 = path.join(dir, 'ca.pem');
      for (const extra of [[], ['-legacy', '-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1']]) {
        const out = path.join(dir, 'openssl.p12');
        const r = spawnSync('openssl', ['pkcs12', '-export', ...extra, '-inkey', key, '-in', cert, '-certfile', ca1, '-out', out, '-passout', 'pass:sandi OpenSSL']);
        if (r.status !== 0) throw new Error(`openssl pkcs12 -export ${extra.join(' ')}: ${r.stderr}`);
        const read = fromPkcs12(fs.readFileSync(out), 'sandi OpenSSL');
        expect(certificateInfo(read.certPem).nip).to.equal(NIP);
        expect(read.chainPems).to.have.length(1);
        expect(() => fromPkcs12(fs.readFileSync(out), 'salah')).to.throw(WrongPassphraseError);
      }
    });
  });

  describe('a signed letter', () => {
    it('is valid for pdfsig, covering the whole document', () => {
      const report = nss.pdfsig(path.join(dir, 'signed.pdf'));
      expect(report).to.contain('Signature is Valid.');
      expect(report).to.contain('Total document signed');
      expect(report).to.contain('Certificate is Trusted.');
      expect(report).to.contain('ETSI.CAdES.detached');
    });

    it('carries a CMS that openssl cms -verify accepts over the ByteRange bytes', () => {
      const { cms, signed: bytes } = signatureParts(signed);
      const r = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', write('sig.der', cms), '-content', write('signedbytes.bin', bytes), '-CAfile', path.join(dir, 'ca.pem'), '-purpose', 'any', '-out', '/dev/null']);
      expect(r.stderr.toString()).to.contain('Verification successful');
      expect(r.status).to.equal(0);
      // PAdES: signing-certificate-v2 present, signing-time absent (the time is /M).
      const attrs = execFileSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', path.join(dir, 'sig.der')]).toString();
      expect(attrs).to.contain('id-smime-aa-signingCertificateV2');
      expect(attrs).not.to.contain('signingTime');
    });

    it('passes qpdf --check', () => {
      const r = spawnSync('qpdf', ['--check', path.join(dir, 'signed.pdf')], { encoding: 'utf8' });
      expect(r.stdout).to.contain('No syntax or stream encoding errors found');
      expect(r.status).to.equal(0);
    });

    it('is valid for verifyPdf, naming the signer, NIP and signing time', async () => {
      const result = await verify(signed);
      expect(result.reasons).to.deep.equal([]);
      expect(result.valid).to.equal(true);
      expect(result.sha256).to.equal(crypto.createHash('sha256').update(signed).digest('hex'));
      expect(result.signatures).to.have.length(1);
      const [s] = result.signatures;
      expect(s).to.include({ signerName: NAME, signerSerialNumber: NIP, coversWholeDocument: true, certificateSerial: certificateInfo(signer.certificate).serialHex });
      expect(s.issuer).to.equal('CN=TNDE Root CA Uji,O=Pemerintah Kota Contoh,C=ID');
      expect(s.signingTime!.getTime()).to.equal(Math.floor(signingTime.getTime() / 1000) * 1000);
    });

    it('refuses to sign a PDF that is already signed (re-saving would break the first signature)', async () => {
      let error: unknown;
      await signPdf(signed, signer).catch((e) => (error = e));
      expect(String(error)).to.contain('already signed');
    });
  });

  describe('tampering and bad input', () => {
    it('one byte changed inside the signed range: digest_mismatch, and pdfsig no longer says valid', async () => {
      const tampered = Buffer.from(signed);
      // The page width 595.28 -> 595.38: still a well-formed PDF, just not the one signed.
      const at = tampered.indexOf('595.28') + 4;
      expect(at).to.be.greaterThan(4);
      tampered[at] = '3'.charCodeAt(0);
      const result = await verify(tampered);
      expect(result.valid).to.equal(false);
      expect(result.reasons).to.include('digest_mismatch');
      expect(nss.pdfsig(write('tampered.pdf', tampered))).not.to.contain('Signature is Valid.');
    });

    it('an incremental update appended after signing: content_after_signature (pdfsig still calls it valid)', async () => {
      const appended = appendIncrementalUpdate(signed);
      const file = write('appended.pdf', appended);
      expect(spawnSync('qpdf', ['--check', file], { encoding: 'utf8' }).stdout).to.contain('No syntax or stream encoding errors found');
      const report = nss.pdfsig(file);
      expect(report).to.contain('Not total document signed');
      const result = await verify(appended);
      expect(result.valid).to.equal(false);
      expect(result.reasons).to.deep.equal(['content_after_signature']);
      expect(result.signatures[0].coversWholeDocument).to.equal(false);
    });

    it('a changed signature value: signature_invalid', async () => {
      const tampered = Buffer.from(signed);
      const { cms } = signatureParts(signed);
      const contentsStart = Number(/\/ByteRange \[0 (\d+)/.exec(signed.toString('latin1'))![1]) + 1;
      const inSignature = contentsStart + cms.length * 2 - 10; // the RSA signature is the last field of the CMS
      tampered[inSignature] = tampered[inSignature] === 0x30 ? 0x31 : 0x30;
      const result = await verify(tampered);
      expect(result.reasons).to.deep.equal(['signature_invalid']);
    });

    it('a certificate from another CA: untrusted_chain', async () => {
      const other = await createCa({ commonName: 'CA Lain', organization: 'Bukan Kita', validYears: 1 });
      const stranger = await signerFor(other);
      const result = await verify(await signPdf(unsigned, stranger));
      expect(result.valid).to.equal(false);
      expect(result.reasons).to.deep.equal(['untrusted_chain']);
      expect(result.signatures[0].signerName).to.equal(NAME);
    });

    it('a certificate outside its validity at the signing time: certificate_expired', async () => {
      const shortLived = await signerFor(ca, 1);
      const result = await verify(await signPdf(unsigned, shortLived, { signingTime: new Date(Date.now() + 3 * 86_400_000) }));
      expect(result.reasons).to.deep.equal(['certificate_expired']);
    });

    it('a revoked certificate: certificate_revoked, asked with the serial, issuer and signing time', async () => {
      const asked: [string, string, Date][] = [];
      const result = await verifyPdf(signed, {
        trustAnchors: [ca.certPem],
        isRevoked: async (serial, issuer, at) => {
          asked.push([serial, issuer, at]);
          return { revoked: true, reason: 'keyCompromise', revokedAt: new Date() };
        },
      });
      expect(result.reasons).to.deep.equal(['certificate_revoked']);
      expect(asked).to.have.length(1);
      expect(asked[0][0]).to.equal(certificateInfo(signer.certificate).serialHex);
      expect(asked[0][1]).to.equal(certificateInfo(signer.certificate).issuerDn);
      const notRevoked = await verifyPdf(signed, { trustAnchors: [ca.certPem], isRevoked: async () => ({ revoked: false }) });
      expect(notRevoked.valid).to.equal(true);
    });

    it('garbage, truncated, unsigned and empty files: valid:false with a reason, never a throw', async () => {
      const cases: [Uint8Array, string][] = [
        [crypto.randomBytes(4096), 'no_signature'],
        [new Uint8Array(0), 'no_signature'],
        [unsigned, 'no_signature'],
        [signed.subarray(0, Math.floor(signed.length / 2)), 'byte_range_invalid'],
        [Buffer.from('%PDF-1.7\n/ByteRange [0 10 20 5] /Contents <3082ffff>\n%%EOF'), 'not_whole_document'],
        [fakeSignature('3082ffff0000'), 'cms_invalid'],
        [fakeSignature(''), 'cms_invalid'],
      ];
      for (const [bytes, reason] of cases) {
        const result = await verify(bytes);
        expect(result.valid, reason).to.equal(false);
        expect(result.reasons, reason).to.include(reason);
      }
    });
  });

  describe('CRL', () => {
    it('builds a v2 CRL with reason codes that openssl parses and verifies against the CA', () => {
      const serial = certificateInfo(signer.certificate).serialHex;
      const der = buildCrl(ca, [
        { serialHex: serial, revokedAt: new Date('2026-03-01T02:00:00Z'), reason: 'keyCompromise' },
        { serialHex: 'c0ffee', revokedAt: new Date('2026-03-02T02:00:00Z'), reason: 'unspecified' },
      ], { thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 7 * 86_400_000) });
      const r = spawnSync('openssl', ['crl', '-inform', 'DER', '-in', write('ca.crl', der), '-noout', '-text', '-CAfile', path.join(dir, 'ca.pem')], { encoding: 'utf8' });
      expect(r.status).to.equal(0);
      expect(r.stderr).to.contain('verify OK');
      expect(r.stdout).to.contain('Version 2').and.to.contain('CRL Number').and.to.contain('Authority Key Identifier');
      expect(r.stdout).to.contain(`Serial Number: ${serial.toUpperCase()}`).and.to.contain('Key Compromise');
      expect(r.stdout).to.contain('Serial Number: C0FFEE');
    });
  });
});
