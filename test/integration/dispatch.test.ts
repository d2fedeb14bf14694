// Dispatch end to end: a signed letter reaches its internal readers (Surat Masuk
// with an agenda number per receiving unit, read receipts the sender sees),
// queues an outbound message per external e-mail addressee, and is dispatched
// once only. The agendaris registers a paper letter with its scan.
import { expect } from 'chai';
import { sql } from 'kysely';
import { startTestEnv, snapshotCounts, DEMO_PASSWORD, type TestEnv, type LoggedInAgent, bearerClient, scanPdf } from '../support/harness.js';
import { dispatchLetter, dispatchPending } from '../../server/modules/dispatch/service.js';

const AGENDA = (unit: string) => new RegExp(`^\\d+/AG/${unit}/20\\d\\d$`);
const TABLES = ['incoming_letters', 'deliveries', 'outbound_messages', 'notifications', 'issued_numbers', 'audit_log'];

describe('dispatch: a signed letter reaches its readers', function () {
  this.timeout(120_000);
  let env: TestEnv;
  const tokens: Record<string, string> = {};
  const pages: Record<string, LoggedInAgent> = {};
  const as = (who: string) => bearerClient(env.app, tokens[who]);
  const subject = 'Permintaan Data Aplikasi Sekolah';
  let letterId: string;

  before(async () => {
    env = await startTestEnv();
    for (const u of ['konseptor', 'pemeriksa1', 'pemeriksa2', 'penandatangan', 'staf1', 'staf2', 'staf3', 'agendaris', 'auditor', 'admin', 'arsiparis']) tokens[u] = await env.tokenFor(u);
    for (const u of ['staf3', 'konseptor']) pages[u] = await env.loginAs(u);
    // To two units (their heads: staf3 at Seksi Kurikulum, pemeriksa1 at Seksi Pengembangan Aplikasi),
    // a unit whose head's post is vacant (Bidang Persandian), copied to staf2, and to one outside addressee by e-mail.
    const created = await as('konseptor').post('/api/v1/letters').send({
      kind: 'SD', subject, urgency: 'segera', securityClass: 'biasa', classificationCode: '000.1.5', signer: 'penandatangan',
      to: [{ unit: 'DISDIK.SMA.KUR' }, { unit: 'DKIS.APTIKA.PA' }, { unit: 'DKIS.SANDI' }, { external: { name: 'Dinas Kominfo Kabupaten Contoh', email: 'kominfo@contoh.go.id' } }],
      cc: [{ user: 'staf2' }],
      body: '<p>Mohon data aplikasi sekolah.</p>',
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    letterId = created.body.id;
    await as('konseptor').post(`/api/v1/letters/${letterId}/submit`).send({}).expect(200);
    await as('pemeriksa1').post(`/api/v1/letters/${letterId}/approve`).send({ version: 1 }).expect(200);
    await as('pemeriksa2').post(`/api/v1/letters/${letterId}/approve`).send({ version: 1 }).expect(200);
    const signed = await as('penandatangan').post(`/api/v1/letters/${letterId}/sign`).send({ passphrase: DEMO_PASSWORD });
    expect(signed.status, JSON.stringify(signed.body)).to.equal(200);
  });
  after(async () => env?.close());

  it('is dispatched right after signing: one incoming letter per receiving unit, each with an agenda number from its series', async () => {
    expect((await as('konseptor').get(`/api/v1/letters/${letterId}`)).body.state).to.equal('dispatched');
    const rows = await env.ctx.db
      .selectFrom('incoming_letters as i').innerJoin('units as n', 'n.id', 'i.unit_id')
      .select(['n.code', 'i.agenda_number', 'i.source', 'i.state', 'i.pdf_sha256']).where('i.letter_id', '=', letterId).orderBy('n.code').execute();
    // The vacant unit receives it too (numbered, nobody to deliver to yet): whoever takes the post finds it.
    expect(rows.map((r) => r.code)).to.deep.equal(['DISDIK.SMA.KUR', 'DKIS.APTIKA.PA', 'DKIS.APTIKA.TKE', 'DKIS.SANDI']);
    expect(rows[0].agenda_number).to.match(AGENDA('DISDIK'));
    for (const r of rows.slice(1)) expect(r.agenda_number).to.match(AGENDA('DKIS'));
    expect(new Set(rows.map((r) => r.agenda_number)).size).to.equal(4);
    const sig = await env.ctx.db.selectFrom('letter_signatures').select('pdf_sha256').where('letter_id', '=', letterId).executeTakeFirstOrThrow();
    for (const r of rows) expect(r).to.include({ source: 'internal', state: 'registered', pdf_sha256: sig.pdf_sha256 });
  });

  it('shows it, unread and bold, in each internal recipient\'s Surat Masuk, with a notification', async () => {
    for (const who of ['staf3', 'pemeriksa1', 'staf2']) {
      const list = await as(who).get('/api/v1/incoming').expect(200);
      const mine = list.body.items.filter((i: { letterId: string }) => i.letterId === letterId);
      expect(mine, who).to.have.length(1);
      expect(mine[0]).to.include({ subject, unread: true, source: 'internal' });
    }
    const page = await pages.staf3.agent.get('/surat-masuk').expect(200);
    expect(page.text).to.contain(`<strong>${subject}</strong>`);
    expect(page.text).to.match(/data-count="incoming">1</);
    const notified = await env.ctx.db.selectFrom('notifications as n').innerJoin('users as u', 'u.id', 'n.user_id').select('u.username').where('n.letter_id', '=', letterId).where('n.kind', '=', 'incoming').orderBy('u.username').execute();
    expect(notified.map((n) => n.username)).to.deep.equal(['pemeriksa1', 'staf2', 'staf3']);
    // The DKIS agendaris sees what DKIS's units received (numbered in DKIS's agenda), not Dinas Pendidikan's.
    const registry = (await as('agendaris').get('/api/v1/incoming').expect(200)).body.items.filter((i: { letterId: string }) => i.letterId === letterId);
    expect(registry.map((i: { agendaNumber: string }) => i.agendaNumber).every((n: string) => AGENDA('DKIS').test(n))).to.equal(true);
    expect(registry).to.have.length(3);
    // Someone it was not sent to does not see it, and gets 404 for its page.
    expect((await as('auditor').get('/api/v1/incoming').expect(200)).body.items).to.have.length(0);
    const mineId = (await as('staf3').get('/api/v1/incoming')).body.items[0].id;
    await as('auditor').get(`/api/v1/incoming/${mineId}`).expect(404);
  });

  it('records the read receipt when the recipient opens it, once, and the sender sees who read it', async () => {
    const id = (await as('staf3').get('/api/v1/incoming')).body.items[0].id;
    const page = await pages.staf3.agent.get(`/surat-masuk/${id}`).expect(200);
    expect(page.text).to.contain(subject).and.to.contain('/AG/DISDIK/');
    expect(page.text).to.contain(`/surat-masuk/${id}/pdf`);
    const pdf = await pages.staf3.agent.get(`/surat-masuk/${id}/pdf`).buffer(true).expect(200);
    expect(pdf.headers['content-type']).to.equal('application/pdf');
    await pages.staf3.agent.get(`/surat-masuk/${id}`).expect(200);
    const reads = await env.ctx.db.selectFrom('audit_log').select('actor_name').where('action', '=', 'incoming.read').where('object_id', '=', String(id)).execute();
    expect(reads.map((r) => r.actor_name)).to.deep.equal(['staf3']);
    expect((await pages.staf3.agent.get('/surat-masuk')).text).not.to.contain(`<strong>${subject}</strong>`);

    const report = await as('konseptor').get(`/api/v1/letters/${letterId}/deliveries`).expect(200);
    const byUser = Object.fromEntries(report.body.deliveries.map((d: { username: string }) => [d.username, d]));
    expect(Object.keys(byUser).sort()).to.deep.equal(['pemeriksa1', 'staf2', 'staf3']);
    expect(byUser.staf3.readAt).to.be.a('string');
    expect(byUser.staf2.readAt).to.equal(null);
    expect(byUser.staf2.role).to.equal('cc');
    const sent = await pages.konseptor.agent.get(`/surat/${letterId}/terkirim`).expect(200);
    expect(sent.text).to.contain('Fajar Nugroho').and.to.contain('Belum dibaca').and.to.contain('kominfo@contoh.go.id').and.to.contain('Antre');
    // A recipient is not the sender: no report for them.
    await as('staf3').get(`/api/v1/letters/${letterId}/deliveries`).expect(403);
  });

  it('opens the letter itself to whoever holds a disposisi of it, and to no one else', async () => {
    // staf1 moves to a post under the Kepala Seksi Kurikulum, but in the bidang above the receiving seksi:
    // neither addressed nor a member of a receiving unit.
    const kasiKur = await env.ctx.db.selectFrom('positions').select(['id']).where('code', '=', 'KASI-KUR').executeTakeFirstOrThrow();
    const bidang = await env.ctx.db.selectFrom('units').select(['id']).where('code', '=', 'DISDIK.SMA').executeTakeFirstOrThrow();
    const post = await env.ctx.db.insertInto('positions').values({ code: 'STAF-SMA', unit_id: bidang.id, title: 'Pengolah Data', superior_id: kasiKur.id, is_head: false }).returning('id').executeTakeFirstOrThrow();
    await env.ctx.db.updateTable('users').set({ position_id: post.id }).where('username', '=', 'staf1').execute();
    await as('staf1').get(`/api/v1/letters/${letterId}`).expect(404);
    const incoming = (await as('staf3').get('/api/v1/incoming')).body.items.find((i: { letterId: string }) => i.letterId === letterId);
    await as('staf3').post(`/api/v1/incoming/${incoming.id}/disposisi`).send({ to: ['staf1'], instructions: ['pelajari'] }).expect(201);
    const seen = await as('staf1').get(`/api/v1/letters/${letterId}`).expect(200);
    expect(seen.body.number).to.be.a('string');
    await as('staf1').get(`/api/v1/letters/${letterId}/pdf`).expect(200);
    await as('auditor').get(`/api/v1/letters/${letterId}`).expect(404);
  });

  it('"Balas" starts a draft prefilled with "Balasan: ..." to the sender, linked to the letter it answers', async () => {
    const id = (await as('staf3').get('/api/v1/incoming')).body.items[0].id;
    const form = await pages.staf3.agent.get(`/surat/baru?balas=${id}`).expect(200);
    expect(form.text).to.contain(`value="Balasan: ${subject}"`).and.to.contain('unit:DKIS').and.to.contain(`name="replyTo" value="${id}"`);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1];
    const res = await pages.staf3.agent.post('/surat').type('form').send({
      _csrf: csrf, replyTo: id, kind: 'ND', subject: `Balasan: ${subject}`, urgency: 'biasa', securityClass: 'biasa', classificationCode: '000.1.5',
      to: 'unit:DKIS', cc: '', signer: 'penandatangan', paper: 'A4', body: '<p>Data terlampir.</p>',
    });
    expect(res.status, res.text).to.equal(303);
    const draftId = /\/surat\/(\d+)$/.exec(res.headers.location)![1];
    const draft = await env.ctx.db.selectFrom('letters').select(['reply_to_letter_id', 'reply_to_incoming_id', 'drafter_id', 'subject']).where('id', '=', draftId).executeTakeFirstOrThrow();
    expect(String(draft.reply_to_letter_id)).to.equal(letterId);
    expect(String(draft.reply_to_incoming_id)).to.equal(String(id));
    // A received letter one cannot see cannot be answered.
    const other = await env.loginAs('pemeriksa2');
    await other.agent.get(`/surat/baru?balas=${id}`).expect(404);
  });

  it('the letter page links the sender to the "Terkirim" view', async () => {
    const page = await pages.konseptor.agent.get(`/surat/${letterId}`).expect(200);
    expect(page.text).to.contain(`href="/surat/${letterId}/terkirim"`);
  });

  it('queues one outbound e-mail for the external addressee', async () => {
    const out = await env.ctx.db.selectFrom('outbound_messages').selectAll().where('letter_id', '=', letterId).execute();
    expect(out).to.have.length(1);
    expect(out[0]).to.include({ channel: 'email', address: 'kominfo@contoh.go.id', status: 'queued', attempts: 0 });
    const report = await as('konseptor').get(`/api/v1/letters/${letterId}/deliveries`).expect(200);
    expect(report.body.outbound).to.deep.equal([{ name: 'Dinas Kominfo Kabupaten Contoh', channel: 'email', address: 'kominfo@contoh.go.id', status: 'queued', attempts: 0, lastError: null, sentAt: null }]);
  });

  it('is idempotent: dispatching again, or the start-up sweep, changes nothing', async () => {
    const before = await snapshotCounts(env.ctx, TABLES);
    expect(await dispatchLetter(env.ctx, letterId)).to.deep.equal({ dispatched: false });
    expect(await dispatchPending(env.ctx)).to.equal(0);
    expect(await snapshotCounts(env.ctx, TABLES)).to.deep.equal(before);
  });

  it('the start-up sweep dispatches a letter left signed', async () => {
    // A letter signed before a crash: signed, never dispatched.
    const { pool } = env.ctx.dbHandle;
    await pool.query(`UPDATE letters SET state = 'signed' WHERE id = $1`, [letterId]);
    await pool.query(`DELETE FROM deliveries WHERE letter_id = $1`, [letterId]);
    await pool.query(`DELETE FROM outbound_messages WHERE letter_id = $1`, [letterId]);
    await pool.query(`UPDATE letters SET reply_to_incoming_id = NULL WHERE reply_to_incoming_id IN (SELECT id FROM incoming_letters WHERE letter_id = $1)`, [letterId]);
    await pool.query(`DELETE FROM disposisi WHERE incoming_letter_id IN (SELECT id FROM incoming_letters WHERE letter_id = $1)`, [letterId]);
    await pool.query(`DELETE FROM incoming_letters WHERE letter_id = $1`, [letterId]);
    expect(await dispatchPending(env.ctx)).to.equal(1);
    expect((await as('konseptor').get(`/api/v1/letters/${letterId}`)).body.state).to.equal('dispatched');
    expect((await env.ctx.db.selectFrom('deliveries').select('id').where('letter_id', '=', letterId).execute()).length).to.equal(3);
  });

  it('reaches the Plh. of a unit whose head post is vacant, who then sees the unit\'s whole intake', async () => {
    const post = await env.ctx.db.selectFrom('positions').select('id').where('code', '=', 'KABID-SANDI').executeTakeFirstOrThrow();
    const arsiparis = await env.ctx.db.selectFrom('users').select('id').where('username', '=', 'arsiparis').executeTakeFirstOrThrow();
    const today = new Date(Date.now() + 7 * 3600e3).toISOString().slice(0, 10);
    await as('admin').post('/api/v1/delegations')
      .send({ kind: 'plh', principalPositionId: String(post.id), delegateUserId: String(arsiparis.id), legalBasis: 'Sprin 800/12/DKIS/2026', startsOn: today, endsOn: today })
      .expect(201);
    const created = await as('konseptor').post('/api/v1/letters').send({
      kind: 'SD', subject: 'Undangan Uji Keamanan', urgency: 'biasa', securityClass: 'biasa', classificationCode: '000.1.5', signer: 'penandatangan',
      to: [{ unit: 'DKIS.SANDI' }], body: '<p>Mohon hadir.</p>',
    }).expect(201);
    const id = created.body.id;
    await as('konseptor').post(`/api/v1/letters/${id}/submit`).send({}).expect(200);
    await as('pemeriksa1').post(`/api/v1/letters/${id}/approve`).send({ version: 1 }).expect(200);
    await as('pemeriksa2').post(`/api/v1/letters/${id}/approve`).send({ version: 1 }).expect(200);
    await as('penandatangan').post(`/api/v1/letters/${id}/sign`).send({ passphrase: DEMO_PASSWORD }).expect(200);
    const items = (await as('arsiparis').get('/api/v1/incoming').expect(200)).body.items;
    // Delivered to the Plh.; and as acting head the earlier letter to the unit (received while vacant) shows too.
    expect(items.filter((i: { letterId: string }) => i.letterId === id)).to.have.length(1).and.to.satisfy((l: { unread: boolean }[]) => l[0].unread);
    expect(items.some((i: { letterId: string }) => i.letterId === letterId)).to.equal(true);
    await as('arsiparis').get(`/api/v1/letters/${id}`).expect(200);
  });

  describe('a paper letter registered by the agendaris', () => {
    it('gets an agenda number from the incoming series and goes to the unit head', async () => {
      const res = await as('agendaris').post('/api/v1/incoming')
        .field('senderName', 'Kementerian Komunikasi dan Digital')
        .field('senderNumber', 'B-123/DJAI/2026')
        .field('senderDate', '2026-11-20')
        .field('subject', 'Undangan Sosialisasi SPBE')
        .field('urgency', 'segera')
        .field('securityClass', 'biasa')
        .field('classificationCode', '000.1.5')
        .attach('file', await scanPdf('Undangan Sosialisasi'), 'scan.pdf');
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body).to.include({ source: 'paper', state: 'registered', subject: 'Undangan Sosialisasi SPBE' });
      expect(res.body.agendaNumber).to.match(AGENDA('DKIS'));
      const head = (await as('penandatangan').get('/api/v1/incoming').expect(200)).body.items;
      expect(head.map((i: { id: string }) => i.id)).to.include(res.body.id);
      expect(head.find((i: { id: string }) => i.id === res.body.id).unread).to.equal(true);
      const issued = await env.ctx.db.selectFrom('issued_numbers as n').innerJoin('number_series as s', 's.id', 'n.series_id').select(['s.scope', 'n.number']).where('n.number', '=', res.body.agendaNumber).execute();
      expect(issued).to.deep.equal([{ scope: 'incoming', number: res.body.agendaNumber }]);

      // "Balas" on the paper letter: addressed to its sender, and the draft records what it answers.
      const head2 = await env.loginAs('penandatangan');
      const form = await head2.agent.get(`/surat/baru?balas=${res.body.id}`).expect(200);
      expect(form.text).to.contain('value="Balasan: Undangan Sosialisasi SPBE"').and.to.contain('Kementerian Komunikasi dan Digital');
      const reply = await head2.agent.post('/surat').type('form').send({
        _csrf: /name="_csrf" value="([^"]+)"/.exec(form.text)![1], replyTo: res.body.id, kind: 'SD', subject: 'Balasan: Undangan Sosialisasi SPBE', urgency: 'biasa',
        securityClass: 'biasa', classificationCode: '000.1.5', to: 'Kementerian Komunikasi dan Digital', cc: '', signer: 'penandatangan', paper: 'A4', body: '<p>Kami hadir.</p>',
      });
      expect(reply.status, reply.text).to.equal(303);
      const draftId = /\/surat\/(\d+)$/.exec(reply.headers.location)![1];
      const draft = await env.ctx.db.selectFrom('letters').select(['reply_to_incoming_id', 'reply_to_letter_id']).where('id', '=', draftId).executeTakeFirstOrThrow();
      expect(draft).to.deep.equal({ reply_to_incoming_id: String(res.body.id), reply_to_letter_id: null });
    });

    it('refuses a scan that is not what its name says, and anyone but an agendaris, changing nothing', async () => {
      const before = await snapshotCounts(env.ctx, TABLES);
      const fake = await as('agendaris').post('/api/v1/incoming').field('senderName', 'X').field('subject', 'Y').field('urgency', 'biasa').field('securityClass', 'biasa')
        .attach('file', Buffer.from('not a pdf at all'), 'scan.pdf');
      expect(fake.status).to.equal(400);
      const missing = await as('agendaris').post('/api/v1/incoming').field('senderName', 'X').field('subject', 'Y').field('urgency', 'biasa').field('securityClass', 'biasa');
      expect(missing.status).to.equal(400);
      const staff = await as('staf2').post('/api/v1/incoming').field('senderName', 'X').field('subject', 'Y').field('urgency', 'biasa').field('securityClass', 'biasa')
        .attach('file', await scanPdf('x'), 'scan.pdf');
      expect(staff.status).to.equal(403);
      // The refusal itself is audited (auth.forbidden); nothing else changed.
      expect(await snapshotCounts(env.ctx, TABLES)).to.deep.equal({ ...before, audit_log: before.audit_log + 1 });
    });

    it('records in the audit trail each opening of a Rahasia scan', async () => {
      const res = await as('agendaris').post('/api/v1/incoming').field('senderName', 'Kejaksaan Tinggi').field('subject', 'Permintaan Keterangan')
        .field('urgency', 'segera').field('securityClass', 'rahasia').attach('file', await scanPdf('R'), 'r.pdf').expect(201);
      const shown = await as('penandatangan').get(`/api/v1/incoming/${res.body.id}`).expect(200);
      await as('penandatangan').get(shown.body.pdf).expect(200).expect('content-type', 'application/pdf');
      await as('staf3').get(shown.body.pdf).expect(404);
      // The page (API GET) and the scan are each one read; the refused staf3 leaves none.
      const reads = await env.ctx.db.selectFrom('audit_log').select(['actor_name', 'object_type', sql<string>`details->>'read'`.as('read')]).where('action', '=', 'letter.read_restricted').where('object_id', '=', res.body.id).orderBy('seq').execute();
      expect(reads).to.deep.equal([{ actor_name: 'penandatangan', object_type: 'incoming_letter', read: 'page' }, { actor_name: 'penandatangan', object_type: 'incoming_letter', read: 'scan' }]);
    });

    it('the registration form works in the browser', async () => {
      const page = await env.loginAs('agendaris');
      const form = await page.agent.get('/surat-masuk/baru').expect(200);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1] ?? (await page.csrf());
      const res = await page.agent.post(`/surat-masuk?_csrf=${encodeURIComponent(csrf)}`)
        .field('senderName', 'Universitas Sukamaju').field('subject', 'Permohonan Magang').field('urgency', 'biasa').field('securityClass', 'biasa')
        .attach('file', await scanPdf('Magang'), 'magang.pdf');
      expect(res.status).to.equal(303);
      const shown = await page.agent.get(res.headers.location).expect(200);
      expect(shown.text).to.contain('Permohonan Magang').and.to.match(/\d+\/AG\/DKIS\/20\d\d/);
    });
  });
});
