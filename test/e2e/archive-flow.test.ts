// Issue #6's "done when", in the browser: arsiparis finds a signed letter by a
// word of its body and by its number, files it into a new berkas, downloads the
// archival package and it verifies offline with the documented command; a staff
// member without access cannot find a Rahasia letter by search, by URL or by API.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import supertest from 'supertest';
import { unzipSync, zipSync } from 'fflate';
import { useBrowserApp } from '../support/browser.js';
import { DEMO_PASSWORD } from '../support/harness.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
// Words that occur in no other letter: the search finds them here or nowhere.
const BODY_WORD = 'revitalisasi';
const SECRET_WORD = 'kriptografis';

describe('in the browser: the archivist finds, files and exports a record; a Rahasia letter stays hidden', function () {
  this.timeout(240_000);
  const app = useBrowserApp();
  let dir: string;
  let letterId: string;
  let number: string;
  let secretId: string;

  /** Drafted by konseptor, reviewed by both reviewers and signed by penandatangan, all over the API. */
  async function signedLetter(subject: string, body: string, securityClass: string): Promise<{ id: string; number: string }> {
    const { env } = app();
    const api = async (who: string, url: string, payload: object) => {
      const res = await supertest(env.app).post(url).set('Authorization', `Bearer ${await env.tokenFor(who)}`).send(payload);
      expect(res.status, `${who} ${url}: ${JSON.stringify(res.body)}`).to.be.oneOf([200, 201]);
      return res.body;
    };
    const { id } = await api('konseptor', '/api/v1/letters', {
      kind: 'SD', subject, urgency: 'biasa', securityClass, classificationCode: '000.1.5', signer: 'penandatangan', to: [{ unit: 'DISDIK' }], body,
    });
    await api('konseptor', `/api/v1/letters/${id}/submit`, {});
    await api('pemeriksa1', `/api/v1/letters/${id}/approve`, { version: 1 });
    await api('pemeriksa2', `/api/v1/letters/${id}/approve`, { version: 1 });
    const signed = await api('penandatangan', `/api/v1/letters/${id}/sign`, { passphrase: DEMO_PASSWORD });
    expect(signed.number).to.be.a('string');
    return { id, number: signed.number };
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-e2e-archive-'));
    ({ id: letterId, number } = await signedLetter(
      'Rencana Revitalisasi Ruang Server Dinas',
      `<p>Dengan hormat, bersama ini kami sampaikan rencana ${BODY_WORD} ruang server yang akan dilaksanakan pada triwulan pertama.</p>`,
      'biasa',
    ));
    ({ id: secretId } = await signedLetter(
      'Kunci Induk Layanan Persandian',
      `<p>Dengan hormat, kunci induk ${SECRET_WORD} layanan persandian diganti pada akhir bulan ini.</p>`,
      'rahasia',
    ));
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('arsiparis finds the signed letter by a word of its body and by its number', async () => {
    const page = await app().signIn('arsiparis');
    await page.goto('/arsip/cari');
    await page.getByRole('searchbox', { name: 'Kata atau nomor surat' }).fill(BODY_WORD);
    await Promise.all([page.waitForURL((u) => u.pathname === '/arsip/cari' && u.searchParams.get('q') === BODY_WORD), page.getByRole('button', { name: 'Cari' }).click()]);
    const results = page.locator('.search-result');
    expect(await results.count()).to.equal(1);
    expect(await results.first().locator('.result-title').innerText()).to.equal('Rencana Revitalisasi Ruang Server Dinas');
    expect(await results.first().locator('mark').allInnerTexts()).to.include(BODY_WORD);
    expect(await results.first().innerText()).to.contain(number);

    await page.getByRole('searchbox', { name: 'Kata atau nomor surat' }).fill(number);
    await Promise.all([page.waitForURL((u) => u.searchParams.get('q') === number), page.getByRole('button', { name: 'Cari' }).click()]);
    expect(await results.count()).to.equal(1);
    await Promise.all([page.waitForURL((u) => u.pathname === `/surat/${letterId}`), results.first().locator('.result-title a').click()]);
    expect(await page.locator('h1').first().innerText()).to.contain('Rencana Revitalisasi Ruang Server Dinas');
  });

  it('arsiparis files it into a new berkas, exports the package, and the package verifies offline', async () => {
    const page = await app().signIn('arsiparis');
    await page.goto('/arsip/berkas');
    await page.getByLabel('Nomor berkas').fill('B-2026/001');
    await page.getByLabel('Judul berkas').fill('Pengelolaan Ruang Server 2026');
    await page.getByLabel('Kode klasifikasi').fill('000.1.5');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Buat berkas' }).click()]);

    await page.goto(`/surat/${letterId}`);
    const panel = page.locator('.record-panel');
    await panel.locator('select[name="fileId"]').selectOption({ label: 'B-2026/001 — Pengelolaan Ruang Server 2026' });
    await Promise.all([page.waitForNavigation(), panel.getByRole('button', { name: 'Masukkan ke berkas' }).click()]);
    expect(await page.locator('.record-panel').innerText()).to.contain('B-2026/001');

    await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/arsip/berkas/')), page.locator('.record-panel').getByRole('link', { name: 'B-2026/001' }).click()]);
    expect(await page.locator('main').innerText()).to.contain(number);
    const berkasPackage = await page.request.get((await page.getByRole('link', { name: 'Unduh paket arsip' }).getAttribute('href'))!);
    expect(berkasPackage.status()).to.equal(200);
    expect(berkasPackage.headers()['content-type']).to.equal('application/zip');

    await page.goto(`/surat/${letterId}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Unduh paket arsip' }).click()]);
    const file = path.join(dir, 'paket.zip');
    await download.saveAs(file);

    // Offline: no database, no S3, an empty data directory; only the file.
    const empty = fs.mkdtempSync(path.join(dir, 'offline-'));
    const env = { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), DATA_DIR: empty, CERTS_DIR: path.join(empty, 'certs'), LOG_LEVEL: 'silent' };
    const ok = await run('npx', ['tsx', 'server/cli/index.ts', 'package', 'verify', '--file', file], { cwd: root, env });
    expect(ok.stdout).to.contain(number);
    expect(ok.stdout).to.match(/VALID|valid/);

    // The same package with one byte of the signed PDF changed (the manifest left as it was) is refused.
    const entries = unzipSync(fs.readFileSync(file));
    const pdfName = Object.keys(entries).find((n) => /\/data\/[^/]+\.pdf$/.test(n))!;
    expect(pdfName, Object.keys(entries).join(', ')).to.be.a('string');
    entries[pdfName][Math.floor(entries[pdfName].length / 2)] ^= 0x01;
    const bad = path.join(dir, 'paket-diubah.zip');
    fs.writeFileSync(bad, zipSync(entries));
    const refused = await run('npx', ['tsx', 'server/cli/index.ts', 'package', 'verify', '--file', bad], { cwd: root, env }).then(
      () => null,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(refused, 'a changed package must not verify').to.not.equal(null);
    expect(refused!.code).to.equal(1);
    expect(refused!.stdout + refused!.stderr).to.contain(path.basename(pdfName));
  });

  it('staf1 (same unit, not involved) cannot find the Rahasia letter by search, by URL or by API; its signer can', async () => {
    const page = await app().signIn('staf1');
    await page.goto(`/arsip/cari?q=${SECRET_WORD}`);
    expect(await page.locator('.search-result').count()).to.equal(0);
    expect(await page.locator('main').innerText()).to.not.contain('Kunci Induk');

    const byUrl = await page.goto(`/surat/${secretId}`);
    expect(byUrl!.status()).to.equal(404);
    expect(await page.locator('main').innerText()).to.not.contain('Kunci Induk');
    expect((await page.goto(`/surat/${secretId}/pdf`))!.status()).to.equal(404);
    expect((await page.goto(`/surat/${secretId}/paket`))!.status()).to.equal(404);

    const { env } = app();
    const token = await env.tokenFor('staf1');
    const search = await supertest(env.app).get('/api/v1/search').query({ q: SECRET_WORD }).set('Authorization', `Bearer ${token}`);
    expect(search.status).to.equal(200);
    expect(search.body.total).to.equal(0);
    const get = await supertest(env.app).get(`/api/v1/letters/${secretId}`).set('Authorization', `Bearer ${token}`);
    expect(get.status).to.equal(404);
    expect(JSON.stringify(get.body)).to.not.contain('Kunci Induk');

    // The signer finds it, and that read of a Rahasia record is in the audit trail.
    const signer = await env.tokenFor('penandatangan');
    const found = await supertest(env.app).get('/api/v1/search').query({ q: SECRET_WORD }).set('Authorization', `Bearer ${signer}`);
    expect(found.body.total).to.equal(1);
    expect((await supertest(env.app).get(`/api/v1/letters/${secretId}`).set('Authorization', `Bearer ${signer}`)).status).to.equal(200);
    const reads = await env.ctx.db.selectFrom('audit_log').select(['action', 'object_id']).where('action', '=', 'letter.read_restricted').execute();
    expect(reads.map((r) => String(r.object_id))).to.include(String(secretId));
  });
});
