import { expect } from 'chai';
import { startTestEnv, snapshotCounts, csrfFrom, type TestEnv, bearerClient } from '../support/harness.js';
import { hashPassword } from '../../server/platform/auth/passwords.js';
import { jakartaDate } from '../../server/modules/org/hierarchy.js';

const DAY = 24 * 3600 * 1000;
const day = (offset: number) => jakartaDate(new Date(Date.now() + offset * DAY));

describe('approval chains (alur persetujuan, paraf) and Plh./Plt. acting', () => {
  let env: TestEnv;
  const tokens: Record<string, string> = {};
  const as = (who: string) => bearerClient(env.app, tokens[who]);
  const draft = (kind: string, signer = 'penandatangan') => ({
    kind,
    subject: `Koordinasi pengembangan aplikasi (${kind})`,
    urgency: 'biasa',
    securityClass: 'biasa',
    classificationCode: '000.1.5',
    to: [{ unit: 'DISDIK' }],
    signer,
    body: '<p>Dengan hormat, bersama ini kami sampaikan.</p>',
  });
  const newLetter = async (kind: string, signer?: string): Promise<string> => {
    const res = await as('konseptor').post('/api/v1/letters').send(draft(kind, signer));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.id;
  };
  const submitted = async (kind: string, signer?: string) => {
    const id = await newLetter(kind, signer);
    const res = await as('konseptor').post(`/api/v1/letters/${id}/submit`).send({});
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return id;
  };
  /** The position codes of the letter's current round, in paraf order, with who added them. */
  const chainOf = async (id: string) => {
    const rows = await env.ctx.db
      .selectFrom('approval_steps as s')
      .innerJoin('letters as l', (j) => j.onRef('l.id', '=', 's.letter_id').onRef('l.review_round', '=', 's.round'))
      .innerJoin('positions as p', 'p.id', 's.position_id')
      .select(['p.code', 's.added_by_drafter'])
      .where('s.letter_id', '=', id)
      .orderBy('s.ord')
      .execute();
    return rows.map((r) => (r.added_by_drafter ? `+${r.code}` : r.code));
  };
  const userId = async (username: string) => String((await env.ctx.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirstOrThrow()).id);
  const positionId = async (code: string) => String((await env.ctx.db.selectFrom('positions').select('id').where('code', '=', code).executeTakeFirstOrThrow()).id);
  const createTemplate = async (body: Record<string, unknown>) => {
    const res = await as('admin').post('/api/v1/approval-templates').send(body);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as { id: string; positions: { code: string }[] };
  };
  const delegate = async (kind: 'plh' | 'plt', principal: string, username: string, startsOn: string, endsOn: string) => {
    const res = await as('admin').post('/api/v1/delegations').send({
      kind, principalPositionId: await positionId(principal), delegateUserId: await userId(username),
      legalBasis: `SK Kepala Dinas Nomor 800/${kind.toUpperCase()}/2026`, startsOn, endsOn,
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.id as string;
  };

  before(async () => {
    env = await startTestEnv();
    for (const u of ['admin', 'konseptor', 'pemeriksa1', 'pemeriksa2', 'penandatangan', 'staf1', 'staf2']) tokens[u] = await env.tokenFor(u);
  });
  after(() => env.close());

  describe('planning the chain', () => {
    it('runs up the drafter\'s superiors to below the signer by default: KASI-PA then KABID-APTIKA', async () => {
      const id = await submitted('SD');
      expect(await chainOf(id)).to.deep.equal(['KASI-PA', 'KABID-APTIKA']);
      const inbox = await as('pemeriksa1').get('/api/v1/inbox?box=action').expect(200);
      expect(inbox.body.items.map((l: { id: string }) => l.id)).to.include(id);
    });

    it('replaces the default with a template for kind ND and unit DKIS.APTIKA.PA; a Surat Dinas is unaffected', async () => {
      const tpl = await createTemplate({ name: 'Nota Dinas Seksi PA', kind: 'ND', unit: 'DKIS.APTIKA.PA', positions: ['KABID-APTIKA'], allowAdditional: true });
      expect(tpl.positions.map((p) => p.code)).to.deep.equal(['KABID-APTIKA']);
      const nd = await submitted('ND');
      expect(await chainOf(nd)).to.deep.equal(['KABID-APTIKA']);
      const sd = await submitted('SD');
      expect(await chainOf(sd)).to.deep.equal(['KASI-PA', 'KABID-APTIKA']);

      // The one reviewer of the template approves: it goes straight to the signer.
      const p = await as('pemeriksa2').post(`/api/v1/letters/${nd}/approve`).send({ version: 1 });
      expect(p.body.state).to.equal('approved');
    });

    it('refuses reviewers added by the drafter when the template does not allow them (400, Indonesian message)', async () => {
      await createTemplate({ name: 'Memorandum Seksi PA', kind: 'MEMO', unit: 'DKIS.APTIKA.PA', positions: ['KASI-PA', 'KABID-APTIKA'], allowAdditional: false });
      const id = await newLetter('MEMO');
      const before = await snapshotCounts(env.ctx, ['approval_steps', 'audit_log']);
      const res = await as('konseptor').post(`/api/v1/letters/${id}/submit`).send({ reviewers: ['KASI-TKE'] });
      expect(res.status).to.equal(400);
      expect(res.body.error.message).to.equal('Alur persetujuan untuk jenis naskah ini tidak mengizinkan pemeriksa tambahan.');
      expect(await snapshotCounts(env.ctx, ['approval_steps', 'audit_log'])).to.deep.equal(before);
      expect((await as('konseptor').get(`/api/v1/letters/${id}`)).body.state).to.equal('draft');
      // Without the extra reviewer the same letter goes up the template's chain.
      await as('konseptor').post(`/api/v1/letters/${id}/submit`).send({}).expect(200);
      expect(await chainOf(id)).to.deep.equal(['KASI-PA', 'KABID-APTIKA']);
    });

    it('appends the drafter\'s added reviewer after the chain when the template allows it', async () => {
      await createTemplate({ name: 'Undangan (semua unit)', kind: 'UND', positions: ['KASI-PA'], allowAdditional: true });
      const id = await newLetter('UND');
      const res = await as('konseptor').post(`/api/v1/letters/${id}/submit`).send({ reviewers: ['KASI-TKE'] });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(await chainOf(id)).to.deep.equal(['KASI-PA', '+KASI-TKE']);
    });

    it('gives a letter signed in another agency the drafter\'s superiors below the common superior', async () => {
      const hash = await hashPassword('kadisdik-rahasia-1');
      await env.ctx.db
        .insertInto('users')
        .values({ username: 'kadisdik', name: 'Dra. Ratna Sari, M.Pd.', nip: '197205051998032001', email: 'kadisdik@sukamaju.go.id', password_hash: hash, position_id: await positionId('KADIS-DISDIK'), roles: ['penandatangan'] })
        .execute();
      const id = await submitted('SD', 'kadisdik');
      expect(await chainOf(id)).to.deep.equal(['KASI-PA', 'KABID-APTIKA', 'KADIS-DKIS']);
    });
  });

  describe('acting officials (Plh./Plt.)', () => {
    it('lets a Plh. initial in the holder\'s place and a Plt. the next step, each recorded as acting for the holder', async () => {
      const plh = await delegate('plh', 'KASI-PA', 'staf2', day(-1), day(1));
      const plt = await delegate('plt', 'KABID-APTIKA', 'staf1', day(0), day(0));
      const id = await submitted('SD');

      const inbox = await as('staf2').get('/api/v1/inbox?box=action').expect(200);
      expect(inbox.body.items.map((l: { id: string }) => l.id)).to.include(id);
      const first = await as('staf2').post(`/api/v1/letters/${id}/approve`).send({ version: 1 });
      expect(first.status, JSON.stringify(first.body)).to.equal(200);
      const second = await as('staf1').post(`/api/v1/letters/${id}/approve`).send({ version: 1 });
      expect(second.body.state).to.equal('approved');

      const steps = await env.ctx.db.selectFrom('approval_steps').select(['ord', 'actor_id', 'acting_as', 'on_behalf_of_id', 'action']).where('letter_id', '=', id).orderBy('ord').execute();
      expect(steps.map((s) => ({ ...s, actor_id: String(s.actor_id), on_behalf_of_id: String(s.on_behalf_of_id) }))).to.deep.equal([
        { ord: 1, actor_id: await userId('staf2'), acting_as: 'plh', on_behalf_of_id: await userId('pemeriksa1'), action: 'approved' },
        { ord: 2, actor_id: await userId('staf1'), acting_as: 'plt', on_behalf_of_id: await userId('pemeriksa2'), action: 'approved' },
      ]);
      expect(second.body.approvals.map((a: { actor: string; actingAs: string; onBehalfOf: string }) => [a.actor, a.actingAs, a.onBehalfOf])).to.deep.equal([
        ['staf2', 'plh', 'Agus Santoso, S.Kom., M.T.'],
        ['staf1', 'plt', 'Ir. Siti Nurhaliza, M.Si.'],
      ]);
      const audit = await env.ctx.db.selectFrom('audit_log').select(['actor_name', 'details']).where('action', '=', 'letter.approved').where('object_id', '=', id).orderBy('seq').execute();
      expect(audit.map((a) => [a.actor_name, a.details.actingAs])).to.deep.equal([['staf2', 'plh'], ['staf1', 'plt']]);
      expect(audit[0].details.onBehalfOf).to.equal(await userId('pemeriksa1'));

      await as('admin').post(`/api/v1/delegations/${plh}/revoke`).expect(200);
      await as('admin').post(`/api/v1/delegations/${plt}/revoke`).expect(200);
    });

    it('does not let a delegate whose Plh. ended yesterday act', async () => {
      await delegate('plh', 'KASI-PA', 'staf2', day(-5), day(-1));
      const id = await submitted('SD');
      const res = await as('staf2').post(`/api/v1/letters/${id}/approve`).send({ version: 1 });
      expect(res.status).to.equal(404);
      const inbox = await as('staf2').get('/api/v1/inbox?box=action').expect(200);
      expect(inbox.body.items.map((l: { id: string }) => l.id)).to.not.include(id);
      const letter = await as('konseptor').get(`/api/v1/letters/${id}`);
      expect(letter.body.state).to.equal('in_review');
      expect(letter.body.approvals.every((a: { action: string | null }) => a.action === null)).to.equal(true);
    });

    it('does not let a delegate act once the Plh. is revoked', async () => {
      const plh = await delegate('plh', 'KASI-PA', 'staf2', day(-1), day(3));
      const id = await submitted('SD');
      await as('admin').post(`/api/v1/delegations/${plh}/revoke`).expect(200);
      const res = await as('staf2').post(`/api/v1/letters/${id}/approve`).send({ version: 1 });
      expect(res.status).to.equal(404);
      expect((await as('konseptor').get(`/api/v1/letters/${id}`)).body.state).to.equal('in_review');
    });
  });

  describe('returning, withdrawing and cancelling', () => {
    it('lets the signer return an approved letter to the drafter with a note', async () => {
      const id = await submitted('SD');
      await as('pemeriksa1').post(`/api/v1/letters/${id}/approve`).send({ version: 1 }).expect(200);
      await as('pemeriksa2').post(`/api/v1/letters/${id}/approve`).send({ version: 1 }).expect(200);
      const res = await as('penandatangan').post(`/api/v1/letters/${id}/return`).send({ note: 'Mohon tambahkan dasar hukum.' });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.state).to.equal('returned');
      const inbox = await as('konseptor').get('/api/v1/inbox?box=drafts').expect(200);
      expect(inbox.body.items.map((l: { id: string }) => l.id)).to.include(id);
    });

    it('lets the drafter withdraw before any paraf, but not after', async () => {
      const id = await submitted('SD');
      const back = await as('konseptor').post(`/api/v1/letters/${id}/withdraw`).send({});
      expect(back.status).to.equal(200);
      expect(back.body.state).to.equal('draft');
      await as('konseptor').post(`/api/v1/letters/${id}/submit`).send({}).expect(200);
      await as('pemeriksa1').post(`/api/v1/letters/${id}/approve`).send({ version: 1 }).expect(200);
      const late = await as('konseptor').post(`/api/v1/letters/${id}/withdraw`).send({});
      expect(late.status).to.equal(409);
      expect(late.body.error.message).to.equal('Naskah sudah diparaf pada putaran ini dan tidak dapat ditarik kembali.');
      expect((await as('konseptor').get(`/api/v1/letters/${id}`)).body.state).to.equal('in_review');
    });

    it('needs a reason to cancel', async () => {
      const id = await newLetter('SD');
      const none = await as('konseptor').post(`/api/v1/letters/${id}/cancel`).send({});
      expect(none.status).to.equal(400);
      const blank = await as('konseptor').post(`/api/v1/letters/${id}/cancel`).send({ reason: '   ' });
      expect(blank.status).to.equal(400);
      expect((await as('konseptor').get(`/api/v1/letters/${id}`)).body.state).to.equal('draft');
      const ok = await as('konseptor').post(`/api/v1/letters/${id}/cancel`).send({ reason: 'Rapat ditunda.' });
      expect(ok.body.state).to.equal('cancelled');
    });
  });

  describe('administering templates and kinds', () => {
    it('refuses a template to a non-administrator (403) and changes nothing', async () => {
      const before = await snapshotCounts(env.ctx, ['approval_templates']);
      const res = await as('pemeriksa1').post('/api/v1/approval-templates').send({ name: 'Tidak boleh', kind: 'SD', positions: ['KASI-PA'] });
      expect(res.status).to.equal(403);
      await as('pemeriksa1').get('/api/v1/approval-templates').expect(403);
      const { agent } = await env.loginAs('pemeriksa1');
      await agent.get('/admin/alur-persetujuan').expect(403);
      await agent.get('/admin/jenis-naskah').expect(403);
      expect(await snapshotCounts(env.ctx, ['approval_templates'])).to.deep.equal(before);
    });

    it('refuses bad templates with 400 and Indonesian field messages', async () => {
      const before = await snapshotCounts(env.ctx, ['approval_templates', 'audit_log']);
      const refuse = async (body: Record<string, unknown>) => {
        const res = await as('admin').post('/api/v1/approval-templates').send({ name: 'Uji', kind: 'SE', ...body });
        expect(res.status, JSON.stringify(res.body)).to.equal(400);
        return res.body.error as { message: string; details: { field: string; message: string }[] };
      };
      expect((await refuse({ positions: [] })).details).to.deep.equal([{ field: 'positions', message: 'Isi paling sedikit satu jabatan pemeriksa.' }]);
      expect((await refuse({ positions: ['KASI-PA', 'KASI-PA'] })).details[0].message).to.equal('Jabatan KASI-PA tercantum lebih dari sekali.');
      expect((await refuse({ positions: ['TIDAK-ADA'] })).message).to.equal('Jabatan TIDAK-ADA tidak dikenal atau nonaktif.');
      expect((await refuse({ kind: '', positions: ['KASI-PA'] })).details.map((d) => d.field)).to.deep.equal(['kind', 'unit']);
      expect((await refuse({ kind: 'XX', positions: ['KASI-PA'] })).details[0]).to.deep.equal({ field: 'kind', message: 'Jenis naskah tidak dikenal atau nonaktif.' });
      expect((await refuse({ unit: 'NOPE', positions: ['KASI-PA'] })).details[0].field).to.equal('unit');
      expect((await refuse({ name: '', positions: ['KASI-PA'] })).details[0]).to.deep.equal({ field: 'name', message: 'Nama wajib diisi, paling banyak 200 karakter.' });
      expect(await snapshotCounts(env.ctx, ['approval_templates', 'audit_log'])).to.deep.equal(before);

      const twin = await as('admin').post('/api/v1/approval-templates').send({ name: 'Kembar', kind: 'ND', unit: 'DKIS.APTIKA.PA', positions: ['KASI-PA'] });
      expect(twin.status).to.equal(409);
      expect(twin.body.error.message).to.contain('Nota Dinas Seksi PA');
    });

    it('deactivates a template: letters go back to the default chain, and the change is audited', async () => {
      const list = await as('admin').get('/api/v1/approval-templates').expect(200);
      const nd = list.body.items.find((t: { name: string }) => t.name === 'Nota Dinas Seksi PA');
      const res = await as('admin').patch(`/api/v1/approval-templates/${nd.id}`).send({ active: false });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.active).to.equal(false);
      const id = await submitted('ND');
      expect(await chainOf(id)).to.deep.equal(['KASI-PA', 'KABID-APTIKA']);
      const entry = await env.ctx.db.selectFrom('audit_log').select(['actor_name', 'details']).where('action', '=', 'approval.template_updated').where('object_id', '=', nd.id).executeTakeFirstOrThrow();
      expect(entry.actor_name).to.equal('admin');
      expect(entry.details.changes).to.deep.equal({ active: { from: true, to: false } });
    });

    it('lets the administrator build a chain on the page from position codes, one per line, in order', async () => {
      const { agent } = await env.loginAs('admin');
      const page = await agent.get('/admin/alur-persetujuan').expect(200);
      expect(page.text).to.contain('<datalist id="position-codes">');
      const res = await agent.post('/admin/alur-persetujuan').type('form').send({
        _csrf: csrfFrom(page.text), name: 'Surat Edaran Bidang Aptika', kind: 'SE', unit: '', positions: 'KABID-APTIKA\r\n  KASI-TKE \r\n\r\n', allowAdditional: '1',
      });
      expect(res.status).to.equal(303);
      const list = await agent.get('/admin/alur-persetujuan').expect(200);
      expect(list.text).to.contain('Alur persetujuan &#34;Surat Edaran Bidang Aptika&#34; ditambahkan.');
      const row = list.text.slice(list.text.indexOf('Surat Edaran Bidang Aptika</a>'));
      expect(row.indexOf('Kepala Bidang Aplikasi Informatika')).to.be.lessThan(row.indexOf('Kepala Seksi Tata Kelola E-Government'));

      const id = /href="\/admin\/alur-persetujuan\/(\d+)">Surat Edaran Bidang Aptika</.exec(list.text)![1];
      const edit = await agent.get(`/admin/alur-persetujuan/${id}`).expect(200);
      expect(edit.text).to.contain('KABID-APTIKA\nKASI-TKE</textarea>');
      const saved = await agent.post(`/admin/alur-persetujuan/${id}`).type('form').send({ _csrf: csrfFrom(edit.text), name: 'Surat Edaran Bidang Aptika', kind: 'SE', unit: '', positions: 'KASI-TKE\nKABID-APTIKA', allowAdditional: '1', active: '1' });
      expect(saved.status).to.equal(303);
      const api = await as('admin').get(`/api/v1/approval-templates/${id}`).expect(200);
      expect(api.body.positions.map((p: { code: string }) => p.code)).to.deep.equal(['KASI-TKE', 'KABID-APTIKA']);

      const bad = await agent.post('/admin/alur-persetujuan').type('form').send({ _csrf: csrfFrom(list.text), name: 'Salah', kind: 'KEP', unit: '', positions: 'KASI-PA\nBUKAN-JABATAN' });
      expect(bad.status).to.equal(400);
      expect(bad.text).to.contain('Jabatan BUKAN-JABATAN tidak dikenal atau nonaktif.');
      expect(bad.text).to.contain('KASI-PA\nBUKAN-JABATAN</textarea>');
    });

    it('lists kinds of letter with readable signer rules and saves an edit with its audit entry', async () => {
      const { agent } = await env.loginAs('admin');
      const list = await agent.get('/admin/jenis-naskah').expect(200);
      expect(list.text).to.contain('Kepala Perangkat Daerah');
      expect(list.text).to.contain('Kepala Daerah (Gubernur/Bupati/Wali Kota)');
      const form = await agent.get('/admin/jenis-naskah/TS').expect(200);
      const res = await agent.post('/admin/jenis-naskah/TS').type('form').send({ _csrf: csrfFrom(form.text), name: 'Telaahan Staf', scope: 'internal', signerRule: 'pejabat', sortOrder: '195', active: '1' });
      expect(res.status).to.equal(303);
      const kinds = await as('konseptor').get('/api/v1/letter-kinds').expect(200);
      expect(kinds.body.items.find((k: { code: string }) => k.code === 'TS').needsAddressees).to.equal(false);
      const entry = await env.ctx.db.selectFrom('audit_log').select('details').where('action', '=', 'letter.kind_updated').where('object_id', '=', 'TS').executeTakeFirstOrThrow();
      expect(entry.details).to.deep.equal({ code: 'TS', changes: { needsAddressees: { from: true, to: false }, sortOrder: { from: 190, to: 195 } } });

      const bad = await agent.post('/admin/jenis-naskah/TS').type('form').send({ _csrf: csrfFrom(form.text), name: '', scope: 'galaksi', signerRule: 'pejabat', sortOrder: 'x', active: '1' });
      expect(bad.status).to.equal(400);
      expect(bad.text).to.contain('Nama wajib diisi, paling banyak 200 karakter.');
      expect(bad.text).to.contain('Isi angka 0 sampai 10000.');
    });
  });
});
