// bench/sign: signPdf on a one-page letter, as a ratio to OpenSSL's own RSA-2048
// signing rate measured in the same run (`openssl speed -seconds 3 rsa2048`), plus
// the per-signature median/p95 and, for context, verifyPdf and opening a PKCS#12.
// Then the whole sign step through signLetter (number, render, PAdES, storage,
// registry, audit) on approved letters: latency median/p95 and the share of it
// spent holding the series' counter row; and signLetters (one unlock per batch).
// `npm run bench:sign` (SECONDS=N changes the loop length, LETTERS=N the letters
// signed; PGlite, or a real PostgreSQL with TEST_DATABASE_URL set).
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { createCa, issueSigningCertificate, generateKeyPair } from '../server/modules/signing/ca.js';
import { signPdf, type SigningIdentity } from '../server/modules/signing/pades.js';
import { verifyPdf } from '../server/modules/signing/verify.js';
import { toPkcs12, fromPkcs12 } from '../server/modules/signing/pkcs12.js';
import { quantile, timedLoop } from './support.js';
import { startTestEnv, DEMO_PASSWORD } from '../test/support/harness.js';
import { loadCurrentUser, type CurrentUser } from '../server/platform/auth/current-user.js';
import * as letters from '../server/modules/letters/service.js';
import { signLetter, signLetters } from '../server/modules/letters/sign.js';

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

// Warm-up of 50 calls: JIT and the per-signer cache.
const loop = (seconds: number, fn: () => Promise<unknown>) => timedLoop(seconds, fn, 50);

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

// ---------- the whole sign step ----------

const LETTERS = Number(process.env.LETTERS ?? 100);
const env = await startTestEnv();
const user = async (username: string): Promise<CurrentUser> => {
  const u = await env.ctx.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirstOrThrow();
  return (await loadCurrentUser(env.ctx.db, String(u.id), 'session', '127.0.0.1'))!;
};
const [drafter, reviewer1, reviewer2, signerUser] = await Promise.all(['konseptor', 'pemeriksa1', 'pemeriksa2', 'penandatangan'].map(user));
const body = Array.from({ length: 4 }, (_, i) => `<p>Paragraf ${i + 1}: dengan hormat, bersama ini kami sampaikan undangan rapat koordinasi penyelenggaraan SPBE di lingkungan pemerintah daerah.</p>`).join('');
/** Approved letters through the real chain: draft, submit, two paraf. */
async function approvedLetters(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = await letters.createDraft(env.ctx, drafter, {
      kind: 'SD', subject: `Undangan rapat koordinasi ${i + 1}`, urgency: 'biasa', securityClass: 'biasa', classificationCode: '000.1.5',
      to: [{ unit: 'DISDIK' }], cc: [{ user: 'pemeriksa2' }], signer: 'penandatangan', body,
    });
    await letters.submitForReview(env.ctx, drafter, id);
    await letters.approve(env.ctx, reviewer1, id, { version: 1 });
    await letters.approve(env.ctx, reviewer2, id, { version: 1 });
    ids.push(id);
  }
  return ids;
}

const single = await approvedLetters(LETTERS + 5);
const total: number[] = [];
const locked: number[] = [];
for (const [i, id] of single.entries()) {
  const out = await signLetter(env.ctx, signerUser, id, { passphrase: DEMO_PASSWORD });
  if (i < 5) continue; // warm-up: fonts, certificate cache, plans
  total.push(out.timings.totalMs);
  locked.push(out.timings.lockedMs);
}
const batch = await approvedLetters(LETTERS);
const t0 = performance.now();
const results = await signLetters(env.ctx, signerUser, { ids: batch, passphrase: DEMO_PASSWORD }, () => {});
const batchMs = performance.now() - t0;
if (results.some((r) => !r.ok)) throw new Error('bulk signing refused a letter');
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
total.sort((a, b) => a - b);
locked.sort((a, b) => a - b);

console.log(`\nthe sign step on ${process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'PGlite'}, ${LETTERS} letters one after another (each: unlock PKCS#12, number, render, sign, store, register, audit)`);
console.table([
  { name: 'signLetter end to end', median_ms: quantile(total, 0.5).toFixed(1), p95_ms: quantile(total, 0.95).toFixed(1), per_second: (1000 / (sum(total) / total.length)).toFixed(1) },
  { name: '  of which the counter row is locked', median_ms: quantile(locked, 0.5).toFixed(1), p95_ms: quantile(locked, 0.95).toFixed(1), per_second: '', share: `${((sum(locked) / sum(total)) * 100).toFixed(1)}%` },
  { name: `signLetters, ${LETTERS} in one batch (one unlock)`, median_ms: (batchMs / LETTERS).toFixed(1), p95_ms: '', per_second: ((LETTERS * 1000) / batchMs).toFixed(1) },
]);
await env.close();
process.exit(0);
