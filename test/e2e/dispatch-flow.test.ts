// Issue #5's "done when", in the browser: penandatangan signs a letter to two
// internal units, one tembusan, one external e-mail address and a peer
// installation. Each internal recipient finds it unread in Surat Masuk and opens
// it; the drafter's "Terkirim" view shows who read it and the e-mail sent; the
// SMTP server on loopback received the signed PDF; the receiving unit head sends
// a disposisi to two staff through the form, one marks it done, the tree shows
// both; and the peer installation registered it as an incoming letter whose
// signature verifies. Sending runs in the background jobs, as in production.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import supertest from 'supertest';
import type { Page } from 'playwright-core';
import { useBrowserApp } from '../support/browser.js';
import { startTestEnv, DEMO_PASSWORD, type TestEnv } from '../support/harness.js';
import { SmtpSink, parseMime } from '../support/smtp.js';
import { verificationOptions } from '../../server/modules/signing/service.js';
import { verifyPdf } from '../../server/modules/signing/verify.js';

const SUBJECT = 'Undangan Rapat Evaluasi Layanan Aplikasi Sekolah';
const EMAIL = 'sekretariat@kabupaten-contoh.go.id';
const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

/** Resolves once `probe` returns something truthy, polling (the background jobs send every few seconds). */
async function eventually<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('in the browser: a signed letter reaches its readers, is followed up by disposisi, and reaches a peer', function () {
  this.timeout(240_000);
  const smtp = new SmtpSink();
  // Filled in once the SMTP sink listens: useBrowserApp reads it in its own (later) hook.
  const config: Record<string, string> = { INSTALLATION_ID: 'prov-a', MAIL_FROM: '"TNDE Pemprov Sukamaju" <tnde@sukamaju.go.id>', PUBLIC_URL: 'http://tnde.sukamaju.test' };
  before(async () => {
    await smtp.start();
    Object.assign(config, { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port) });
  });
  const app = useBrowserApp(config, { jobs: true });

  // The peer installation: API only, its own database and installation key.
  let peer: { env: TestEnv; server: http.Server; url: string; certsDir: string } | undefined;
  let id: string;
  let number: string;
  let signedSha: string;

  const flash = (page: Page) => page.locator('.flash').first().innerText();
  const row = (page: Page) => page.locator('table.incoming tbody tr', { hasText: SUBJECT });

  before(async () => {
    const a = app();
    const certsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-e2e-peer-'));
    const env = await startTestEnv({ INSTALLATION_ID: 'prov-b', CERTS_DIR: certsDir });
    const server = http.createServer(env.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    peer = { env, server, certsDir, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };

    // Each administrator registers the other installation with the key it publishes.
    const register = async (at: TestEnv, other: { url: string }, name: string) => {
      const card = await (await fetch(`${other.url}/api/v1/exchange/key`)).json();
      const res = await supertest(at.app).post('/api/v1/peers').set('Authorization', `Bearer ${await at.tokenFor('admin')}`)
        .send({ code: card.installationId, name, url: other.url, publicKeyPem: card.publicKeyPem });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
    };
    await register(env, { url: a.baseUrl }, 'Pemerintah Provinsi A');
    await register(a.env, peer, 'Pemerintah Provinsi B');

    // Drafting and approval are letter-flow's subject: here they go over the API.
    const api = async (who: string, url: string, body: object) => {
      const res = await supertest(a.env.app).post(url).set('Authorization', `Bearer ${await a.env.tokenFor(who)}`).send(body);
      expect(res.status, `${who} ${url}: ${JSON.stringify(res.body)}`).to.be.oneOf([200, 201]);
      return res.body;
    };
    // Bidang Aplikasi Informatika (head: pemeriksa2) and Dinas Pendidikan's Seksi Kurikulum (head: staf3); tembusan to the auditor.
    id = (await api('konseptor', '/api/v1/letters', {
      kind: 'SD', subject: SUBJECT, urgency: 'segera', securityClass: 'biasa', classificationCode: '000.1.5', signer: 'penandatangan',
      to: [{ unit: 'DKIS.APTIKA' }, { unit: 'DISDIK.SMA.KUR' }, { external: { name: 'Sekretariat Daerah Kabupaten Contoh', email: EMAIL } }, { peer: 'prov-b' }],
      cc: [{ user: 'auditor' }],
      body: '<p>Dengan hormat, kami mengundang Bapak/Ibu ke rapat evaluasi layanan aplikasi sekolah.</p>',
    })).id;
    await api('konseptor', `/api/v1/letters/${id}/submit`, {});
    await api('pemeriksa1', `/api/v1/letters/${id}/approve`, { version: 1 });
    expect((await api('pemeriksa2', `/api/v1/letters/${id}/approve`, { version: 1 })).state).to.equal('approved');
  });

  after(async () => {
    if (peer) {
      peer.server.closeAllConnections();
      await new Promise<void>((resolve) => peer!.server.close(() => resolve()));
      await peer.env.close();
      fs.rmSync(peer.certsDir, { recursive: true, force: true });
    }
    await smtp.stop();
  });

  it('penandatangan signs it on the signing page; it is dispatched at once', async () => {
    const page = await app().signIn('penandatangan');
    page.on('dialog', (d) => void d.accept());
    await page.goto(`/surat/${id}/tandatangan`);
    await page.getByLabel('Frasa sandi tanda tangan').fill(DEMO_PASSWORD);
    await Promise.all([page.waitForURL((u) => u.pathname === `/surat/${id}`), page.getByRole('button', { name: 'Tandatangani' }).click()]);
    const flashed = /^Naskah ditandatangani dengan nomor (.+)\.$/.exec(await flash(page));
    expect(flashed, await flash(page)).to.not.equal(null);
    number = flashed![1];
    expect(await page.locator('.letter-head .badge.state-dispatched').innerText()).to.equal('Terkirim');
    signedSha = (await app().env.ctx.db.selectFrom('letter_signatures').select('pdf_sha256').where('letter_id', '=', id).executeTakeFirstOrThrow()).pdf_sha256;
  });

  const readers = [
    { who: 'pemeriksa2', name: 'Ir. Siti Nurhaliza, M.Si.', role: 'Yth.' },
    { who: 'staf3', name: 'Fajar Nugroho, S.Pd.', role: 'Yth.' },
    { who: 'auditor', name: 'Maria Ulfa, S.E., Ak.', role: 'Tembusan' },
  ];

  it('each internal recipient (two units, one tembusan) finds it unread in Surat Masuk, opens it and its signed PDF; then it reads as read', async () => {
    for (const { who } of readers) {
      const page = await app().signIn(who);
      await page.goto('/surat-masuk');
      expect(await row(page).getAttribute('class'), who).to.match(/\bunread\b/);
      expect(await row(page).locator('a strong').innerText(), `${who}: bold while unread`).to.equal(SUBJECT);
      expect(Number(await page.locator('[data-count="incoming"]').innerText()), who).to.be.at.least(1);
      await Promise.all([page.waitForURL(/\/surat-masuk\/\d+$/), row(page).getByRole('link', { name: SUBJECT }).click()]);
      expect(await page.locator('h1').innerText()).to.equal(SUBJECT);
      expect(await page.locator('dl.facts dd').allInnerTexts(), 'the sender\'s number').to.include(number);
      const pdf = await page.request.get(await page.getByRole('link', { name: 'Buka PDF' }).getAttribute('href') ?? '');
      expect(pdf.status(), who).to.equal(200);
      expect(sha256(await pdf.body()), `${who} receives the signed PDF`).to.equal(signedSha);
      await page.goto('/surat-masuk');
      expect(await row(page).getAttribute('class'), `${who}: read now`).to.not.match(/\bunread\b/);
      await page.context().close();
    }
  });

  it('the drafter\'s "Terkirim" view shows who read it and when, and the e-mail as sent; the SMTP server received the signed PDF', async () => {
    const page = await app().signIn('konseptor');
    await page.goto(`/surat/${id}`);
    await Promise.all([page.waitForURL((u) => u.pathname === `/surat/${id}/terkirim`), page.getByRole('link', { name: 'Terkirim', exact: true }).click()]);
    expect(await page.locator('h1').innerText()).to.equal(`Terkirim: ${SUBJECT}`);
    for (const r of readers) {
      const tr = page.locator('table.deliveries tbody tr', { hasText: r.name });
      expect(await tr.count(), r.name).to.equal(1);
      expect(await tr.locator('td').first().innerText()).to.contain(`(${r.role})`);
      expect(await tr.locator('td').last().innerText(), r.name).to.match(/^Dibaca \S.*\d/);
    }

    // The background job sends within seconds: the page says so once it has.
    const email = page.locator('table.outbound tbody tr', { hasText: EMAIL });
    await eventually('the e-mail row to say Terkirim', async () => {
      await page.reload();
      return (await email.locator('.badge').innerText()) === 'Terkirim';
    });
    expect(await email.locator('td').nth(1).innerText()).to.equal('email');

    const mails = smtp.to(EMAIL);
    expect(mails).to.have.length(1);
    const mime = parseMime(mails[0].raw);
    expect(mime.header('Subject')).to.equal(`[${number}] ${SUBJECT}`);
    const pdfs = mime.parts.filter((p) => /Content-Type: application\/pdf/i.test(p.headers));
    expect(pdfs, 'one PDF attached').to.have.length(1);
    expect(sha256(pdfs[0].bytes), 'the attachment is the signed PDF, byte for byte').to.equal(signedSha);
  });

  it('the unit head sends a disposisi to two staff through the form; one marks it done; the tree shows both, one done', async () => {
    const head = await app().signIn('pemeriksa2');
    await head.goto('/surat-masuk');
    await Promise.all([head.waitForURL(/\/surat-masuk\/\d+$/), row(head).getByRole('link', { name: SUBJECT }).click()]);
    const incomingPath = new URL(head.url()).pathname;
    const form = head.locator(`form[action="${incomingPath}/disposisi"]`);
    await form.getByLabel('Kepada').fill('staf1, staf2');
    await form.getByLabel('Tindak lanjuti').check();
    await form.getByLabel('Siapkan jawaban').check();
    await form.getByLabel('Catatan').fill('Mohon siapkan bahan evaluasi dan hadiri rapat.');
    const due = new Date(Date.now() + 7 * 86400e3).toISOString().slice(0, 10);
    await form.getByLabel('Batas waktu').fill(due);
    await Promise.all([head.waitForNavigation(), form.getByRole('button', { name: 'Kirim disposisi' }).click()]);
    expect(await flash(head)).to.equal('Disposisi dikirim.');
    const tree = head.locator('#disposisi ul.disposisi-tree > li');
    const node = (p: Page, name: string) => p.locator('#disposisi ul.disposisi-tree > li', { hasText: name });
    expect(await tree.count()).to.equal(2);
    for (const name of ['Yusuf Maulana, S.Kom.', 'Rina Marlina, S.IP.']) {
      const text = await node(head, name).innerText();
      expect(text).to.contain('Ir. Siti Nurhaliza, M.Si.').and.contain('Dalam proses').and.contain('Tindak lanjuti, Siapkan jawaban').and.contain(`Batas waktu: ${due}`);
    }

    // staf1 finds it in Surat Masuk and reports it done.
    const staff = await app().signIn('staf1');
    await staff.goto('/surat-masuk');
    await Promise.all([staff.waitForURL((u) => u.pathname === incomingPath), row(staff).getByRole('link', { name: SUBJECT }).click()]);
    const mine = node(staff, 'Yusuf Maulana, S.Kom.');
    await mine.getByLabel('Laporan penyelesaian').fill('Bahan evaluasi sudah disiapkan.');
    await Promise.all([staff.waitForNavigation(), mine.getByRole('button', { name: 'Selesaikan' }).click()]);
    expect(await flash(staff)).to.equal('Disposisi ditandai selesai.');

    await head.reload();
    expect(await tree.count()).to.equal(2);
    const done = node(head, 'Yusuf Maulana, S.Kom.');
    expect(await done.getAttribute('class')).to.match(/\bstate-done\b/);
    expect(await done.locator('.badge').first().innerText()).to.equal('Selesai');
    expect(await done.innerText()).to.contain('Laporan penyelesaian: Bahan evaluasi sudah disiapkan.');
    const open = node(head, 'Rina Marlina, S.IP.');
    expect(await open.getAttribute('class')).to.match(/\bstate-open\b/);
    expect(await open.locator('.badge').first().innerText()).to.equal('Dalam proses');
  });

  it('at the peer installation it arrives as an incoming letter whose signature verifies, in its agendaris\'s Surat Masuk; the sender sees it delivered', async () => {
    const b = peer!.env;
    const incoming = await eventually('the letter at the peer', () => b.ctx.db.selectFrom('incoming_letters').selectAll().where('source', '=', 'exchange').executeTakeFirst());
    expect(incoming).to.include({ subject: SUBJECT, sender_number: number, pdf_sha256: signedSha, external_ref: `prov-a/${id}` });
    const verdict = await verifyPdf(await b.ctx.store.get(incoming.pdf_sha256!), await verificationOptions(b.ctx.db));
    expect(verdict.valid, verdict.reasons.join()).to.equal(true);

    // The peer's agendaris finds it in Surat Masuk there, unread, from the exchange, under the sender's number.
    const registry = await app().signIn('agendaris', { baseURL: peer!.url });
    await registry.goto('/surat-masuk');
    expect(await row(registry).getAttribute('class')).to.match(/\bunread\b/);
    expect(await row(registry).innerText()).to.contain('Pertukaran antarinstansi').and.contain(number);
    await Promise.all([registry.waitForURL(/\/surat-masuk\/\d+$/), row(registry).getByRole('link', { name: SUBJECT }).click()]);
    expect(await registry.locator('h1').innerText()).to.equal(SUBJECT);
    expect(await registry.locator('dl.facts dd').allInnerTexts()).to.include(number).and.include('Pertukaran antarinstansi');

    const page = await app().signIn('konseptor');
    await page.goto(`/surat/${id}/terkirim`);
    const toPeer = page.locator('table.outbound tbody tr', { hasText: 'Pemerintah Provinsi B' });
    await eventually('the peer row to say Diterima', async () => {
      await page.reload();
      return (await toPeer.locator('.badge').innerText()) === 'Diterima';
    });
  });
});
