// Archive search (/arsip/cari, GET /api/v1/search): the arsiparis finds a signed
// letter by a word of its body, by an inflected form, by its number and by its
// attachment's text; filters and paging work; highlighted snippets escape the
// letter's text; hostile strings never break the page; and a Rahasia letter is
// found only by those the access policy lets see it, each read audited.
import { expect } from 'chai';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { startTestEnv, DEMO_PASSWORD, type TestEnv, type LoggedInAgent, bearerClient } from '../support/harness.js';
import { loadCurrentUser } from '../../server/platform/auth/current-user.js';
import { loadViewer } from '../../server/modules/archive/access.js';
import { search as searchRepo } from '../../server/modules/archive/search-repo.js';

async function textPdf(text: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage().drawText(text, { x: 50, y: 700, size: 12, font });
  return Buffer.from(await doc.save());
}

interface Result { id: string; type: string; letterId: string | null; number: string | null; subject: string; securityClass: string; snippet: string | null; subjectHtml: string }

describe('archive search', function () {
  this.timeout(180_000);
  let env: TestEnv;
  const tokens: Record<string, string> = {};
  const pages: Record<string, LoggedInAgent> = {};
  const as = (who: string) => bearerClient(env.app, tokens[who]);
  const search = async (who: string, query: Record<string, string>) => {
    const res = await as(who).get('/api/v1/search').query(query);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body as { total: number; page: number; pageSize: number; results: Result[] };
  };

  /** Drafts, runs the chain (pemeriksa1, pemeriksa2) and signs; returns the id and number. */
  async function signedLetter(fields: Record<string, unknown>, attachment?: Buffer): Promise<{ id: string; number: string; attachmentId?: string }> {
    const created = await as('konseptor').post('/api/v1/letters').send({ kind: 'SD', urgency: 'biasa', securityClass: 'biasa', classificationCode: '000.1.5', signer: 'penandatangan', ...fields });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const id = created.body.id as string;
    let version = 1;
    let attachmentId: string | undefined;
    if (attachment) {
      const att = await as('konseptor').post(`/api/v1/letters/${id}/attachments`).attach('file', attachment, 'lampiran-kak.pdf');
      expect(att.status, JSON.stringify(att.body)).to.equal(201);
      attachmentId = att.body.attachmentId;
      version = att.body.letter.version;
    }
    await as('konseptor').post(`/api/v1/letters/${id}/submit`).send({}).expect(200);
    await as('pemeriksa1').post(`/api/v1/letters/${id}/approve`).send({ version }).expect(200);
    await as('pemeriksa2').post(`/api/v1/letters/${id}/approve`).send({ version }).expect(200);
    const signed = await as('penandatangan').post(`/api/v1/letters/${id}/sign`).send({ passphrase: DEMO_PASSWORD });
    expect(signed.status, JSON.stringify(signed.body)).to.equal(200);
    return { id, number: signed.body.number, attachmentId };
  }

  let open: { id: string; number: string };
  let secret: { id: string; number: string; attachmentId?: string };

  before(async () => {
    env = await startTestEnv();
    for (const u of ['konseptor', 'pemeriksa1', 'pemeriksa2', 'penandatangan', 'staf1', 'staf2', 'staf3', 'arsiparis', 'auditor']) tokens[u] = await env.tokenFor(u);
    for (const u of ['arsiparis', 'staf1']) pages[u] = await env.loginAs(u);
    open = await signedLetter(
      {
        subject: 'Rencana Pembangunan Jaringan Serat Optik Kecamatan',
        to: [{ unit: 'DISDIK.SMA.KUR' }],
        // Text that looks like markup must come back escaped in the snippet.
        body: '<p>Dinas akan membangun jaringan di tiga kecamatan. Rumus &lt;b&gt;tebal&lt;/b&gt; &amp; "kutip" tetap teks biasa.</p>',
      },
      await textPdf('Kerangka acuan kerja menara Kalijodo tahun anggaran 2026'),
    );
    secret = await signedLetter(
      { subject: 'Pengamanan Sandi Operasi Merpati', securityClass: 'rahasia', to: [{ user: 'staf3' }], body: '<p>Kunci sandi Merpati diganti setiap pekan.</p>' },
      await textPdf('Daftar kunci Merpati'),
    );
    // A draft nobody but its drafter may find.
    await as('konseptor').post('/api/v1/letters').send({ kind: 'SD', urgency: 'biasa', securityClass: 'biasa', classificationCode: '000.1.5', signer: 'penandatangan', subject: 'Konsep Pembangunan Taman', to: [{ unit: 'DISDIK.SMA.KUR' }], body: '<p>Konsep awal.</p>' }).expect(201);
  });
  after(async () => env?.close());

  it('finds the signed letter by a word of its body, with the word highlighted and its text escaped', async () => {
    const out = await search('arsiparis', { q: 'kecamatan tebal' });
    expect(out.results.map((r) => r.letterId)).to.deep.equal([open.id]);
    const hit = out.results[0]!;
    expect(hit).to.include({ type: 'letter', number: open.number, securityClass: 'biasa' });
    expect(hit.snippet).to.contain('<mark>kecamatan</mark>');
    expect(hit.snippet).to.contain('&lt;b&gt;');
    expect(hit.snippet).not.to.contain('<b>');
    const page = await pages.arsiparis.agent.get('/arsip/cari').query({ q: 'kecamatan tebal' }).expect(200);
    expect(page.text).to.contain(`href="/surat/${open.id}"`);
    expect(page.text).to.contain('<mark>kecamatan</mark>');
    expect(page.text).to.contain('Rumus &lt;b&gt;');
    expect(page.text).not.to.contain('<b>tebal');
  });

  it('finds it by inflected forms that are not in its text: "dibangun", "pembangunannya" (Indonesian stemmer: all are bangun)', async () => {
    for (const q of ['dibangun', 'pembangunannya']) {
      const out = await search('arsiparis', { q, type: 'letter' });
      expect(out.results.map((r) => r.letterId), q).to.include(open.id);
    }
  });

  it('finds it by its number pasted as is, ranked first', async () => {
    const out = await search('arsiparis', { q: open.number });
    expect(out.results[0]?.letterId).to.equal(open.id);
    expect(out.results[0]?.number).to.equal(open.number);
  });

  it('finds it by the text of its PDF attachment', async () => {
    const out = await search('arsiparis', { q: 'Kalijodo' });
    expect(out.results.map((r) => r.letterId)).to.deep.equal([open.id]);
  });

  it('filters by kind, class, code prefix, state, unit, date and sender/recipient, and pages', async () => {
    const today = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10);
    const q = { q: 'kecamatan' };
    expect((await search('arsiparis', { ...q, kind: 'SD', class: 'biasa', code: '000.1', state: 'dispatched', from: today, to: today, party: 'Kurikulum' })).total).to.equal(1);
    expect((await search('arsiparis', { ...q, class: 'terbatas' })).total).to.equal(0);
    expect((await search('arsiparis', { ...q, code: '000.2' })).total).to.equal(0);
    expect((await search('arsiparis', { ...q, to: '2020-01-01' })).total).to.equal(0);
    expect((await search('arsiparis', { ...q, party: 'Inspektorat' })).total).to.equal(0);
    expect((await search('arsiparis', { ...q, type: 'incoming' })).total).to.equal(0);
    // Without words: everything the arsiparis may see, newest first, one per page.
    const all = await search('arsiparis', { sort: 'newest' });
    expect(all.total).to.be.greaterThan(1);
    const second = await search('arsiparis', { sort: 'newest', size: '1', page: '2' } as Record<string, string>);
    expect(second).to.include({ page: 2, pageSize: 1, total: all.total });
    expect(second.results).to.have.length(1);
    const bad = await as('arsiparis').get('/api/v1/search').query({ from: '2026-02-31' });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.message).to.be.a('string');
    const badPage = await pages.arsiparis.agent.get('/arsip/cari').query({ class: 'bocor' });
    expect(badPage.status).to.equal(400);
    expect(badPage.text).to.contain('class="flash flash-error"');
  });

  it('answers 30 hostile search strings with 200 on the page and the API', async () => {
    const hostile = [
      "'", '"', '\\', '&', '|', '!', ':', '*', '(', ')', "'; DROP TABLE records; --", 'a & | b', '!!!:*', '((( )))', '"unclosed',
      '-', 'OR', 'OR OR -', '<script>alert(1)</script>', '\u0000nul\u0000', '%_%', '\\x00', 'ﷺ 🙂 ñ 中文', '\ud800', 'a:* & b:*', '@@ @@',
      'x'.repeat(10_240), 'kecamatan '.repeat(1000), '\u202e\u200b', '$1 ${q} {{q}}',
    ];
    expect(hostile).to.have.length(30);
    for (const q of hostile) {
      const api = await as('staf1').get('/api/v1/search').query({ q });
      expect(api.status, JSON.stringify(q).slice(0, 40)).to.equal(200);
      const page = await pages.staf1.agent.get('/arsip/cari').query({ q });
      expect(page.status, JSON.stringify(q).slice(0, 40)).to.equal(200);
      expect(page.text).not.to.contain('<script>alert');
    }
    const long = await as('staf1').get('/api/v1/search').query({ q: 'kecamatan '.repeat(1000) });
    expect(long.body.truncated).to.equal(true);
    const longPage = await pages.staf1.agent.get('/arsip/cari').query({ q: 'x'.repeat(10_240) });
    expect(longPage.text).to.contain('terlalu panjang');
  });

  it('counts a broad search only up to the cap and says so; relevance ranks the newest candidates and pages past them', async () => {
    // The limits (10,000 counted, 1,000 ranked) are lowered through search's parameter instead of inserting 10,001 letters.
    const older = await signedLetter({ subject: 'Jembatan Gantung Jembatan Desa', to: [{ unit: 'DISDIK.SMA.KUR' }], body: '<p>Jembatan, jembatan dan jembatan.</p>' });
    const newer = await signedLetter({ subject: 'Perbaikan Jalan Desa', to: [{ unit: 'DISDIK.SMA.KUR' }], body: `<p>Jalan menuju satu jembatan, lihat surat ${older.number}.</p>` });
    const user = (await loadCurrentUser(env.ctx.db, String((await env.ctx.db.selectFrom('users').select('id').where('username', '=', 'arsiparis').executeTakeFirstOrThrow()).id), 'token', null))!;
    const viewer = await loadViewer(env.ctx.db, user);
    const run = (limits: { totalCap: number; rankedCandidates: number }, offset: number) =>
      env.ctx.db.transaction().execute((trx) => searchRepo(trx, viewer, { q: 'jembatan', dateField: 'record', sort: 'relevance' }, { size: 1, offset }, ['biasa'], limits));
    const ids = (out: Awaited<ReturnType<typeof run>>) => out.rows.map((r) => String(r.letter_id));

    expect(await run({ totalCap: 2, rankedCandidates: 2 }, 0)).to.deep.include({ total: 2, totalCapped: false });
    const capped = await run({ totalCap: 1, rankedCandidates: 2 }, 0);
    expect(capped).to.deep.include({ total: 1, totalCapped: true });
    // Both ranked: the letter about bridges comes first although it is older.
    expect(ids(capped)).to.deep.equal([older.id]);
    // Only the newest match ranked: it comes first, the other follows on the next page (newest first), none twice.
    expect(ids(await run({ totalCap: 2, rankedCandidates: 1 }, 0))).to.deep.equal([newer.id]);
    expect(ids(await run({ totalCap: 2, rankedCandidates: 1 }, 1))).to.deep.equal([older.id]);
    expect(ids(await run({ totalCap: 2, rankedCandidates: 1 }, 2))).to.deep.equal([]);
    expect(ids(await run({ totalCap: 2, rankedCandidates: 0 }, 0))).to.deep.equal([newer.id]);
    // An exact number comes first wherever it is in time, before a newer letter that quotes it.
    for (const rankedCandidates of [0, 1]) {
      const byNumber = await env.ctx.db.transaction().execute((trx) => searchRepo(trx, viewer, { q: older.number, dateField: 'record', sort: 'relevance' }, { size: 5, offset: 0 }, ['biasa'], { totalCap: 2, rankedCandidates }));
      expect(ids(byNumber), String(rankedCandidates)).to.deep.equal([older.id, newer.id]);
    }
    // Below the cap the API says the total is exact.
    expect((await as('arsiparis').get('/api/v1/search').query({ q: 'jembatan' })).body).to.deep.include({ total: 2, totalCapped: false });
  });

  it('shows "Cari" in the navigation of every signed-in user', async () => {
    const home = await pages.staf1.agent.get('/').expect(200);
    expect(home.text).to.contain('href="/arsip/cari"');
  });

  describe('a Rahasia letter', () => {
    it('cannot be found by a staf without access, by search (page and API), by URL or by API: 404 like a missing id', async () => {
      for (const who of ['staf1', 'staf2', 'auditor']) {
        expect((await search(who, { q: 'Merpati' })).total, who).to.equal(0);
        expect((await search(who, { q: secret.number })).total, who).to.equal(0);
      }
      const page = await pages.staf1.agent.get('/arsip/cari').query({ q: 'Merpati' }).expect(200);
      expect(page.text).not.to.contain('Merpati</');
      expect(page.text).not.to.contain(`/surat/${secret.id}"`);
      const missing = await pages.staf1.agent.get('/surat/999999999').expect(404);
      for (const url of [`/surat/${secret.id}`, `/surat/${secret.id}/pdf`, `/surat/${secret.id}/pratinjau`, `/surat/${secret.id}/lampiran/${secret.attachmentId}`]) {
        const res = await pages.staf1.agent.get(url);
        expect(res.status, url).to.equal(404);
        expect(res.text, url).not.to.contain('Merpati');
      }
      const missingApi = await as('staf1').get('/api/v1/letters/999999999').expect(404);
      for (const url of [`/api/v1/letters/${secret.id}`, `/api/v1/letters/${secret.id}/pdf`, `/api/v1/letters/${secret.id}/preview`, `/api/v1/letters/${secret.id}/attachments/${secret.attachmentId}`]) {
        const res = await as('staf1').get(url);
        expect(res.status, url).to.equal(404);
        expect(res.body, url).to.deep.equal(missingApi.body);
      }
      expect(missing.text).to.contain('404');
    });

    it('is found by its signer, its recipient and the arsiparis, without its text in the list', async () => {
      for (const who of ['penandatangan', 'staf3', 'arsiparis']) {
        const out = await search(who, { q: 'Merpati' });
        expect(out.results.map((r) => r.letterId), who).to.deep.equal([secret.id]);
        expect(out.results[0]!.snippet, who).to.equal(null);
        expect(out.results[0]!.subjectHtml).to.contain('<mark>Merpati</mark>');
      }
      const page = await pages.arsiparis.agent.get('/arsip/cari').query({ q: 'Merpati' }).expect(200);
      expect(page.text).to.contain('tidak ditampilkan di hasil pencarian');
    });

    it('is opened by its signer and recipient, and each read is in the audit trail', async () => {
      const before = await as('auditor').get('/api/v1/audit').query({ action: 'letter.read_restricted', objectId: secret.id }).expect(200);
      await as('penandatangan').get(`/api/v1/letters/${secret.id}`).expect(200);
      await as('staf3').get(`/api/v1/letters/${secret.id}/pdf`).expect(200).expect('content-type', 'application/pdf');
      await as('staf3').get(`/api/v1/letters/${secret.id}/attachments/${secret.attachmentId}`).expect(200);
      await as('staf1').get(`/api/v1/letters/${secret.id}`).expect(404);
      const after = await as('auditor').get('/api/v1/audit').query({ action: 'letter.read_restricted', objectId: secret.id }).expect(200);
      const added = after.body.items.slice(0, after.body.total - before.body.total) as { actorName: string; details: { read: string } }[];
      expect(added.map((e) => [e.actorName, e.details.read]).sort()).to.deep.equal([
        ['penandatangan', 'page'],
        ['staf3', 'attachment'],
        ['staf3', 'signed_pdf'],
      ]);
      const trail = await (await env.loginAs('auditor')).agent.get('/audit').query({ action: 'letter.read_restricted', objectId: secret.id }).expect(200);
      expect(trail.text).to.contain('staf3');
    });
  });
});
