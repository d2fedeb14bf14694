// Disposal of records (pemusnahan): proposal by the archivist, approval and
// destruction by the signing official with a signed berita acara; refusals for
// held and not-yet-due records change nothing; destroyed bytes leave both
// stores unless another record still refers to them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import supertest from 'supertest';
import { startTestEnv, snapshotCounts, csrfFrom, DEMO_PASSWORD, type TestEnv, type LoggedInAgent } from '../support/harness.js';
import { requireTools, nssTrustDb, type NssTrust } from '../support/nss.js';
import { apiAs, backdate, signedRecord, type SignedRecord } from '../support/records.js';
import { purgeDestroyed } from '../../server/modules/archive/disposal.js';

const ATTACHMENT = Buffer.from('%PDF-1.4\n% lampiran bersama: kerangka acuan kerja\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');
const TABLES = ['disposals', 'disposal_records', 'records', 'legal_holds', 'objects', 'issued_numbers'];

describe('disposal: proposal, approval, destruction with a signed berita acara', function () {
  this.timeout(180_000);
  let env: TestEnv;
  let api: ReturnType<typeof apiAs>;
  let nss: NssTrust;
  let dir: string;
  const pages: Record<string, LoggedInAgent> = {};
  let a: SignedRecord; // due, shares its attachment with b
  let b: SignedRecord; // due, not proposed: keeps the shared attachment alive
  let held: SignedRecord; // due but on hold
  let recent: SignedRecord; // not due
  let disposalId: string;
  let aPdf: Buffer;

  const post = async (who: string, url: string, fields: Record<string, string | string[]>) => {
    const token = await pages[who].csrf();
    return pages[who].agent.post(url).type('form').send({ _csrf: token, ...fields });
  };
  const backupCopy = async (sha256: string) => env.ctx.backupStore.putCopy(sha256, await env.ctx.store.get(sha256), 'application/pdf');
  const pendingText = async () => (await env.ctx.db.selectFrom('records').select(['body_text']).where('id', '=', a.recordId).executeTakeFirstOrThrow()).body_text;

  before(async function () {
    requireTools(this, 'pdfsig', 'pdftotext', 'certutil');
    env = await startTestEnv();
    api = apiAs(env);
    for (const u of ['arsiparis', 'penandatangan', 'staf1']) pages[u] = await env.loginAs(u);
    a = await signedRecord(env, { subject: 'Notula rapat pimpinan Januari 2015', attachment: ATTACHMENT, body: '<p>Rapat membahas anggaran pemeliharaan jaringan.</p>' });
    b = await signedRecord(env, { subject: 'Notula rapat pimpinan Februari 2015', attachment: ATTACHMENT });
    held = await signedRecord(env, { subject: 'Notula rapat pimpinan Maret 2015' });
    recent = await signedRecord(env, { subject: 'Notula rapat pimpinan tahun ini' });
    // 000.1.5 keeps a record 2 + 4 years, then destroys it.
    for (const r of [a, b, held]) await backdate(env, r.recordId, '2015-01-15');
    expect(a.attachmentSha256).to.equal(b.attachmentSha256);
    for (const sha of [a.pdfSha256, a.attachmentSha256!]) await backupCopy(sha);
    aPdf = await env.ctx.store.get(a.pdfSha256);
    expect((await api.post('arsiparis', `/api/v1/archive/records/${held.recordId}/hold`, { reason: 'Perkara sengketa di PTUN' })).status).to.equal(201);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-disposal-'));
    nss = nssTrustDb((await env.ctx.db.selectFrom('trust_anchors').select('cert_pem').where('active', '=', true).execute()).map((x) => x.cert_pem));
  });
  after(async () => {
    nss?.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await env?.close();
  });

  it('lists the due records under "Usul musnah", the held one marked and not selectable', async () => {
    const page = await pages.arsiparis.agent.get('/arsip?daftar=destroy');
    expect(page.status).to.equal(200);
    expect(page.text).to.contain(a.number).and.contain(b.number).and.contain(held.number).and.not.contain(recent.number);
    expect(page.text).to.contain(`name="ids" value="${a.recordId}"`).and.not.contain(`name="ids" value="${held.recordId}"`);
    expect(page.text).to.contain('Ditahan');
  });

  it('refuses a staf everywhere with 403, and nothing changes', async () => {
    const before = await snapshotCounts(env.ctx, TABLES);
    for (const url of ['/arsip', '/arsip/pemusnahan', '/arsip/berkas', '/arsip/penahanan', `/arsip/item/${a.recordId}`, '/arsip/jatuh-tempo.csv']) {
      expect((await pages.staf1.agent.get(url)).status, url).to.equal(403);
    }
    expect((await post('staf1', '/arsip/usul-musnah', { ids: [a.recordId] })).status).to.equal(403);
    expect((await post('staf1', `/arsip/item/${a.recordId}/tahan`, { reason: 'x' })).status).to.equal(403);
    expect((await api.post('staf1', '/api/v1/archive/disposals', { ids: [a.recordId] })).status).to.equal(403);
    expect((await api.get('staf1', '/api/v1/archive/due?list=destroy')).status).to.equal(403);
    expect((await api.post('staf1', `/api/v1/archive/records/${a.recordId}/hold`, { reason: 'x' })).status).to.equal(403);
    expect(await snapshotCounts(env.ctx, TABLES)).to.deep.equal(before);
  });

  it('refuses a proposal with a held or not-yet-due record, saying which, and nothing changes', async () => {
    const before = await snapshotCounts(env.ctx, TABLES);
    const withHeld = await api.post('arsiparis', '/api/v1/archive/disposals', { ids: [a.recordId, held.recordId] });
    expect(withHeld.status).to.equal(409);
    expect(withHeld.body.error.message).to.contain(held.number).and.contain('ditahan');
    const notDue = await api.post('arsiparis', '/api/v1/archive/disposals', { ids: [recent.recordId] });
    expect(notDue.status).to.equal(409);
    expect(notDue.body.error.message).to.contain('belum berakhir');
    // The same through the page: back to the list with the message.
    const page = await post('arsiparis', '/arsip/usul-musnah', { ids: [held.recordId], next: '/arsip?daftar=destroy' });
    expect(page.status).to.equal(303);
    expect((await pages.arsiparis.agent.get(page.headers.location)).text).to.contain('sedang ditahan');
    expect(await snapshotCounts(env.ctx, TABLES)).to.deep.equal(before);
  });

  it('proposes through the page; the signing official approves', async () => {
    const res = await post('arsiparis', '/arsip/usul-musnah', { ids: [a.recordId], note: 'Hasil penilaian panitia 2026' });
    expect(res.status).to.equal(303);
    disposalId = /\/arsip\/pemusnahan\/(\d+)$/.exec(res.headers.location)![1];
    const shown = await pages.arsiparis.agent.get(res.headers.location);
    expect(shown.text).to.contain('Diusulkan').and.contain(a.number);
    // The archivist cannot approve; the official can.
    expect((await api.post('arsiparis', `/api/v1/archive/disposals/${disposalId}/approve`)).status).to.equal(403);
    const approved = await api.post('penandatangan', `/api/v1/archive/disposals/${disposalId}/approve`, { note: 'Setuju' });
    expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
    expect(approved.body.state).to.equal('approved');
  });

  it('refuses the destruction while a record of it is held, and nothing changes (the bytes stay)', async () => {
    expect((await api.post('arsiparis', `/api/v1/archive/records/${a.recordId}/hold`, { reason: 'Permintaan inspektorat' })).status).to.equal(201);
    const before = await snapshotCounts(env.ctx, TABLES);
    const res = await api.post('penandatangan', `/api/v1/archive/disposals/${disposalId}/execute`, { passphrase: DEMO_PASSWORD });
    expect(res.status).to.equal(409);
    expect(res.body.error.message).to.contain(a.number).and.contain('ditahan');
    expect(await snapshotCounts(env.ctx, TABLES)).to.deep.equal(before);
    expect(await env.ctx.store.stat(a.pdfSha256)).to.not.equal(null);
    expect(await pendingText()).to.contain('anggaran pemeliharaan');
    const lifted = await post('arsiparis', `/arsip/item/${a.recordId}/lepas`, { reason: 'Pemeriksaan selesai' });
    expect(lifted.status).to.equal(303);
  });

  it('destroys: berita acara signed, bytes gone from both stores, the shared attachment kept, text cleared', async () => {
    const page = await pages.penandatangan.agent.get(`/arsip/pemusnahan/${disposalId}`);
    expect(page.text).to.contain('name="passphrase"');
    const res = await pages.penandatangan.agent.post(`/arsip/pemusnahan/${disposalId}/musnahkan`).type('form').send({ _csrf: csrfFrom(page.text), passphrase: DEMO_PASSWORD });
    expect(res.status).to.equal(303);
    const after = await pages.penandatangan.agent.get(res.headers.location);
    expect(after.text).to.contain('Arsip dimusnahkan').and.contain('Unduh berita acara');

    expect(await env.ctx.store.stat(a.pdfSha256)).to.equal(null);
    expect(await env.ctx.backupStore.stat(a.pdfSha256)).to.equal(null);
    expect(await env.ctx.store.stat(a.attachmentSha256!)).to.not.equal(null);
    expect(await env.ctx.backupStore.stat(a.attachmentSha256!)).to.not.equal(null);
    const obj = await env.ctx.db.selectFrom('objects').select(['sha256', 'destroyed_at']).where('sha256', 'in', [a.pdfSha256, a.attachmentSha256!]).execute();
    expect(obj.find((o) => o.sha256 === a.pdfSha256)!.destroyed_at).to.not.equal(null);
    expect(obj.find((o) => o.sha256 === a.attachmentSha256)!.destroyed_at).to.equal(null);

    const rec = await env.ctx.db.selectFrom('records').selectAll().where('id', '=', a.recordId).executeTakeFirstOrThrow();
    expect(rec.destroyed_at).to.not.equal(null);
    expect(rec.destroyed_sha256).to.deep.equal([a.pdfSha256]);
    expect(rec.body_text).to.equal('');
    expect(rec).to.include({ number: a.number, subject: 'Notula rapat pimpinan Januari 2015' });
    const versions = await env.ctx.db.selectFrom('letter_versions').select('content').where('letter_id', '=', a.letterId).execute();
    expect(versions.map((v) => v.content.body)).to.satisfy((bodies: string[]) => bodies.every((x) => x === ''));

    const audit = await env.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'disposal.executed').executeTakeFirstOrThrow();
    expect(audit.details).to.deep.include({ destroyed: [a.pdfSha256], keptShared: [a.attachmentSha256] });
    expect(audit.doc_sha256).to.match(/^[0-9a-f]{64}$/);
  });

  it('shows "Dimusnahkan" on the letter page, and its PDF answers 410 with a clear message', async () => {
    const letter = await pages.penandatangan.agent.get(`/surat/${a.letterId}`);
    expect(letter.status).to.equal(200);
    expect(letter.text).to.contain('Dimusnahkan').and.contain('berita acara');
    const pdf = await pages.penandatangan.agent.get(`/surat/${a.letterId}/pdf`);
    expect(pdf.status).to.equal(410);
    expect(pdf.text).to.contain('sudah dimusnahkan');
    const apiPdf = await api.get('penandatangan', `/api/v1/letters/${a.letterId}/pdf`);
    expect(apiPdf.status).to.equal(410);
    expect(apiPdf.body.error.code).to.equal('gone');
    // The other record sharing the attachment still reads it.
    expect((await api.get('penandatangan', `/api/v1/letters/${b.letterId}/pdf`)).status).to.equal(200);
  });

  it('gives a berita acara that pdfsig verifies, listing the destroyed record', async () => {
    const d = await api.get('arsiparis', `/api/v1/archive/disposals/${disposalId}`);
    expect(d.body).to.include({ state: 'executed' });
    expect(d.body.number).to.match(/\/DKIS\/20\d\d$/);
    const res = await pages.arsiparis.agent.get(`/arsip/pemusnahan/${disposalId}/berita-acara`).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(res.status).to.equal(200);
    const file = path.join(dir, 'ba.pdf');
    fs.writeFileSync(file, res.body as Buffer);
    const sig = nss.pdfsig(file);
    expect(sig).to.contain('Signature is Valid.').and.contain('Total document signed');
    const text = spawnSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).stdout;
    expect(text).to.contain('BERITA ACARA PEMUSNAHAN ARSIP').and.contain(d.body.number).and.contain(a.number).and.contain('Notula rapat pimpinan Januari 2015');
    // The hash wraps inside its cell: both ends are there.
    expect(text).to.contain(a.pdfSha256.slice(0, 32)).and.contain(a.pdfSha256.slice(-16));
  });

  it('lets the official reject a proposal only with a reason; a rejected record can be proposed again', async () => {
    const proposed = await api.post('arsiparis', '/api/v1/archive/disposals', { ids: [b.recordId] });
    expect(proposed.status).to.equal(201);
    const id = proposed.body.id as string;
    expect((await api.post('arsiparis', '/api/v1/archive/disposals', { ids: [b.recordId] })).body.error.message).to.contain(`usul pemusnahan #${id}`);
    expect((await api.post('penandatangan', `/api/v1/archive/disposals/${id}/reject`, {})).status).to.equal(400);
    const rejected = await api.post('penandatangan', `/api/v1/archive/disposals/${id}/reject`, { note: 'Masih diperlukan untuk audit BPK' });
    expect(rejected.body).to.include({ state: 'rejected', decisionNote: 'Masih diperlukan untuk audit BPK' });
    expect((await api.post('penandatangan', `/api/v1/archive/disposals/${id}/execute`, { passphrase: DEMO_PASSWORD })).status).to.equal(409);
    expect((await api.post('arsiparis', '/api/v1/archive/disposals', { ids: [b.recordId] })).status).to.equal(201);
    const ba = await api.get('penandatangan', `/api/v1/archive/disposals/${disposalId}/berita-acara`);
    expect(ba.status).to.equal(200);
    expect(ba.headers['content-type']).to.equal('application/pdf');
  });

  it('destroys a registered incoming letter too: its scan leaves both stores, its page says so', async () => {
    const scan = Buffer.from('%PDF-1.4\n% pindaian surat undangan dari Kejaksaan Tinggi\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');
    const token = await env.tokenFor('agendaris');
    const reg = await supertest(env.app).post('/api/v1/incoming').set('Authorization', `Bearer ${token}`)
      .field('senderName', 'Kejaksaan Tinggi').field('subject', 'Undangan rapat koordinasi 2015').field('urgency', 'biasa')
      .field('securityClass', 'biasa').field('classificationCode', '000.1.5').attach('file', scan, 'scan.pdf');
    expect(reg.status, JSON.stringify(reg.body)).to.equal(201);
    const incomingId = String(reg.body.id);
    const rec = await env.ctx.db.selectFrom('records').select('id').where('incoming_letter_id', '=', incomingId).executeTakeFirstOrThrow();
    const sha = (await env.ctx.db.selectFrom('incoming_letters').select('pdf_sha256').where('id', '=', incomingId).executeTakeFirstOrThrow()).pdf_sha256!;
    await backupCopy(sha);
    await backdate(env, String(rec.id), '2015-02-01');
    const proposed = await api.post('arsiparis', '/api/v1/archive/disposals', { ids: [String(rec.id)] });
    expect(proposed.status, JSON.stringify(proposed.body)).to.equal(201);
    expect((await api.post('penandatangan', `/api/v1/archive/disposals/${proposed.body.id}/approve`)).status).to.equal(200);
    const done = await api.post('penandatangan', `/api/v1/archive/disposals/${proposed.body.id}/execute`, { passphrase: DEMO_PASSWORD });
    expect(done.status, JSON.stringify(done.body)).to.equal(200);
    expect(done.body.destroyed).to.deep.equal([sha]);
    expect(await env.ctx.store.stat(sha)).to.equal(null);
    expect(await env.ctx.backupStore.stat(sha)).to.equal(null);
    const clerk = await env.loginAs('agendaris');
    const page = await clerk.agent.get(`/surat-masuk/${incomingId}`);
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('Dimusnahkan').and.contain(done.body.number);
    expect((await clerk.agent.get(`/surat-masuk/${incomingId}/pdf`)).status).to.equal(410);
  });

  it('deletes again, on the next run, bytes a crash left behind after the commit', async () => {
    // As if the process died between the commit and the deletion: the row says destroyed, the bytes are back.
    await env.ctx.store.putCopy(a.pdfSha256, aPdf, 'application/pdf');
    expect(await env.ctx.store.stat(a.pdfSha256)).to.not.equal(null);
    await env.ctx.db.updateTable('disposals').set({ purged_at: null }).where('id', '=', disposalId).execute();
    expect(await purgeDestroyed(env.ctx)).to.be.greaterThan(0);
    expect(await env.ctx.store.stat(a.pdfSha256)).to.equal(null);
    const d = await env.ctx.db.selectFrom('disposals').select('purged_at').where('id', '=', disposalId).executeTakeFirstOrThrow();
    expect(d.purged_at).to.not.equal(null);
  });
});
