// Issue #4's "done when", in the browser: penandatangan signs an approved letter
// (a wrong passphrase first, which changes nothing); its number follows the
// series format; the PDF downloaded through the page verifies with pdfsig; the
// verification link printed on the letter page, opened by anyone, says VALID;
// a copy with one byte changed, uploaded at /verify, is TIDAK VALID and says why.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import supertest from 'supertest';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { useBrowserApp } from '../support/browser.js';
import { DEMO_PASSWORD } from '../support/harness.js';
import { requireTools, nssTrustDb, type NssTrust } from '../support/nss.js';
import { signatureParts } from '../support/pdf-signature.js';

// Links printed for the public (the QR target) point here; the browser is routed from it to the test server.
const PUBLIC_URL = 'http://tnde.pemprov.test';
const SUBJECT = 'Pemberitahuan Jadwal Pemeliharaan Jaringan Intra Pemerintah';

/** What a reader of the PDF sees, through poppler, on one line. */
function pdfText(bytes: Buffer): string {
  return execFileSync('pdftotext', ['-', '-'], { input: bytes, encoding: 'utf8' }).replace(/\s+/g, ' ');
}

/** The number a series' format promises for one letter, as a pattern (the tokens the DKIS series uses). */
function numberPattern(format: string, t: { kode: string; unit: string; year: number }): RegExp {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const tokens: Record<string, string> = { kode: escape(t.kode), nomor: '\\d+', unit: escape(t.unit), tahun: String(t.year) };
  const source = format.split(/(\{[a-z_]+\})/).map((part) => {
    const name = /^\{([a-z_]+)\}$/.exec(part)?.[1];
    if (name === undefined) return escape(part);
    if (!(name in tokens)) throw new Error(`numberPattern: token {${name}} not handled here`);
    return tokens[name];
  });
  return new RegExp(`^${source.join('')}$`);
}

