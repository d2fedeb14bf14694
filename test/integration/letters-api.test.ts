import { expect } from 'chai';
import { startTestEnv, snapshotCounts, type TestEnv, bearerClient } from '../support/harness.js';
import { TRANSITIONS, LETTER_STATES } from '../../server/modules/letters/state.js';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

describe('letters API: drafting and the approval chain', () => {
  let env: TestEnv;
  const tokens: Record<string, string> = {};
  const as = (who: string) => bearerClient(env.app, tokens[who]);
  const draft = {
    kind: 'SD',
    subject: 'Undangan Rapat Koordinasi SPBE',
    urgency: 'segera',
    securityClass: 'biasa',
    classificationCode: '000.1.5',
    to: [{ unit: 'DISDIK' }, { external: { name: 'Kepala Dinas Kominfo Kabupaten Contoh', email: 'kominfo@contoh.go.id' } }],
    cc: [{ user: 'pemeriksa2' }],
    signer: 'penandatangan',
    body: '<p>Dengan hormat, kami mengundang Bapak/Ibu untuk hadir.</p><ol><li>Hari: Senin</li><li>Tempat: Ruang Rapat</li></ol>',
  };

  before(async () => {
    env = await startTestEnv();
    for (const u of ['konseptor', 'pemeriksa1', 'pemeriksa2', 'penandatangan', 'staf2', 'staf1']) tokens[u] = await env.tokenFor(u);
  });
  after(() => env.close());

  it('lists kinds and classification codes', async () => {
    const kinds = await as('konseptor').get('/api/v1/letter-kinds');
    expect(kinds.body.items.map((k: { code: string }) => k.code)).to.include.members(['SD', 'ND', 'SE', 'KEP', 'ST']);
    const codes = await as('konseptor').get('/api/v1/classification-codes');
    expect(codes.body.items).to.have.length(199);
    expect(codes.body.items.find((c: { code: string }) => c.code === '000.1.5')).to.include({ retentionActiveYears: 2, retentionInactiveYears: 4, finalFate: 'musnah' });
  });

  it('runs the whole chain: draft, return with note, revise, paraf x2, waits for the signer', async () => {
    const created = await as('konseptor').post('/api/v1/letters').send(draft);
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const id = created.body.id;
    expect(created.body).to.include({ state: 'draft', number: null, version: 1 });
    expect(created.body.versionSha256).to.match(/^[0-9a-f]{64}$/);

    const att = await as('konseptor').post(`/api/v1/letters/${id}/attachments`).attach('file', PDF, 'kak.pdf');
    expect(att.status, JSON.stringify(att.body)).to.equal(201);
    expect(att.body.letter.version).to.equal(2);
    expect(att.body.letter.attachments[0]).to.include({ filename: 'kak.pdf', contentType: 'application/pdf' });

    const submitted = await as('konseptor').post(`/api/v1/letters/${id}/submit`).send({});
    expect(submitted.body.state).to.equal('in_review');

    // pemeriksa2 is second in line: refused, nothing changed.
    const early = await as('pemeriksa2').post(`/api/v1/letters/${id}/approve`).send({ version: 2 });
    expect(early.status).to.equal(403);
    expect(early.body.error.message).to.contain('tidak menunggu tindakan Anda');

    const inbox1 = await as('pemeriksa1').get('/api/v1/inbox?box=action');
    expect(inbox1.body.items.map((l: { id: string }) => l.id)).to.include(id);

    const returned = await as('pemeriksa1').post(`/api/v1/letters/${id}/return`).send({ note: 'Mohon lengkapi waktu rapat.' });
    expect(returned.status).to.equal(200);
    expect(returned.body.state).to.equal('returned');

    const revised = await as('konseptor').put(`/api/v1/letters/${id}`).send({ version: 2, body: draft.body + '<p>Waktu: pukul 09.00 WIB.</p>' });
    expect(revised.status, JSON.stringify(revised.body)).to.equal(200);
    expect(revised.body.version).to.equal(3);
    await as('konseptor').post(`/api/v1/letters/${id}/submit`).send({}).expect(200);

    const stale = await as('pemeriksa1').post(`/api/v1/letters/${id}/approve`).send({ version: 2 });
    expect(stale.status).to.equal(409);
    const p1 = await as('pemeriksa1').post(`/api/v1/letters/${id}/approve`).send({ version: 3 });
    expect(p1.body.state).to.equal('in_review');
    const p2 = await as('pemeriksa2').post(`/api/v1/letters/${id}/approve`).send({ version: 3 });
    expect(p2.body.state).to.equal('approved');

    const signerInbox = await as('penandatangan').get('/api/v1/inbox?box=action');
    expect(signerInbox.body.items.map((l: { id: string }) => l.id)).to.include(id);

    const entries = await env.ctx.db.selectFrom('audit_log').select(['action', 'actor_name', 'doc_sha256']).where('object_type', '=', 'letter').where('object_id', '=', id).orderBy('seq').execute();
    expect(entries.map((e) => e.action)).to.deep.equal(['letter.created', 'letter.attachment_added', 'letter.submitted', 'letter.returned', 'letter.version_saved', 'letter.submitted', 'letter.approved', 'letter.approved']);
    const v3 = p2.body.versionSha256;
    expect(entries.filter((e) => e.action === 'letter.approved').every((e) => e.doc_sha256 === v3)).to.equal(true);
    expect(p2.body.approvals.filter((a: { round: number }) => a.round === 2).map((a: { actor: string; action: string }) => `${a.actor}:${a.action}`)).to.deep.equal(['pemeriksa1:approved', 'pemeriksa2:approved']);
  });

  it('refuses editing after submission and hides letters from the uninvolved', async () => {
    const id = (await as('konseptor').post('/api/v1/letters').send(draft)).body.id;
    await as('konseptor').post(`/api/v1/letters/${id}/submit`).send({}).expect(200);
    const before = await snapshotCounts(env.ctx, ['letter_versions']);
    const edit = await as('konseptor').put(`/api/v1/letters/${id}`).send({ version: 1, subject: 'Diubah' });
    expect(edit.status).to.equal(409);
    expect(edit.body.error.message).to.equal('Naskah ini sedang dalam proses dan tidak dapat diubah.');
    expect(await snapshotCounts(env.ctx, ['letter_versions'])).to.deep.equal(before);
    const other = await as('staf2').get(`/api/v1/letters/${id}`);
    expect(other.status).to.equal(404);
    const otherApprove = await as('staf2').post(`/api/v1/letters/${id}/approve`).send({ version: 1 });
    expect(otherApprove.status).to.equal(404);
  });

  it('gives the second of two concurrent saves a conflict and keeps the first', async () => {
    const id = (await as('konseptor').post('/api/v1/letters').send(draft)).body.id;
    const a = await as('konseptor').put(`/api/v1/letters/${id}`).send({ version: 1, subject: 'Perubahan A' });
    const b = await as('konseptor').put(`/api/v1/letters/${id}`).send({ version: 1, subject: 'Perubahan B' });
    expect(a.status).to.equal(200);
    expect(b.status).to.equal(409);
    expect(b.body.error.message).to.contain('versi 2');
    const now = await as('konseptor').get(`/api/v1/letters/${id}`);
    expect(now.body.subject).to.equal('Perubahan A');
  });

  it('stores script in any field as inert text and sanitises the body', async () => {
    const res = await as('konseptor').post('/api/v1/letters').send({ ...draft, subject: '<script>alert(1)</script>', body: '<p onclick="x()">Halo<script>alert(1)</script><img src=x onerror=alert(1)></p>' });
    expect(res.status).to.equal(201);
    expect(res.body.subject).to.equal('<script>alert(1)</script>');
    expect(res.body.body).to.equal('<p>Halo</p>');
  });

  it('refuses a file whose content does not match its name, and an unknown type', async () => {
    const id = (await as('konseptor').post('/api/v1/letters').send(draft)).body.id;
    const before = await snapshotCounts(env.ctx, ['letter_attachments', 'objects', 'letter_versions']);
    const fake = await as('konseptor').post(`/api/v1/letters/${id}/attachments`).attach('file', Buffer.from('MZ this is an exe'), 'laporan.pdf');
    expect(fake.status).to.equal(400);
    expect(fake.body.error.message).to.equal('Isi berkas tidak sesuai dengan namanya (.pdf).');
    const exe = await as('konseptor').post(`/api/v1/letters/${id}/attachments`).attach('file', Buffer.from('MZ'), 'setup.exe');
    expect(exe.status).to.equal(400);
    expect(await snapshotCounts(env.ctx, ['letter_attachments', 'objects', 'letter_versions'])).to.deep.equal(before);
  });

  it('refuses bad input with field details', async () => {
    const res = await as('konseptor').post('/api/v1/letters').send({ ...draft, urgency: 'kilat', to: [{ nobody: 1 }] });
    expect(res.status).to.equal(400);
    expect(res.body.error.details.map((d: { field: string }) => d.field)).to.include.members(['urgency', 'to.0']);
    const signer = await as('konseptor').post('/api/v1/letters').send({ ...draft, signer: 'staf1' });
    expect(signer.status).to.equal(400);
    expect(signer.body.error.message).to.contain('tidak berwenang');
  });

  it('has a transition table that only names known states', () => {
    for (const t of TRANSITIONS) {
      expect(LETTER_STATES).to.include(t.from);
      expect(LETTER_STATES).to.include(t.to);
    }
  });
});
