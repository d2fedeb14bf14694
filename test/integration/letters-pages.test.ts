import { expect } from 'chai';
import { startTestEnv, snapshotCounts, type TestEnv, type LoggedInAgent } from '../support/harness.js';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

describe('letter pages: drafting and approval in the browser', () => {
  let env: TestEnv;
  const users: Record<string, LoggedInAgent> = {};
  const as = (who: string) => users[who].agent;
  const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1];
  /** Posts a form the way the browser does: the page's CSRF token in the body. */
  const post = async (who: string, url: string, fields: Record<string, string>) => {
    const token = await users[who].csrf();
    return as(who).post(url).type('form').send({ _csrf: token, ...fields });
  };
  const letterForm = {
    kind: 'SD',
    subject: 'Undangan Rapat Koordinasi SPBE',
    urgency: 'segera',
    securityClass: 'biasa',
    classificationCode: '000.1.5',
    to: 'unit:DISDIK\nKepala Dinas Kominfo Kabupaten Contoh <kominfo@contoh.go.id>',
    cc: 'pemeriksa2',
    signer: 'penandatangan',
    paper: 'A4',
    body: 'Dengan hormat, kami mengundang Bapak/Ibu untuk hadir pada rapat koordinasi.\n\nAtas perhatiannya kami ucapkan terima kasih.',
  };
  let id = '';
  let attachmentId = '';

  before(async () => {
    env = await startTestEnv();
    for (const u of ['konseptor', 'pemeriksa1', 'pemeriksa2', 'penandatangan', 'staf2']) users[u] = await env.loginAs(u);
  });
  after(() => env.close());

  it('creates a draft through the form and shows it under "Konsep"', async () => {
    const form = await as('konseptor').get('/surat/baru');
    expect(form.status).to.equal(200);
    expect(form.text).to.contain('name="body"').and.contain('Dr. Bambang Wijaya').and.contain('000.1.5 — ');
    const res = await as('konseptor').post('/surat').type('form').send({ _csrf: csrfOf(form.text), ...letterForm });
    expect(res.status, res.text).to.equal(303);
    const m = /^\/surat\/(\d+)$/.exec(res.headers.location);
    expect(m, res.headers.location).to.not.equal(null);
    id = m![1];

    const page = await as('konseptor').get(`/surat/${id}`);
    expect(page.text).to.contain('Konsep naskah dibuat.');
    expect(page.text).to.contain('Dinas Pendidikan (DISDIK)').and.contain('Kepala Dinas Kominfo Kabupaten Contoh &lt;kominfo@contoh.go.id&gt;');
    expect(page.text).to.contain('Ir. Siti Nurhaliza, M.Si.');
    expect(page.text).to.contain('<p>Dengan hormat, kami mengundang Bapak/Ibu untuk hadir pada rapat koordinasi.</p>');

    const drafts = await as('konseptor').get('/surat?box=drafts');
    expect(drafts.text).to.contain(`href="/surat/${id}">Undangan Rapat Koordinasi SPBE</a>`);
    expect(drafts.text).to.match(/class="badge state-draft">Konsep</);
    expect(drafts.text).to.match(/class="badge urgency-segera">Segera</);
  });

  it('re-renders the form with the input kept when it is refused', async () => {
    const before = await snapshotCounts(env.ctx, ['letters']);
    const res = await post('konseptor', '/surat', { ...letterForm, subject: 'Subjek yang saya ketik', to: 'unit:DISDIK\nDinas X <bukan-email>' });
    expect(res.status).to.equal(400);
    expect(res.text).to.contain('value="Subjek yang saya ketik"');
    expect(res.text).to.contain('Penerima ke-2 belum benar.');
    expect(res.text).to.contain('Dinas X &lt;bukan-email&gt;');
    expect(await snapshotCounts(env.ctx, ['letters'])).to.deep.equal(before);
  });

  it('uploads an attachment through the page form and lists it', async () => {
    const page = await as('konseptor').get(`/surat/${id}`);
    const action = /action="(\/surat\/\d+\/lampiran\?_csrf=[^"]+)"/.exec(page.text)![1];
    const res = await as('konseptor').post(action.replace(/&amp;/g, '&')).field('version', '1').attach('file', PDF, 'kak.pdf');
    expect(res.status).to.equal(303);
    const after = await as('konseptor').get(`/surat/${id}`);
    expect(after.text).to.contain('Lampiran ditambahkan.');
    const link = new RegExp(`href="/surat/${id}/lampiran/(\\d+)" download>kak.pdf<`).exec(after.text);
    expect(link).to.not.equal(null);
    attachmentId = link![1];
    const file = await as('konseptor').get(`/surat/${id}/lampiran/${attachmentId}`).buffer(true);
    expect(file.headers['content-disposition']).to.match(/^attachment; filename="?kak\.pdf"?$/);
    expect(Buffer.compare(file.body as Buffer, PDF)).to.equal(0);

    // Without the token in the query string the upload is refused and nothing is stored.
    const before = await snapshotCounts(env.ctx, ['letter_attachments']);
    const forged = await as('konseptor').post(`/surat/${id}/lampiran`).attach('file', PDF, 'lain.pdf');
    expect(forged.status).to.equal(403);
    expect(await snapshotCounts(env.ctx, ['letter_attachments'])).to.deep.equal(before);
  });

  it('shows a hostile subject escaped on the letter page and in the inbox', async () => {
    const res = await post('konseptor', '/surat', { ...letterForm, subject: '<script>alert(1)</script>', body: '<p onclick="x()">Halo<script>alert(2)</script></p>' });
    expect(res.status).to.equal(303);
    for (const url of [res.headers.location, '/surat?box=drafts']) {
      const page = await as('konseptor').get(url);
      expect(page.text).to.contain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(page.text).not.to.contain('<script>alert');
      expect(page.text).not.to.contain('onclick');
    }
  });

  it('submits; pemeriksa1 sees it in "Perlu Tindakan" with the nav badge and returns it with a note', async () => {
    const sent = await post('konseptor', `/surat/${id}/submit`, { version: '2', reviewers: '' });
    expect(sent.status).to.equal(303);
    expect((await as('konseptor').get(`/surat/${id}`)).text).to.contain('Naskah dikirim untuk diperiksa.').and.contain('Dalam Pemeriksaan');

    const inbox = await as('pemeriksa1').get('/surat');
    expect(inbox.text).to.contain('<h1>Naskah Dinas</h1>');
    expect(inbox.text).to.contain(`href="/surat/${id}">Undangan Rapat Koordinasi SPBE</a>`);
    expect(inbox.text).to.match(/data-count="action"[^>]*>1</);
    expect(inbox.text).to.match(/data-box-count="action">1</);

    const page = await as('pemeriksa1').get(`/surat/${id}`);
    expect(page.text).to.contain('Setujui (Paraf)').and.contain('Kembalikan');
    expect(page.text).not.to.contain(`/surat/${id}/ubah`);
    const back = await post('pemeriksa1', `/surat/${id}/return`, { version: '2', note: 'Mohon lengkapi waktu rapat.' });
    expect(back.status).to.equal(303);
    expect((await as('pemeriksa1').get(`/surat/${id}`)).text).to.contain('Naskah dikembalikan kepada konseptor.');
  });

  it('shows the drafter the note and the "returned" notification', async () => {
    const home = await as('konseptor').get('/');
    expect(home.text).to.match(/data-count="notifications">1</);
    const list = await as('konseptor').get('/notifikasi');
    expect(list.text).to.contain('Naskah &#39;Undangan Rapat Koordinasi SPBE&#39; dikembalikan oleh Agus Santoso, S.Kom., M.T.');
    expect(list.text).to.contain(`href="/surat/${id}"`);
    const page = await as('konseptor').get(`/surat/${id}`);
    expect(page.text).to.contain('Mohon lengkapi waktu rapat.').and.contain('Dikembalikan');
    // Opening the letter read its notification.
    expect((await as('konseptor').get('/')).text).not.to.match(/data-count="notifications"/);
  });

  it('edits into a new version whose diff shows the inserted words, and refuses a stale form without losing its text', async () => {
    const form = await as('konseptor').get(`/surat/${id}/ubah`);
    expect(form.status).to.equal(200);
    expect(form.text).to.contain('name="version" value="2"');
    expect(form.text).to.contain('unit:DISDIK\nKepala Dinas Kominfo Kabupaten Contoh &lt;kominfo@contoh.go.id&gt;');
    expect(form.text).to.contain('user:pemeriksa2');
    const body = letterForm.body.replace('rapat koordinasi.', 'rapat koordinasi pada pukul 09.00 WIB.');
    const saved = await as('konseptor').post(`/surat/${id}`).type('form').send({ _csrf: csrfOf(form.text), ...letterForm, body, version: '2' });
    expect(saved.status, saved.text).to.equal(303);
    const page = await as('konseptor').get(`/surat/${id}`);
    expect(page.text).to.contain('Konsep disimpan sebagai versi baru.');
    expect(page.text).to.contain(`href="/surat/${id}/versi/2/banding/3"`);

    const diff = await as('konseptor').get(`/surat/${id}/versi/2/banding/3`);
    expect(diff.status).to.equal(200);
    expect(diff.text).to.match(/<ins>[^<]*pada pukul 09.00 WIB[^<]*<\/ins>/);
    expect(diff.text).not.to.contain('<del>');
    const attDiff = await as('konseptor').get(`/surat/${id}/versi/1/banding/2`);
    expect(attDiff.text).to.match(/<tr class="changed">\s*<th scope="row">Lampiran/);

    // The same old form (version 2) sent again: conflict, and the typed text is still there.
    const before = await snapshotCounts(env.ctx, ['letter_versions']);
    const stale = await post('konseptor', `/surat/${id}`, { ...letterForm, subject: 'Perubahan dari tab lama', version: '2' });
    expect(stale.status).to.equal(409);
    expect(stale.text).to.contain('Konsep sudah disimpan orang lain (versi 3)');
    expect(stale.text).to.contain('value="Perubahan dari tab lama"');
    expect(await snapshotCounts(env.ctx, ['letter_versions'])).to.deep.equal(before);
  });

  it('runs the paraf: a stale approval is refused, pemeriksa1 and pemeriksa2 approve, the signer sees it', async () => {
    expect((await post('konseptor', `/surat/${id}/submit`, { version: '3' })).status).to.equal(303);

    const stale = await post('pemeriksa1', `/surat/${id}/approve`, { version: '2' });
    expect(stale.status).to.equal(303);
    expect((await as('pemeriksa1').get(`/surat/${id}`)).text).to.contain('bukan versi terbaru (versi 3)');

    const early = await post('pemeriksa2', `/surat/${id}/approve`, { version: '3' });
    expect(early.status).to.equal(303);
    expect((await as('pemeriksa2').get(`/surat/${id}`)).text).to.contain('Naskah ini belum atau tidak menunggu tindakan Anda.');

    expect((await post('pemeriksa1', `/surat/${id}/approve`, { version: '3' })).status).to.equal(303);
    expect((await post('pemeriksa2', `/surat/${id}/approve`, { version: '3', note: 'Sudah sesuai.' })).status).to.equal(303);

    const signer = await as('penandatangan').get('/surat?box=action');
    expect(signer.text).to.contain(`href="/surat/${id}">Undangan Rapat Koordinasi SPBE</a>`);
    expect(signer.text).to.contain('Menunggu Tanda Tangan');
    const notes = await as('penandatangan').get('/notifikasi');
    expect(notes.text).to.contain('menunggu tanda tangan Anda').and.match(/data-count="notifications">1</);
    expect((await post('penandatangan', '/notifikasi/dibaca', {})).status).to.equal(303);
    const read = await as('penandatangan').get('/notifikasi');
    expect(read.text).to.contain('Semua notifikasi ditandai sudah dibaca.').and.contain('menunggu tanda tangan Anda').and.not.match(/data-count="notifications"/);
    const page = await as('penandatangan').get(`/surat/${id}`);
    expect(page.text).to.contain('Agus Santoso, S.Kom., M.T.').and.contain('Sudah sesuai.').and.contain('Putaran 2');
  });

  it('hides the letter and its attachment from an uninvolved user', async () => {
    expect((await as('staf2').get(`/surat/${id}`)).status).to.equal(404);
    expect((await as('staf2').get(`/surat/${id}/lampiran/${attachmentId}`)).status).to.equal(404);
    expect((await as('staf2').get(`/surat/${id}/versi/1/banding/2`)).status).to.equal(404);
    const before = await snapshotCounts(env.ctx, ['approval_steps', 'letter_versions']);
    expect((await post('staf2', `/surat/${id}/return`, { note: 'x' })).status).to.equal(404);
    expect(await snapshotCounts(env.ctx, ['approval_steps', 'letter_versions'])).to.deep.equal(before);
    expect((await as('staf2').get('/surat?box=done')).text).not.to.contain(`/surat/${id}"`);
  });

  it('withdraws before any paraf, removes an attachment, and cancels with a reason', async () => {
    const created = await post('konseptor', '/surat', { ...letterForm, subject: 'Nota yang dibatalkan' });
    const other = created.headers.location as string;
    const page = await as('konseptor').get(other);
    const action = /action="(\/surat\/\d+\/lampiran\?_csrf=[^"]+)"/.exec(page.text)![1];
    expect((await as('konseptor').post(action).attach('file', PDF, 'hapus-saya.pdf')).status).to.equal(303);
    const aid = /\/lampiran\/(\d+)\/hapus/.exec((await as('konseptor').get(other)).text)![1];
    expect((await post('konseptor', `${other}/lampiran/${aid}/hapus`, {})).status).to.equal(303);
    const afterRemove = await as('konseptor').get(other);
    expect(afterRemove.text).to.contain('Lampiran dihapus.').and.not.contain('hapus-saya.pdf</a>');

    expect((await post('konseptor', `${other}/submit`, {})).status).to.equal(303);
    expect((await post('konseptor', `${other}/withdraw`, {})).status).to.equal(303);
    expect((await as('konseptor').get(other)).text).to.contain('Naskah ditarik kembali menjadi konsep.').and.match(/badge state-draft">Konsep</);

    const noReason = await post('konseptor', `${other}/cancel`, { reason: '' });
    expect(noReason.status).to.equal(303);
    expect((await as('konseptor').get(other)).text).to.contain('Data yang dikirim tidak valid.').and.match(/badge state-draft">Konsep</);
    expect((await post('konseptor', `${other}/cancel`, { reason: 'Rapat ditunda.' })).status).to.equal(303);
    const cancelled = await as('konseptor').get(other);
    expect(cancelled.text).to.contain('Naskah dibatalkan.').and.match(/badge state-cancelled">Dibatalkan</);
    expect(cancelled.text).not.to.contain('id="tindakan"');
    expect(cancelled.text).not.to.contain('/ubah"');
  });

  it('works in English with ?lang=en', async () => {
    const inbox = await as('penandatangan').get('/surat?lang=en');
    expect(inbox.text).to.contain('Needs action').and.contain('Awaiting signature').and.contain('Letters');
    const page = await as('penandatangan').get(`/surat/${id}`);
    expect(page.text).to.contain('Approval chain').and.contain('Round 2').and.contain('Return');
    const form = await as('konseptor').get('/surat/baru?lang=en');
    expect(form.text).to.contain('New draft').and.contain('One recipient per line');
  });

  it('keeps the filters in the pager links and filters by subject', async () => {
    for (let i = 0; i < 3; i++) expect((await post('konseptor', '/surat', { ...letterForm, subject: `Nota nomor ${i}` })).status).to.equal(303);
    const page = await as('konseptor').get('/surat?box=drafts&q=Nota&size=2&lang=id');
    expect(page.text).to.contain('Nota nomor 2').and.not.contain('Undangan Rapat Koordinasi SPBE');
    expect(page.text).to.contain('3 data · Halaman 1 dari 2');
    expect(page.text).to.contain('href="?box=drafts&amp;q=Nota&amp;size=2&page=2"');
    const second = await as('konseptor').get('/surat?box=drafts&q=Nota&size=2&page=2');
    expect(second.text).to.contain('Nota nomor 0').and.not.contain('Nota nomor 2');
  });
});