describe('in the browser: signing a letter and verifying it', function () {
  this.timeout(180_000);
  const app = useBrowserApp({ PUBLIC_URL });
  let dir: string;
  let nss: NssTrust;
  let id: string;
  let number: string;
  let verifyHref: string;
  let signedPdf: Buffer;

  const flash = (page: Page) => page.locator('.flash').first().innerText();
  /** A fresh, signed-out context in which PUBLIC_URL reaches the test server. */
  const publicPage = async (options: BrowserContextOptions = {}) => {
    const page = await app().newPage(options);
    const host = new URL(PUBLIC_URL).host;
    // Fetched here and answered as PUBLIC_URL's own response (a changed URL would be a cross-origin redirect that the CSP refuses for the stylesheet).
    await page.context().route((u) => u.host === host, async (route) => {
      const u = new URL(route.request().url());
      await route.fulfill({ response: await route.fetch({ url: `${app().baseUrl}${u.pathname}${u.search}`, maxRedirects: 0 }) });
    });
    return page;
  };

  before(async function () {
    requireTools(this, 'pdfsig', 'certutil', 'pdftotext');
    const { env } = app();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-e2e-sign-'));
    const anchors = await env.ctx.db.selectFrom('trust_anchors').select('cert_pem').where('active', '=', true).execute();
    nss = nssTrustDb(anchors.map((a) => a.cert_pem));

    // The approval chain itself is letter-flow's subject: here it goes over the API.
    const api = async (who: string, url: string, body: object) => {
      const res = await supertest(env.app).post(url).set('Authorization', `Bearer ${await env.tokenFor(who)}`).send(body);
      expect(res.status, `${who} ${url}: ${JSON.stringify(res.body)}`).to.be.oneOf([200, 201]);
      return res.body;
    };
    id = (await api('konseptor', '/api/v1/letters', {
      kind: 'SD', subject: SUBJECT, urgency: 'biasa', securityClass: 'biasa', classificationCode: '000.1.5', signer: 'penandatangan',
      to: [{ unit: 'DISDIK' }], body: '<p>Dengan hormat, jaringan intra pemerintah akan dipelihara pada hari Sabtu pukul 08.00-12.00 WIB.</p>',
    })).id;
    await api('konseptor', `/api/v1/letters/${id}/submit`, {});
    await api('pemeriksa1', `/api/v1/letters/${id}/approve`, { version: 1 });
    expect((await api('pemeriksa2', `/api/v1/letters/${id}/approve`, { version: 1 })).state).to.equal('approved');
  });

  after(() => {
    nss?.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('penandatangan reviews the preview, is refused a wrong passphrase (nothing changes), then signs: the number follows the series format', async () => {
    const { db } = app().env.ctx;
    const page = await app().signIn('penandatangan');
    const confirms: string[] = [];
    page.on('dialog', (d) => {
      confirms.push(d.message());
      void d.accept();
    });
    await page.goto(`/surat/${id}`);
    await Promise.all([page.waitForURL((u) => u.pathname === `/surat/${id}/tandatangan`), page.locator('#tindakan').getByRole('link', { name: 'Tandatangani' }).click()]);
    expect(await page.locator('h1').innerText()).to.equal('Tanda Tangan Elektronik');
    expect(await page.locator('h2').first().innerText()).to.equal(SUBJECT);

    // The rendering to be signed, in the page's frame: the letter as it will be printed, bar number, date and QR.
    const frame = page.locator('.letter-preview iframe');
    expect(await frame.isVisible()).to.equal(true);
    const preview = await page.request.get((await frame.getAttribute('src'))!);
    expect(preview.status()).to.equal(200);
    expect(preview.headers()['content-type']).to.equal('application/pdf');
    const previewText = pdfText(await preview.body());
    expect(previewText).to.contain(SUBJECT).and.contain('jaringan intra pemerintah akan dipelihara').and.not.contain('KONSEP');
    expect(await page.locator('.hint').first().innerText()).to.contain('Nomor, tanggal, kode QR, dan pernyataan tanda tangan elektronik ditambahkan saat Anda menandatangani.');

    // ---- a wrong passphrase: said at the field, the letter stays approved, no number is used
    const counters = async () => (await db.selectFrom('number_counters').select((eb) => eb.fn.coalesce(eb.fn.sum<number>('value'), eb.lit(0)).as('v')).executeTakeFirstOrThrow()).v;
    const before = Number(await counters());
    await page.getByLabel('Frasa sandi tanda tangan').fill('bukan-frasa-sandi-saya');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Tandatangani' }).click()]);
    expect(confirms, 'the browser asks before signing').to.deep.equal(['Tandatangani naskah ini? Nomor akan diberikan dan naskah tidak dapat diubah lagi.']);
    expect(new URL(page.url()).pathname).to.equal(`/surat/${id}/tandatangan`);
    expect(await flash(page)).to.equal('Frasa sandi salah.');
    expect(await page.locator('.field-error').first().innerText()).to.equal('Frasa sandi salah.');
    expect(await page.locator('.badge.state-approved').innerText()).to.equal('Menunggu Tanda Tangan');
    expect(Number(await counters()), 'no number consumed').to.equal(before);
    expect(await db.selectFrom('issued_numbers').select('id').where('letter_id', '=', id).execute()).to.deep.equal([]);
    expect((await db.selectFrom('letters').select('state').where('id', '=', id).executeTakeFirstOrThrow()).state).to.equal('approved');

    // ---- the right one
    await page.getByLabel('Frasa sandi tanda tangan').fill(DEMO_PASSWORD);
    await Promise.all([page.waitForURL((u) => u.pathname === `/surat/${id}`), page.getByRole('button', { name: 'Tandatangani' }).click()]);
    const flashed = /^Naskah ditandatangani dengan nomor (.+)\.$/.exec(await flash(page));
    expect(flashed, await flash(page)).to.not.equal(null);
    number = flashed![1];
    // Signed, and dispatched to its recipients right after when that step is wired in: either way, no longer awaiting signature.
    const state = page.locator('.letter-head .badge[class*="state-"]');
    expect(await state.getAttribute('class')).to.match(/\bstate-(signed|dispatched)\b/);
    expect(await state.innerText()).to.be.oneOf(['Ditandatangani', 'Terkirim']);
    const signature = page.locator('#tanda-tangan');
    expect(await signature.locator('dd strong').first().innerText()).to.equal(number);
    expect(await page.locator('#tindakan').count(), 'nothing left to do on a signed letter').to.equal(0);

    // The series it was issued from is DKIS's outgoing one; the number reads as its format says.
    const series = await db.selectFrom('issued_numbers as i').innerJoin('number_series as s', 's.id', 'i.series_id').innerJoin('units as u', 'u.id', 's.unit_id')
      .select(['i.number', 's.format', 's.unit_token', 'u.code as unit_code']).where('i.letter_id', '=', id).where('s.scope', '=', 'outgoing').executeTakeFirstOrThrow();
    expect(series.unit_code).to.equal('DKIS');
    expect(series.number).to.equal(number);
    const year = Number(new Intl.DateTimeFormat('en', { timeZone: 'Asia/Jakarta', year: 'numeric' }).format(new Date()));
    expect(number).to.match(numberPattern(series.format, { kode: '000.1.5', unit: series.unit_token, year }));
    expect(number).to.match(/^000\.1\.5\/\d+\/DKIS\/\d{4}$/);

    verifyHref = (await signature.getByRole('link', { name: /\/v\// }).getAttribute('href'))!;
    expect(verifyHref).to.match(new RegExp(`^${PUBLIC_URL.replace(/\./g, '\\.')}/v/[A-Za-z0-9_-]{22}$`));

    // ---- the signed PDF, through the page's download link
    const [download] = await Promise.all([page.waitForEvent('download'), signature.getByRole('link', { name: 'Unduh PDF bertanda tangan' }).click()]);
    expect(download.suggestedFilename()).to.equal(`naskah-${number.replace(/\//g, '_')}.pdf`);
    const file = path.join(dir, 'signed.pdf');
    await download.saveAs(file);
    signedPdf = fs.readFileSync(file);
    const report = nss.pdfsig(file);
    expect(report).to.contain('Signature is Valid.');
    expect(report).to.contain('Total document signed');
    expect(report).to.contain('Dr. Bambang Wijaya');
  });

  it('the verification link on the letter page, opened without signing in, says VALID and shows the number', async () => {
    const page = await publicPage();
    const res = await page.goto(verifyHref);
    expect(res?.status()).to.equal(200);
    expect(new URL(page.url()).pathname).to.equal(new URL(verifyHref).pathname);
    expect(await page.locator('h1').innerText()).to.equal('Verifikasi Dokumen Elektronik');
    expect(await page.locator('[data-verdict]').innerText()).to.equal('VALID');
    expect(await page.locator('.verdict').innerText()).to.contain('Tanda tangan elektronik sah dan dokumen tidak berubah sejak ditandatangani.');
    const facts = page.locator('section', { hasText: 'Naskah dinas terdaftar' }).locator('dl.facts');
    expect(await facts.locator('dt:has-text("Nomor") + dd').innerText()).to.equal(number);
    expect(await facts.locator('dt:has-text("Penanda tangan") + dd').innerText()).to.equal('Dr. Bambang Wijaya, S.Sos., M.Si.');
    expect(await page.getByRole('button', { name: /Keluar/ }).count(), 'nobody is signed in').to.equal(0);
  });

  it('a copy with one byte changed inside the signed range, uploaded at /verify, is TIDAK VALID because the content changed', async () => {
    const { byteRange: [start, length] } = signatureParts(signedPdf);
    const tampered = Buffer.from(signedPdf);
    const at = start + Math.floor(length / 2);
    tampered[at] ^= 0x01;
    const tamperedFile = path.join(dir, 'tampered.pdf');
    fs.writeFileSync(tamperedFile, tampered);
    expect(nss.pdfsig(tamperedFile), 'pdfsig refuses it too').to.not.contain('Signature is Valid.');

    const page = await publicPage();
    await page.goto('/verify');
    await page.getByLabel('Berkas PDF').setInputFiles({ name: 'surat-diubah.pdf', mimeType: 'application/pdf', buffer: tampered });
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Periksa' }).click()]);
    expect(await page.locator('[data-verdict]').innerText()).to.equal('TIDAK VALID');
    expect(await page.locator('[data-reason="digest_mismatch"]').innerText()).to.equal('Isi dokumen telah diubah setelah ditandatangani.');
    expect(await page.locator('.verdict').innerText()).to.contain('Dokumen ini tidak dapat dinyatakan asli dan utuh.');

    // The untouched file, through the same form, is VALID: the refusal is the byte's doing.
    await page.getByLabel('Berkas PDF').setInputFiles({ name: 'surat.pdf', mimeType: 'application/pdf', buffer: signedPdf });
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Periksa' }).click()]);
    expect(await page.locator('[data-verdict]').innerText()).to.equal('VALID');
  });

  it('on a phone (390x844), the verification page and a /verify result fit the screen', async () => {
    const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
    const page = await publicPage(phone);
    const fits = async (what: string) => {
      expect(await page.locator('[data-verdict]').isVisible(), what).to.equal(true);
      expect(await page.evaluate(() => document.documentElement.scrollWidth), `${what}: no sideways scrolling`).to.be.at.most(390);
    };
    await page.goto(verifyHref);
    expect(await page.getByText(number, { exact: true }).isVisible()).to.equal(true);
    await fits(verifyHref);
    await page.goto('/verify');
    await page.getByLabel('Berkas PDF').setInputFiles({ name: 'surat.pdf', mimeType: 'application/pdf', buffer: signedPdf });
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Periksa' }).click()]);
    await fits('/verify');
  });
});
