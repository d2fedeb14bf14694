// Case files (berkas): the archivist creates one, files records into it from
// the record's page or the API, closes and reopens it, and exports the list of
// files and a file's contents as CSV and PDF. Staff get 403 and change nothing.
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { startTestEnv, snapshotCounts, type TestEnv, type LoggedInAgent } from '../support/harness.js';
import { requireTools } from '../support/nss.js';
import { apiAs, signedRecord, type SignedRecord } from '../support/records.js';

const TABLES = ['archive_files', 'archive_file_records', 'audit_log'];

describe('berkas: case files of records', function () {
  this.timeout(120_000);
  let env: TestEnv;
  let api: ReturnType<typeof apiAs>;
  const pages: Record<string, LoggedInAgent> = {};
  let first: SignedRecord;
  let second: SignedRecord;
  let secret: SignedRecord;
  let fileId: string;
  const post = async (who: string, url: string, fields: Record<string, string>) => pages[who].agent.post(url).type('form').send({ _csrf: await pages[who].csrf(), ...fields });
  const binary = (url: string) =>
    pages.arsiparis.agent.get(url).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
  const pdfText = (bytes: Buffer) => spawnSync('pdftotext', ['-layout', '-', '-'], { input: bytes, encoding: 'utf8' }).stdout;

  before(async function () {
    requireTools(this, 'pdftotext');
    env = await startTestEnv();
    api = apiAs(env);
    for (const u of ['arsiparis', 'staf1']) pages[u] = await env.loginAs(u);
    first = await signedRecord(env, { subject: 'Undangan rapat koordinasi SPBE' });
    second = await signedRecord(env, { subject: 'Notula rapat koordinasi SPBE' });
    secret = await signedRecord(env, { subject: 'Hasil audit keamanan persandian', securityClass: 'sangat_rahasia' });
  });
  after(() => env?.close());

  it('creates a berkas from the page; a number already used in the unit is refused with a message', async () => {
    const res = await post('arsiparis', '/arsip/berkas', { number: 'B-001/SPBE/2026', title: 'Rapat koordinasi SPBE 2026', classificationCode: '000.1.5', description: 'Undangan, notula dan daftar hadir' });
    expect(res.status).to.equal(303);
    fileId = /\/arsip\/berkas\/(\d+)$/.exec(res.headers.location)![1];
    const shown = await pages.arsiparis.agent.get(res.headers.location);
    expect(shown.text).to.contain('Berkas B-001/SPBE/2026 dibuat.').and.contain('Rapat koordinasi SPBE 2026').and.contain('Berkas ini belum berisi arsip.');
    expect((await api.get('arsiparis', '/api/v1/archive/berkas')).body.total).to.equal(1);
    const before = await snapshotCounts(env.ctx, TABLES);
    const again = await post('arsiparis', '/arsip/berkas', { number: 'B-001/SPBE/2026', title: 'Lain' });
    expect((await pages.arsiparis.agent.get(again.headers.location)).text).to.contain('sudah dipakai di unit ini');
    const badCode = await api.post('arsiparis', '/api/v1/archive/berkas', { number: 'B-002', title: 'x', classificationCode: '999.9' });
    expect(badCode.status).to.equal(400);
    expect(await snapshotCounts(env.ctx, TABLES)).to.deep.equal(before);
  });

  it('files a record from its record page ("Masukkan ke berkas"), once', async () => {
    const recordPage = await pages.arsiparis.agent.get(`/arsip/item/${first.recordId}`);
    expect(recordPage.text).to.contain('Masukkan ke berkas').and.contain(`<option value="${fileId}">B-001/SPBE/2026`);
    const res = await post('arsiparis', `/arsip/item/${first.recordId}/berkas`, { fileId });
    expect(res.status).to.equal(303);
    const after = await pages.arsiparis.agent.get(res.headers.location);
    expect(after.text).to.contain('Arsip dimasukkan ke berkas.').and.contain(`href="/arsip/berkas/${fileId}">B-001/SPBE/2026</a>`);
    const twice = await api.post('arsiparis', `/api/v1/archive/berkas/${fileId}/records`, { recordId: first.recordId });
    expect(twice.status).to.equal(409);
    const added = await api.post('arsiparis', `/api/v1/archive/berkas/${fileId}/records`, { recordId: second.recordId });
    expect(added.status).to.equal(201);
    expect(added.body.records.map((r: { number: string }) => r.number)).to.deep.equal([first.number, second.number]);
    expect((await api.post('arsiparis', `/api/v1/archive/berkas/${fileId}/records`, { recordId: '987654' })).status).to.equal(404);
  });

  it('files a record from its letter page too; a Sangat Rahasia record the archivist may not see gives 404 and nothing changes', async () => {
    const letter = await pages.arsiparis.agent.get(`/surat/${second.letterId}`);
    expect(letter.status).to.equal(200);
    expect(letter.text).to.contain('Kearsipan').and.contain('B-001/SPBE/2026').and.contain(`action="/arsip/item/${second.recordId}/tahan"`);
    const before = await snapshotCounts(env.ctx, TABLES);
    expect((await api.post('arsiparis', `/api/v1/archive/berkas/${fileId}/records`, { recordId: secret.recordId })).status).to.equal(404);
    expect((await post('arsiparis', `/arsip/item/${secret.recordId}/berkas`, { fileId })).status).to.equal(404);
    expect((await pages.arsiparis.agent.get(`/arsip/item/${secret.recordId}`)).status).to.equal(404);
    expect(await snapshotCounts(env.ctx, TABLES)).to.deep.equal(before);
  });

  it('exports the list of files and the contents as CSV and PDF', async () => {
    const list = await pages.arsiparis.agent.get('/arsip/daftar-berkas.csv');
    expect(list.text).to.contain('Nomor Berkas,Judul').and.contain('B-001/SPBE/2026,Rapat koordinasi SPBE 2026,000.1.5,');
    const contents = await pages.arsiparis.agent.get(`/arsip/berkas/${fileId}/csv`);
    expect(contents.headers['content-disposition']).to.contain('berkas-B-001_SPBE_2026.csv');
    expect(contents.text).to.contain(`1,${first.number},`).and.contain('Undangan rapat koordinasi SPBE').and.contain(`2,${second.number},`);
    const listPdf = await binary('/arsip/daftar-berkas.pdf');
    expect(listPdf.headers['content-type']).to.equal('application/pdf');
    expect(pdfText(listPdf.body as Buffer)).to.contain('DAFTAR BERKAS').and.contain('B-001/SPBE/2026').and.contain('Rapat koordinasi SPBE 2026');
    const contentPdf = await binary(`/arsip/berkas/${fileId}/pdf`);
    const text = pdfText(contentPdf.body as Buffer);
    expect(text).to.contain('DAFTAR ISI BERKAS B-001/SPBE/2026').and.contain(first.number).and.contain('Notula rapat koordinasi SPBE');
  });

  it('closes the berkas: no record goes in or out until it is reopened', async () => {
    const closed = await api.patch('arsiparis', `/api/v1/archive/berkas/${fileId}`, { closed: true });
    expect(closed.status).to.equal(200);
    expect(closed.body.closedAt).to.not.equal(null);
    const before = await snapshotCounts(env.ctx, TABLES);
    const out = await api.delete('arsiparis', `/api/v1/archive/berkas/${fileId}/records/${first.recordId}`);
    expect(out.status).to.equal(409);
    expect(out.body.error.message).to.contain('sudah ditutup');
    expect(await snapshotCounts(env.ctx, TABLES)).to.deep.equal(before);
    const reopen = await post('arsiparis', `/arsip/berkas/${fileId}`, { closed: 'false', title: 'Rapat koordinasi SPBE 2026', classificationCode: '000.1.5', description: 'Undangan, notula dan daftar hadir' });
    expect((await pages.arsiparis.agent.get(reopen.headers.location)).text).to.contain('Berkas disimpan.').and.contain('Tutup berkas');
    expect((await api.delete('arsiparis', `/api/v1/archive/berkas/${fileId}/records/${first.recordId}`)).status).to.equal(204);
    const now = await api.get('arsiparis', `/api/v1/archive/berkas/${fileId}`);
    expect(now.body.records.map((r: { id: string }) => r.id)).to.deep.equal([second.recordId]);
    const actions = (await env.ctx.db.selectFrom('audit_log').select('action').where('object_type', '=', 'berkas').orderBy('seq').execute()).map((a) => a.action);
    expect(actions).to.deep.equal(['berkas.created', 'berkas.record_added', 'berkas.record_added', 'berkas.updated', 'berkas.updated', 'berkas.record_removed']);
  });

  it('refuses staff with 403 on the berkas pages and API, and nothing changes', async () => {
    const before = await snapshotCounts(env.ctx, ['archive_files', 'archive_file_records']);
    for (const url of ['/arsip/berkas', `/arsip/berkas/${fileId}`, `/arsip/berkas/${fileId}/pdf`, '/arsip/daftar-berkas.csv']) {
      expect((await pages.staf1.agent.get(url)).status, url).to.equal(403);
    }
    expect((await post('staf1', '/arsip/berkas', { number: 'X-1', title: 'x' })).status).to.equal(403);
    expect((await post('staf1', `/arsip/berkas/${fileId}/arsip`, { recordId: first.recordId })).status).to.equal(403);
    expect((await api.post('staf1', '/api/v1/archive/berkas', { number: 'X-1', title: 'x' })).status).to.equal(403);
    expect((await api.get('staf1', `/api/v1/archive/berkas/${fileId}`)).status).to.equal(403);
    expect((await api.post('staf1', `/api/v1/archive/berkas/${fileId}/records`, { recordId: first.recordId })).status).to.equal(403);
    expect(await snapshotCounts(env.ctx, ['archive_files', 'archive_file_records'])).to.deep.equal(before);
  });
});
