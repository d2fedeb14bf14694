// Disposisi: the unit head forwards a received letter to subordinates with
// instructions and a due date; holders forward further or report done; the tree
// shows it; the letter is done when every disposisi is. Refusals change nothing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startTestEnv, snapshotCounts, type TestEnv, type LoggedInAgent, bearerClient, scanPdf } from '../support/harness.js';
import { requireTools } from '../support/nss.js';

const TABLES = ['disposisi', 'incoming_letters', 'notifications'];

describe('disposisi: routing a received letter to completion', function () {
  this.timeout(120_000);
  let env: TestEnv;
  const tokens: Record<string, string> = {};
  let head: LoggedInAgent;
  const as = (who: string) => bearerClient(env.app, tokens[who]);
  let incomingId: string;
  let agenda: string;
  const tree = async (who = 'penandatangan') => (await as(who).get(`/api/v1/incoming/${incomingId}`).expect(200)).body;

  before(async function () {
    requireTools(this, 'pdftotext');
    env = await startTestEnv();
    for (const u of ['penandatangan', 'pemeriksa1', 'pemeriksa2', 'staf2', 'staf3', 'agendaris', 'auditor']) tokens[u] = await env.tokenFor(u);
    head = await env.loginAs('penandatangan');
    const res = await as('agendaris').post('/api/v1/incoming')
      .field('senderName', 'Badan Siber dan Sandi Negara').field('senderNumber', 'B-77/BSSN/2026').field('subject', 'Rapat Keamanan Informasi')
      .field('urgency', 'segera').field('securityClass', 'biasa').attach('file', await scanPdf('Rapat'), 'scan.pdf');
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    incomingId = res.body.id;
    agenda = res.body.agendaNumber;
  });
  after(async () => env?.close());

  it('the unit head forwards it to two staff below them, with instructions and a due date', async () => {
    // pemeriksa2 (Kepala Bidang) and staf2 (Penelaah, three levels down) are both below the Kepala Dinas.
    const res = await as('penandatangan').post(`/api/v1/incoming/${incomingId}/disposisi`).send({ to: ['pemeriksa2', 'staf2'], instructions: ['tindak_lanjuti', 'hadiri'], note: 'Mohon hadir dan laporkan.', dueDate: '2020-01-31' });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.ids).to.have.length(2);
    const t = await tree();
    expect(t.state).to.equal('disposed');
    expect(t.disposisi.map((x: { to: string }) => x.to).sort()).to.deep.equal(['pemeriksa2', 'staf2']);
    for (const x of t.disposisi) expect(x).to.include({ parentId: null, state: 'open', dueDate: '2020-01-31', overdue: true, from: 'Dr. Bambang Wijaya, S.Sos., M.Si.' });
    // Each of them now has it in Surat Masuk, unread.
    for (const who of ['pemeriksa2', 'staf2']) {
      const items = (await as(who).get('/api/v1/incoming').expect(200)).body.items;
      expect(items.find((i: { id: string }) => i.id === incomingId)).to.include({ unread: true });
    }
  });

  it('a holder forwards further down; the tree nests it under their disposisi', async () => {
    await as('pemeriksa2').post(`/api/v1/incoming/${incomingId}/disposisi`).send({ to: ['pemeriksa1'], instructions: ['pelajari'] }).expect(201);
    const t = await tree();
    const mine = t.disposisi.find((x: { to: string }) => x.to === 'pemeriksa2');
    const child = t.disposisi.find((x: { to: string }) => x.to === 'pemeriksa1');
    expect(child.parentId).to.equal(mine.id);
  });

  it('refuses a disposisi to someone outside the subordinates (403) and on a letter one cannot see (404), changing nothing', async () => {
    const before = await snapshotCounts(env.ctx, TABLES);
    // The auditor sits in the Inspektorat, not under the Kepala Bidang; penandatangan is above.
    const outside = await as('pemeriksa2').post(`/api/v1/incoming/${incomingId}/disposisi`).send({ to: ['pemeriksa1', 'auditor'] });
    expect(outside.status).to.equal(403);
    await as('pemeriksa2').post(`/api/v1/incoming/${incomingId}/disposisi`).send({ to: ['penandatangan'] }).expect(403);
    const unseen = await as('staf3').post(`/api/v1/incoming/${incomingId}/disposisi`).send({ to: ['pemeriksa1'] });
    expect(unseen.status).to.equal(404);
    await as('auditor').get(`/api/v1/incoming/${incomingId}`).expect(404);
    expect(await snapshotCounts(env.ctx, TABLES)).to.deep.equal(before);
  });

  it('holder and sender exchange a note on a disposisi; it stays open; a bystander may not', async () => {
    const mine = (await tree('staf2')).disposisi.find((x: { to: string }) => x.to === 'staf2');
    await as('staf2').post(`/api/v1/disposisi/${mine.id}/replies`).send({ note: 'Rapat pukul berapa, Pak?' }).expect(201);
    await as('penandatangan').post(`/api/v1/disposisi/${mine.id}/replies`).send({ note: 'Pukul 09.00.' }).expect(201);
    await as('pemeriksa1').post(`/api/v1/disposisi/${mine.id}/replies`).send({ note: 'x' }).expect(403);
    const after = (await tree()).disposisi.find((x: { id: string }) => x.id === mine.id);
    expect(after.state).to.equal('open');
    expect(after.replies.map((r: { note: string }) => r.note)).to.deep.equal(['Rapat pukul berapa, Pak?', 'Pukul 09.00.']);
    expect((await head.agent.get(`/surat-masuk/${incomingId}`)).text).to.contain('Rapat pukul berapa, Pak?');
  });

  it('a holder marks theirs done; the tree shows it; others stay open', async () => {
    const t0 = await tree('staf2');
    const mine = t0.disposisi.find((x: { to: string }) => x.to === 'staf2');
    // Someone else's disposisi cannot be marked done by them.
    await as('pemeriksa2').post(`/api/v1/disposisi/${mine.id}/done`).send({ note: 'bukan saya' }).expect(403);
    const done = await as('staf2').post(`/api/v1/disposisi/${mine.id}/done`).send({ note: 'Sudah hadir, notula terlampir.' });
    expect(done.status, JSON.stringify(done.body)).to.equal(200);
    expect(done.body).to.deep.equal({ incomingId, incomingDone: false });
    await as('staf2').post(`/api/v1/disposisi/${mine.id}/done`).send({ note: 'lagi' }).expect(409);
    const t = await tree();
    expect(t.disposisi.find((x: { to: string }) => x.to === 'staf2')).to.include({ state: 'done', doneNote: 'Sudah hadir, notula terlampir.', overdue: false });
    expect(t.state).to.equal('disposed');
    const page = await head.agent.get(`/surat-masuk/${incomingId}`).expect(200);
    expect(page.text).to.contain('Sudah hadir, notula terlampir.').and.to.contain('Lewat batas waktu');
    expect(page.text.match(/class="disposisi-tree"/g)).to.have.length(2);
  });

  it('prints a lembar disposisi with the agenda number, the instructions ticked and the tree', async () => {
    const res = await head.agent.get(`/surat-masuk/${incomingId}/lembar-disposisi`).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.equal('application/pdf');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-lembar-')), 'lembar.pdf');
    fs.writeFileSync(file, res.body as Buffer);
    const text = spawnSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
    expect(text).to.contain('LEMBAR DISPOSISI').and.to.contain(agenda).and.to.contain('Rapat Keamanan Informasi');
    expect(text).to.contain('[X] Tindak lanjuti').and.to.contain('[X] Hadiri').and.to.contain('[X] Pelajari');
    expect(text).to.contain('Rina Marlina').and.to.contain('Agus Santoso');
  });

  it('the letter is done when the last open disposisi is done', async () => {
    const t0 = await tree();
    for (const who of ['pemeriksa1', 'pemeriksa2']) {
      const x = t0.disposisi.find((d: { to: string }) => d.to === who);
      await as(who).post(`/api/v1/disposisi/${x.id}/done`).send({ note: 'Selesai.' }).expect(200);
    }
    expect((await tree()).state).to.equal('done');
    const audit = await env.ctx.db.selectFrom('audit_log').select('action').where('action', 'in', ['disposisi.created', 'disposisi.done']).execute();
    expect(audit.map((a) => a.action).sort()).to.deep.equal(['disposisi.created', 'disposisi.created', 'disposisi.done', 'disposisi.done', 'disposisi.done']);
  });

  it('the disposisi form on the page sends to subordinates', async () => {
    const res = await as('agendaris').post('/api/v1/incoming').field('senderName', 'Bappeda').field('subject', 'Musrenbang').field('urgency', 'biasa').field('securityClass', 'biasa').attach('file', await scanPdf('M'), 'm.pdf');
    const page = await head.agent.get(`/surat-masuk/${res.body.id}`).expect(200);
    expect(page.text).to.contain('<option value="staf2">');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
    const sent = await head.agent.post(`/surat-masuk/${res.body.id}/disposisi`).type('form').send({ _csrf: csrf, to: 'staf1, staf2', instructions: 'untuk_diketahui', note: '' });
    expect(sent.status).to.equal(303);
    const after = await head.agent.get(sent.headers.location).expect(200);
    expect(after.text).to.contain('Disposisi dikirim.').and.to.contain('Untuk diketahui');
    expect((await env.ctx.db.selectFrom('disposisi').select('id').where('incoming_letter_id', '=', res.body.id).execute()).length).to.equal(2);

    // staf1 reports theirs done on the page, with an attachment.
    const staf1 = await env.loginAs('staf1');
    const mine = await staf1.agent.get(`/surat-masuk/${res.body.id}`).expect(200);
    const action = /action="(\/disposisi\/\d+\/selesai\?_csrf=[^"]+)"/.exec(mine.text)![1].replace(/&amp;/g, '&');
    const done = await staf1.agent.post(action).field('note', 'Sudah dipelajari.').attach('file', await scanPdf('Laporan'), 'laporan.pdf');
    expect(done.status).to.equal(303);
    expect((await staf1.agent.get(done.headers.location)).text).to.contain('Disposisi ditandai selesai.').and.to.contain('Sudah dipelajari.');
    const row = await env.ctx.db.selectFrom('disposisi as x').innerJoin('users as u', 'u.id', 'x.to_user_id').select(['x.state', 'x.done_attachment_sha256']).where('u.username', '=', 'staf1').where('x.incoming_letter_id', '=', res.body.id).executeTakeFirstOrThrow();
    expect(row.state).to.equal('done');
    expect(row.done_attachment_sha256).to.match(/^[0-9a-f]{64}$/);
    // The head opens the report's attachment from the tree; someone outside gets 404.
    const link = /href="(\/disposisi\/\d+\/lampiran)"/.exec((await head.agent.get(`/surat-masuk/${res.body.id}`)).text)![1];
    const file = await head.agent.get(link).expect(200);
    expect(file.headers['content-type']).to.equal('application/pdf');
    await (await env.loginAs('staf3')).agent.get(link).expect(404);
  });
});
