// bench/sign: signPdf on a one-page letter, as a ratio to OpenSSL's own RSA-2048
// signing rate measured in the same run (`openssl speed -seconds 3 rsa2048`), plus
// the per-signature median/p95 and, for context, verifyPdf and opening a PKCS#12.
// `npx tsx bench/sign.ts` (SECONDS=N changes the loop length).
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { createCa, issueSigningCertificate, generateKeyPair } from '../server/modules/signing/ca.js';
import { signPdf, type SigningIdentity } from '../server/modules/signing/pades.js';
import { verifyPdf } from '../server/modules/signing/verify.js';
import { toPkcs12, fromPkcs12 } from '../server/modules/signing/pkcs12.js';
import { quantile } from './support.js';

const SECONDS = Number(process.env.SECONDS ?? 3);

const ca = await createCa({ commonName: 'Bench Root CA', organization: 'Pemerintah Kota Contoh', validYears: 1 });
const kp = await generateKeyPair();
const certificate = issueSigningCertificate(ca, {
  name: 'Penandatangan Uji', nip: '197001011990032001', organization: 'Pemerintah Kota Contoh', validDays: 30, publicKeyPem: kp.publicKeyPem, crlUrl: 'http://localhost/pki/crl',
});
const signer: SigningIdentity = { privateKey: crypto.createPrivateKey(kp.privateKeyPem), certificate, chain: [ca.certPem] };
const doc = await PDFDocument.create();
doc.addPage([595.28, 841.89]).drawText('SURAT DINAS - bench', { x: 85, y: 760, size: 11, font: await doc.embedFont(StandardFonts.Helvetica) });
const pdf = await doc.save({ useObjectStreams: false });

/** Runs fn for about `seconds`; returns sorted per-call milliseconds and calls per second. */
async function loop(seconds: number, fn: () => Promise<unknown>): Promise<{ ms: number[]; perSecond: number }> {
  for (let i = 0; i < 50; i++) await fn(); // warm-up: JIT and the per-signer cache
  const ms: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return { ms: ms.sort((a, b) => a - b), perSecond: ms.length / ((performance.now() - t0) / 1000) };
}

const sign = await loop(SECONDS, () => signPdf(pdf, signer, { reason: 'Bench', location: 'Kota Contoh', name: 'Penandatangan Uji' }));
const signed = await signPdf(pdf, signer);
const verify = await loop(1, () => verifyPdf(signed, { trustAnchors: [ca.certPem] }));
const rawSign = await loop(1, async () => crypto.sign('sha256', Buffer.alloc(200), signer.privateKey));
const p12 = toPkcs12({ keyPem: kp.privateKeyPem, certPem: certificate, chainPems: [ca.certPem], passphrase: 'bench-passphrase', friendlyName: 'bench' });
const p12Open: number[] = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  fromPkcs12(p12, 'bench-passphrase');
  p12Open.push(performance.now() - t);
}
p12Open.sort((a, b) => a - b);

const speed = spawnSync('openssl', ['speed', '-seconds', String(SECONDS), 'rsa2048'], { encoding: 'utf8' });
const opensslSigns = Number(/rsa\s+2048 bits\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)/.exec(speed.stdout)?.[1] ?? NaN);
if (!Number.isFinite(opensslSigns)) throw new Error(`could not read openssl speed output:\n${speed.stdout}${speed.stderr}`);

const row = (name: string, r: { ms: number[]; perSecond: number }, ratio?: number) => ({
  name,
  per_second: r.perSecond.toFixed(0),
  median_ms: quantile(r.ms, 0.5).toFixed(3),
  p95_ms: quantile(r.ms, 0.95).toFixed(3),
  vs_openssl_rsa2048: ratio === undefined ? '' : `${(ratio * 100).toFixed(1)}%`,
});
console.log(`bench/sign: one-page PDF (${pdf.length} bytes unsigned, ${signed.length} signed), ${sign.ms.length} signatures in ${SECONDS} s`);
console.table([
  row('signPdf (placeholder + CMS + RSA)', sign, sign.perSecond / opensslSigns),
  row('node:crypto RSA-2048 sign only', rawSign, rawSign.perSecond / opensslSigns),
  row('verifyPdf', verify),
  { name: 'openssl speed rsa2048 (sign)', per_second: opensslSigns.toFixed(0), median_ms: (1000 / opensslSigns).toFixed(3), p95_ms: '', vs_openssl_rsa2048: '100%' },
  { name: 'fromPkcs12 (100,000 iterations)', per_second: '', median_ms: quantile(p12Open, 0.5).toFixed(1), p95_ms: p12Open.at(-1)!.toFixed(1), vs_openssl_rsa2048: '' },
]);
