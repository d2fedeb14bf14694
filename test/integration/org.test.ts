import { expect } from 'chai';
import supertest from 'supertest';
import { startTestEnv, csrfFrom, snapshotCounts, DEMO_PASSWORD, type TestEnv } from '../support/harness.js';
import { activeDelegationsFor, subordinates, superiorChain } from '../../server/modules/org/service.js';

const ORG_TABLES = ['units', 'positions', 'users', 'delegations'];

describe('organisation administration', () => {
  let env: TestEnv;
  let adminToken: string;
  before(async () => {
    env = await startTestEnv();
    adminToken = await env.tokenFor('admin');
  });
  after(() => env.close());

  const api = (token: string) => ({
    get: (path: string) => supertest(env.app).get(`/api/v1${path}`).set('Authorization', `Bearer ${token}`),
    post: (path: string, body: object = {}) => supertest(env.app).post(`/api/v1${path}`).set('Authorization', `Bearer ${token}`).send(body),
    patch: (path: string, body: object) => supertest(env.app).patch(`/api/v1${path}`).set('Authorization', `Bearer ${token}`).send(body),
  });
  const idOf = async (table: 'units' | 'positions', code: string) => String((await env.ctx.db.selectFrom(table).select('id').where('code', '=', code).executeTakeFirstOrThrow()).id);
  const userId = async (username: string) => String((await env.ctx.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirstOrThrow()).id);
  const lastAudit = (action: string) => env.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('seq', 'desc').executeTakeFirst();
  const secretOf = (html: string) => /<code class="secret" data-copy>([^<]+)<\/code>/.exec(html)?.[1];

  /** Signs in through the login form; returns where the app sends the user next. */
  async function signIn(username: string, password: string) {
    const agent = env.agent();
    const page = await agent.get('/login');
    const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), username, password });
    return { agent, res };
  }

  it('admin creates a unit through the page; it shows in the tree and in the audit trail', async () => {
    const { agent } = await env.loginAs('admin');
    const page = await agent.get('/admin/units');
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('Dinas Komunikasi, Informatika dan Statistik');
    const parentId = await idOf('units', 'DKIS.APTIKA');
    const res = await agent.post('/admin/units').type('form').send({ _csrf: csrfFrom(page.text), code: 'DKIS.APTIKA.DATA', name: 'Seksi Data dan Statistik', kind: 'seksi', parentId });
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal('/admin/units');
    const list = await agent.get('/admin/units');
    expect(list.text).to.contain('Unit kerja &#34;Seksi Data dan Statistik&#34; ditambahkan.');
    expect(list.text).to.contain('Seksi Data dan Statistik');
    const id = await idOf('units', 'DKIS.APTIKA.DATA');
    const entry = (await lastAudit('org.unit_created'))!;
    expect(entry).to.include({ actor_name: 'admin', object_type: 'unit', object_id: id });
    expect(entry.details).to.include({ code: 'DKIS.APTIKA.DATA', parentId });
    const apiList = await api(adminToken).get('/units');
    const dkis = apiList.body.items[0].children.find((u: { code: string }) => u.code === 'DKIS');
    const aptika = dkis.children.find((u: { code: string }) => u.code === 'DKIS.APTIKA');
    expect(aptika.children.map((u: { code: string }) => u.code)).to.include('DKIS.APTIKA.DATA');
  });

  it('admin creates a user through the page; the password is shown once and the user must change it', async () => {
    const { agent } = await env.loginAs('admin');
    const form = await agent.get('/admin/users/new');
    expect(form.status).to.equal(200);
    const positionId = await idOf('positions', 'PROGRAMMER-PA');
    const res = await agent.post('/admin/users').type('form').send({
      _csrf: csrfFrom(form.text), username: 'budi.santoso', name: 'Budi Santoso, S.Kom.', nip: '199801012022031001', email: 'budi@sukamaju.go.id', positionId, roles: ['konseptor', 'staf'], password: '',
    });
    expect(res.status).to.equal(303);
    const id = await userId('budi.santoso');
    expect(res.headers.location).to.equal(`/admin/users/${id}`);
    const shown = await agent.get(res.headers.location);
    const password = secretOf(shown.text);
    expect(password, 'the generated password is on the page').to.be.a('string').with.length(16);
    expect(secretOf((await agent.get(res.headers.location)).text), 'shown only once').to.equal(undefined);

    const list = await agent.get('/admin/users?q=budi');
    expect(list.text).to.contain('Budi Santoso, S.Kom.');
    expect(list.text).to.contain('budi.santoso');

    const entry = (await lastAudit('org.user_created'))!;
    expect(entry).to.include({ actor_name: 'admin', object_type: 'user', object_id: id });
    expect(entry.details).to.deep.include({ username: 'budi.santoso', roles: ['konseptor', 'staf'], passwordGenerated: true });
    expect(JSON.stringify(entry.details)).not.to.contain(password!);

    const { agent: budi, res: login } = await signIn('budi.santoso', password!);
    expect(login.status).to.equal(303);
    expect(login.headers.location).to.equal('/profile?must=1');
    expect((await budi.get('/profile?must=1')).text).to.contain('Silakan ganti kata sandi Anda sebelum melanjutkan.');
  });

  it('keeps the input and names the field when the form is refused', async () => {
    const { agent } = await env.loginAs('admin');
    const form = await agent.get('/admin/users/new');
    const before = await snapshotCounts(env.ctx, ORG_TABLES);
    const res = await agent.post('/admin/users').type('form').send({ _csrf: csrfFrom(form.text), username: 'rina.w', name: 'Rina Wulandari', nip: '12345', roles: 'staf', password: 'rahasia-sekali-1' });
    expect(res.status).to.equal(400);
    expect(res.text).to.contain('Periksa kembali isian yang ditandai.');
    expect(res.text).to.contain('NIP harus terdiri dari tepat 18 angka.');
    expect(res.text).to.contain('value="Rina Wulandari"');
    expect(res.text).to.contain('value="rina.w"');
    expect(res.text).not.to.contain('rahasia-sekali-1');
    expect(await snapshotCounts(env.ctx, ORG_TABLES)).to.deep.equal(before);
  });

  it('refuses every change by a non-admin (pages and API) with 403, changes nothing and audits it', async () => {
    const { agent, csrf } = await env.loginAs('konseptor');
    const token = await env.tokenFor('konseptor');
    const [unitId, positionId, staf1] = [await idOf('units', 'DKIS'), await idOf('positions', 'ANALIS-PA'), await userId('staf1')];
    const delegation = await api(adminToken).post('/delegations', {
      kind: 'plh', principalPositionId: await idOf('positions', 'KASI-TKE'), delegateUserId: await userId('staf2'), legalBasis: 'SK/1/2026', startsOn: '2026-01-01', endsOn: '2026-12-31',
    });
    expect(delegation.status).to.equal(201);
    const before = await snapshotCounts(env.ctx, ORG_TABLES);
    const forbiddenBefore = (await snapshotCounts(env.ctx, ['audit_log'])).audit_log;

    for (const path of ['/admin/units', `/admin/units/${unitId}`, '/admin/positions', '/admin/users', '/admin/users/new', `/admin/users/${staf1}`, '/admin/delegations']) {
      expect((await agent.get(path)).status, `GET ${path}`).to.equal(403);
    }
    const token_ = await csrf();
    const pagePosts: [string, object][] = [
      ['/admin/units', { code: 'X1', name: 'X', kind: 'seksi' }],
      [`/admin/units/${unitId}`, { code: 'DKIS', name: 'Diubah', kind: 'dinas' }],
      ['/admin/positions', { unitId, code: 'X1', title: 'X' }],
      [`/admin/positions/${positionId}`, { unitId, code: 'ANALIS-PA', title: 'Diubah' }],
      ['/admin/users', { username: 'penyusup', name: 'Penyusup', roles: 'admin', password: 'rahasia-123' }],
      [`/admin/users/${staf1}`, { name: 'Diubah', roles: 'admin' }],
      [`/admin/users/${staf1}/active`, { active: '0' }],
      [`/admin/users/${staf1}/reset-password`, {}],
      ['/admin/delegations', { kind: 'plh', principalPositionId: positionId, delegateUserId: staf1, legalBasis: 'X', startsOn: '2026-01-01', endsOn: '2026-01-02' }],
      [`/admin/delegations/${delegation.body.id}/revoke`, {}],
    ];
    for (const [path, body] of pagePosts) {
      const res = await agent.post(path).type('form').send({ _csrf: token_, ...body });
      expect(res.status, `POST ${path}`).to.equal(403);
      expect(res.text).to.contain('Anda tidak memiliki akses untuk tindakan ini.');
    }
    const apiCalls: [string, string, object][] = [
      ['post', '/units', { code: 'X1', name: 'X', kind: 'seksi' }],
      ['patch', `/units/${unitId}`, { name: 'Diubah' }],
      ['post', '/positions', { unitId, code: 'X1', title: 'X' }],
      ['patch', `/positions/${positionId}`, { title: 'Diubah' }],
      ['post', '/users', { username: 'penyusup', name: 'Penyusup', roles: ['admin'] }],
      ['patch', `/users/${staf1}`, { roles: ['admin'] }],
      ['post', `/users/${staf1}/reset-password`, {}],
      ['post', '/delegations', { kind: 'plh', principalPositionId: positionId, delegateUserId: staf1, legalBasis: 'X', startsOn: '2026-01-01', endsOn: '2026-01-02' }],
      ['post', `/delegations/${delegation.body.id}/revoke`, {}],
      ['get', '/delegations', {}],
    ];
    for (const [method, path, body] of apiCalls) {
      const c = api(token);
      const res = method === 'get' ? await c.get(path) : method === 'post' ? await c.post(path, body) : await c.patch(path, body);
      expect(res.status, `${method} ${path}`).to.equal(403);
      expect(res.body.error.code).to.equal('forbidden');
    }

    expect(await snapshotCounts(env.ctx, ORG_TABLES)).to.deep.equal(before);
    const staf = await env.ctx.db.selectFrom('users').select(['name', 'roles', 'active', 'must_change_password']).where('id', '=', staf1).executeTakeFirstOrThrow();
    expect(staf).to.deep.equal({ name: 'Yusuf Maulana, S.Kom.', roles: ['staf'], active: true, must_change_password: false });
    expect((await env.ctx.db.selectFrom('units').select('name').where('id', '=', unitId).executeTakeFirstOrThrow()).name).to.equal('Dinas Komunikasi, Informatika dan Statistik');
    expect((await env.ctx.db.selectFrom('delegations').select('revoked_at').where('id', '=', delegation.body.id).executeTakeFirstOrThrow()).revoked_at).to.equal(null);
    const refusals = await env.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'auth.forbidden').where('actor_name', '=', 'konseptor').where('seq', '>', String(forbiddenBefore)).execute();
    expect(refusals.length).to.equal(7 + pagePosts.length + apiCalls.length);
    expect(refusals.map((r) => r.details.path)).to.include(`/admin/users/${staf1}/active`);
    expect(await snapshotCounts(env.ctx, ['audit_log'])).to.deep.equal({ audit_log: forbiddenBefore + refusals.length });
  });

  it('shows a non-admin the directory only: active users, no e-mail, roles or account state', async () => {
    const token = await env.tokenFor('konseptor');
    const list = await api(token).get('/users?q=santoso');
    expect(list.status).to.equal(200);
    const agus = list.body.items.find((u: { username: string }) => u.username === 'pemeriksa1');
    expect(agus).to.deep.include({ name: 'Agus Santoso, S.Kom., M.T.' });
    expect(agus.position.title).to.equal('Kepala Seksi Pengembangan Aplikasi');
    expect(agus).to.have.all.keys('id', 'username', 'name', 'position', 'unit');
    expect((await api(token).get('/units')).status).to.equal(200);
    expect((await api(token).get('/positions')).status).to.equal(200);
  });

  it('refuses a duplicate unit code with 409 and an Indonesian message, on the API and the page', async () => {
    const before = await snapshotCounts(env.ctx, ORG_TABLES);
    const res = await api(adminToken).post('/units', { code: 'DKIS', name: 'Duplikat', kind: 'dinas' });
    expect(res.status).to.equal(409);
    expect(res.body.error).to.deep.equal({ code: 'conflict', message: 'Kode unit sudah dipakai.' });
    const { agent } = await env.loginAs('admin');
    const page = await agent.get('/admin/units');
    const form = await agent.post('/admin/units').type('form').send({ _csrf: csrfFrom(page.text), code: 'DKIS', name: 'Duplikat di halaman', kind: 'dinas' });
    expect(form.status).to.equal(409);
    expect(form.text).to.contain('Kode unit sudah dipakai.');
    expect(form.text).to.contain('value="Duplikat di halaman"');
    const dupUser = await api(adminToken).post('/users', { username: 'konseptor', name: 'Lagi', roles: ['staf'] });
    expect(dupUser.status).to.equal(409);
    expect(dupUser.body.error.message).to.equal('Nama pengguna sudah dipakai.');
    expect(await snapshotCounts(env.ctx, ORG_TABLES)).to.deep.equal(before);
  });

  it('refuses a cycle in the unit tree or the chain of superiors with 400', async () => {
    const dkis = await idOf('units', 'DKIS');
    const below = await idOf('units', 'DKIS.APTIKA.PA');
    const unitCycle = await api(adminToken).patch(`/units/${dkis}`, { parentId: below });
    expect(unitCycle.status).to.equal(400);
    expect(unitCycle.body.error.message).to.equal('Unit induk tidak boleh unit itu sendiri atau salah satu sub-unitnya.');
    expect(unitCycle.body.error.details).to.deep.equal([{ field: 'parentId', message: 'A unit cannot be placed under itself or one of its own sub-units.' }]);
    expect((await api(adminToken).patch(`/units/${dkis}`, { parentId: dkis })).status).to.equal(400);

    const kadis = await idOf('positions', 'KADIS-DKIS');
    const analis = await idOf('positions', 'ANALIS-PA');
    const posCycle = await api(adminToken).patch(`/positions/${kadis}`, { superiorId: analis });
    expect(posCycle.status).to.equal(400);
    expect(posCycle.body.error.message).to.equal('Atasan tidak boleh jabatan itu sendiri atau salah satu bawahannya.');

    const { agent } = await env.loginAs('admin');
    const page = await agent.get(`/admin/positions/${kadis}`);
    const form = await agent.post(`/admin/positions/${kadis}`).type('form').send({
      _csrf: csrfFrom(page.text), unitId: dkis, code: 'KADIS-DKIS', title: 'Kepala Dinas Komunikasi, Informatika dan Statistik', superiorId: analis, isHead: '1', active: '1',
    });
    expect(form.status).to.equal(400);
    expect(form.text).to.contain('Atasan tidak boleh jabatan itu sendiri atau salah satu bawahannya.');

    expect((await env.ctx.db.selectFrom('units').select('parent_id').where('id', '=', dkis).executeTakeFirstOrThrow()).parent_id).to.equal(await idOf('units', 'PEMPROV'));
    expect((await env.ctx.db.selectFrom('positions').select('superior_id').where('id', '=', kadis).executeTakeFirstOrThrow()).superior_id).to.equal(await idOf('positions', 'SEKDA'));
  });

  it('refuses a bad NIP, a bad username and an unknown role with 400 naming each field', async () => {
    const before = await snapshotCounts(env.ctx, ORG_TABLES);
    const res = await api(adminToken).post('/users', { username: 'Bukan Nama!', name: 'Coba', nip: '1987-03-12', roles: ['admin', 'raja'] });
    expect(res.status).to.equal(400);
    expect(res.body.error.code).to.equal('validation_failed');
    expect(res.body.error.message).to.equal('Data yang dikirim tidak valid.');
    const fields = res.body.error.details.map((d: { field: string }) => d.field.split('.')[0]);
    expect(fields).to.include.members(['username', 'nip', 'roles']);
    const patch = await api(adminToken).patch(`/users/${await userId('staf3')}`, { nip: '123' });
    expect(patch.status).to.equal(400);
    expect(patch.body.error.details[0].field).to.equal('nip');
    expect(await snapshotCounts(env.ctx, ORG_TABLES)).to.deep.equal(before);
  });

  it('an admin cannot deactivate themselves or drop their own admin role', async () => {
    const adminId = await userId('admin');
    const { agent } = await env.loginAs('admin');
    const page = await agent.get(`/admin/users/${adminId}`);
    const res = await agent.post(`/admin/users/${adminId}/active`).type('form').send({ _csrf: csrfFrom(page.text), active: '0' });
    expect(res.status).to.equal(400);
    expect(res.text).to.contain('Anda tidak dapat menonaktifkan akun Anda sendiri.');
    const viaApi = await api(adminToken).patch(`/users/${adminId}`, { active: false });
    expect(viaApi.status).to.equal(400);
    const dropRole = await api(adminToken).patch(`/users/${adminId}`, { roles: ['staf'] });
    expect(dropRole.status).to.equal(400);
    expect(dropRole.body.error.message).to.equal('Anda tidak dapat mencabut peran Administrator dari akun Anda sendiri.');
    const admin = await env.ctx.db.selectFrom('users').select(['active', 'roles']).where('id', '=', adminId).executeTakeFirstOrThrow();
    expect(admin).to.deep.equal({ active: true, roles: ['admin', 'staf'] });
  });

  it('a deactivated user cannot sign in and their API token stops working', async () => {
    const token = await env.tokenFor('arsiparis');
    const { agent: session } = await env.loginAs('arsiparis');
    expect((await api(token).get('/me')).status).to.equal(200);
    const id = await userId('arsiparis');
    const { agent } = await env.loginAs('admin');
    const page = await agent.get(`/admin/users/${id}`);
    const res = await agent.post(`/admin/users/${id}/active`).type('form').send({ _csrf: csrfFrom(page.text), active: '0' });
    expect(res.status).to.equal(303);
    expect((await agent.get(`/admin/users/${id}`)).text).to.contain('Akun dinonaktifkan.');
    expect((await api(token).get('/me')).status).to.equal(401);
    expect((await session.get('/api/v1/me')).status).to.equal(401);
    const { res: login } = await signIn('arsiparis', DEMO_PASSWORD);
    expect(login.status).to.equal(401);
    const entry = (await lastAudit('org.user_updated'))!;
    expect(entry).to.include({ actor_name: 'admin', object_id: id });
    expect(entry.details).to.deep.equal({ username: 'arsiparis', changes: { active: { from: true, to: false } } });
    // The directory no longer lists them, and their record is hidden from non-admins.
    const konseptor = await env.tokenFor('konseptor');
    expect((await api(konseptor).get(`/users/${id}`)).status).to.equal(404);
    expect((await api(adminToken).get(`/users/${id}`)).body.active).to.equal(false);
  });

  it('resets a password: shown once, must be changed, lock-out lifted, no password in the audit', async () => {
    const id = await userId('agendaris');
    const { agent: oldSession } = await env.loginAs('agendaris');
    expect((await oldSession.get('/api/v1/me')).status).to.equal(200);
    await env.ctx.db.updateTable('users').set({ failed_logins: 9, locked_until: new Date(Date.now() + 3600_000) }).where('id', '=', id).execute();
    const { agent } = await env.loginAs('admin');
    const page = await agent.get(`/admin/users/${id}`);
    expect(page.text).to.contain('Terkunci');
    const res = await agent.post(`/admin/users/${id}/reset-password`).type('form').send({ _csrf: csrfFrom(page.text) });
    expect(res.status).to.equal(303);
    const shown = await agent.get(`/admin/users/${id}`);
    const password = secretOf(shown.text)!;
    expect(password).to.have.length(16);
    expect(shown.text).not.to.contain('Terkunci');
    expect((await oldSession.get('/api/v1/me')).status).to.equal(401);
    const { res: oldPw } = await signIn('agendaris', DEMO_PASSWORD);
    expect(oldPw.status).to.equal(401);
    const { res: login } = await signIn('agendaris', password);
    expect(login.status).to.equal(303);
    expect(login.headers.location).to.equal('/profile?must=1');
    const entry = (await lastAudit('org.user_password_reset'))!;
    expect(entry).to.include({ actor_name: 'admin', object_id: id });
    const text = JSON.stringify(entry.details);
    expect(text).not.to.contain(password);
    expect(text).not.to.contain('$argon2');
    expect(Object.keys(entry.details)).to.not.include.members(['password', 'passwordHash', 'password_hash']);
    const viaApi = await api(adminToken).post(`/users/${id}/reset-password`);
    expect(viaApi.status).to.equal(200);
    expect(viaApi.body.password).to.be.a('string').with.length(16).and.not.equal(password);
  });

  it('records a delegation (Plh.) and answers who may act for a position on a given day; revoking ends it', async () => {
    const pemeriksa1 = await userId('pemeriksa1');
    const kabid = await idOf('positions', 'KABID-APTIKA');
    const bad = await api(adminToken).post('/delegations', { kind: 'plh', principalPositionId: kabid, delegateUserId: pemeriksa1, legalBasis: 'SK', startsOn: '2026-03-10', endsOn: '2026-03-01' });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.message).to.equal('Tanggal berakhir tidak boleh sebelum tanggal mulai.');

    const { agent } = await env.loginAs('admin');
    const page = await agent.get('/admin/delegations');
    const res = await agent.post('/admin/delegations').type('form').send({
      _csrf: csrfFrom(page.text), kind: 'plh', principalPositionId: kabid, delegateUserId: pemeriksa1, legalBasis: '800.1.3.3/45/DKIS/2026', startsOn: '2026-03-02', endsOn: '2026-03-13', note: 'Cuti tahunan',
    });
    expect(res.status).to.equal(303);
    const all = await agent.get('/admin/delegations?status=all');
    expect(all.text).to.contain('800.1.3.3/45/DKIS/2026');
    const created = (await lastAudit('org.delegation_created'))!;
    expect(created).to.include({ actor_name: 'admin', object_type: 'delegation' });
    expect(created.details).to.deep.include({ kind: 'plh', principal: 'KABID-APTIKA', delegate: 'pemeriksa1', legalBasis: '800.1.3.3/45/DKIS/2026' });

    const on = async (day: string) => (await activeDelegationsFor(env.ctx.db, pemeriksa1, day)).map((d) => [d.kind, d.principalPositionId]);
    expect(await on('2026-03-01')).to.deep.equal([]);
    expect(await on('2026-03-02')).to.deep.equal([['plh', kabid]]);
    expect(await on('2026-03-13')).to.deep.equal([['plh', kabid]]);
    expect(await on('2026-03-14')).to.deep.equal([]);

    const list = await api(adminToken).get('/delegations?status=all');
    const item = list.body.items.find((d: { id: string }) => d.id === created.object_id);
    expect(item).to.deep.include({ kind: 'plh', legalBasis: '800.1.3.3/45/DKIS/2026', startsOn: '2026-03-02', endsOn: '2026-03-13', note: 'Cuti tahunan' });
    expect(item.delegate.username).to.equal('pemeriksa1');

    const page2 = await agent.get('/admin/delegations?status=all');
    const revoke = await agent.post(`/admin/delegations/${item.id}/revoke`).type('form').send({ _csrf: csrfFrom(page2.text) });
    expect(revoke.status).to.equal(303);
    expect(await on('2026-03-05')).to.deep.equal([]);
    expect((await lastAudit('org.delegation_revoked'))!).to.include({ actor_name: 'admin', object_id: item.id });
    const again = await api(adminToken).post(`/delegations/${item.id}/revoke`);
    expect(again.status).to.equal(409);
    expect(again.body.error.message).to.equal('Pelimpahan ini sudah dicabut.');
  });

  it('superiorChain from the drafter\'s position climbs to the top in order; subordinates go down', async () => {
    const chain = await superiorChain(env.ctx.db, await idOf('positions', 'ANALIS-PA'));
    expect(chain.map((p) => p.code)).to.deep.equal(['ANALIS-PA', 'KASI-PA', 'KABID-APTIKA', 'KADIS-DKIS', 'SEKDA', 'GUB']);
    const holders = await env.ctx.db.selectFrom('users').select(['username', 'position_id']).where('username', 'in', ['pemeriksa1', 'pemeriksa2', 'penandatangan']).execute();
    const byPosition = Object.fromEntries(holders.map((h) => [String(h.position_id), h.username]));
    expect(chain.slice(1, 4).map((p) => byPosition[p.id])).to.deep.equal(['pemeriksa1', 'pemeriksa2', 'penandatangan']);

    const below = await subordinates(env.ctx.db, await idOf('positions', 'KABID-APTIKA'));
    expect(below.filter((p) => p.depth === 1).map((p) => p.code)).to.deep.equal(['KASI-PA', 'KASI-TKE']);
    expect(below.find((p) => p.code === 'ANALIS-PA')?.depth).to.equal(2);
  });

  it('creates and edits positions through the pages with a chosen superior', async () => {
    const { agent } = await env.loginAs('admin');
    const unitId = await idOf('units', 'DKIS.APTIKA.PA');
    const kasi = await idOf('positions', 'KASI-PA');
    const page = await agent.get(`/admin/positions?unit=${unitId}`);
    expect(page.text).to.contain('Analis Sistem Informasi');
    const res = await agent.post('/admin/positions').type('form').send({ _csrf: csrfFrom(page.text), unitId, code: 'DBA-PA', title: 'Pranata Komputer (Basis Data)', superiorId: kasi });
    expect(res.status).to.equal(303);
    const id = await idOf('positions', 'DBA-PA');
    expect((await superiorChain(env.ctx.db, id)).map((p) => p.code).slice(0, 3)).to.deep.equal(['DBA-PA', 'KASI-PA', 'KABID-APTIKA']);
    const edit = await agent.get(`/admin/positions/${id}`);
    const saved = await agent.post(`/admin/positions/${id}`).type('form').send({ _csrf: csrfFrom(edit.text), unitId, code: 'DBA-PA', title: 'Pranata Komputer Ahli Pertama (Basis Data)', superiorId: kasi, active: '1' });
    expect(saved.status).to.equal(303);
    const entry = (await lastAudit('org.position_updated'))!;
    expect(entry.details).to.deep.equal({ code: 'DBA-PA', changes: { title: { from: 'Pranata Komputer (Basis Data)', to: 'Pranata Komputer Ahli Pertama (Basis Data)' } } });
    // A position someone holds cannot be switched off under them.
    const held = await api(adminToken).patch(`/positions/${kasi}`, { active: false });
    expect(held.status).to.equal(400);
  });

  it('shows HTML in a unit name escaped', async () => {
    const res = await api(adminToken).post('/units', { code: 'XSS', name: '<script>alert(1)</script>', kind: 'seksi', parentId: await idOf('units', 'DKIS') });
    expect(res.status).to.equal(201);
    const { agent } = await env.loginAs('admin');
    const page = await agent.get('/admin/units');
    expect(page.text).to.contain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).not.to.contain('<script>alert(1)');
    const edit = await agent.get(`/admin/units/${res.body.id}`);
    expect(edit.text).to.contain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(edit.text).not.to.contain('<script>alert(1)');
  });

  it('filters the user list by unit (with its sub-units), role and state, and pages it', async () => {
    const { agent } = await env.loginAs('admin');
    const aptika = await idOf('units', 'DKIS.APTIKA');
    const res = await agent.get(`/admin/users?unit=${aptika}&role=pemeriksa&active=1`);
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('Agus Santoso, S.Kom., M.T.').and.contain('Ir. Siti Nurhaliza, M.Si.');
    expect(res.text).not.to.contain('Dewi Lestari').and.not.to.contain('Maria Ulfa');
    const byNip = await agent.get('/admin/users?q=197811232003122004');
    expect(byNip.text).to.contain('Ir. Siti Nurhaliza, M.Si.').and.not.contain('Agus Santoso');
    const paged = await agent.get('/admin/users?size=2&page=2&active=1');
    expect(paged.text).to.contain('Halaman 2 dari');
    expect(paged.text).to.contain('href="?active=1&amp;size=2&page=3"');
    const en = await agent.get('/admin/units?lang=en');
    expect(en.text).to.contain('Add a unit').and.contain('Delegations (Plh./Plt./a.n./u.b.)');
  });

  it('answers unknown or malformed ids with 404', async () => {
    expect((await api(adminToken).get('/units/999999')).status).to.equal(404);
    expect((await api(adminToken).patch('/users/abc', { name: 'x' })).status).to.equal(404);
    const { agent } = await env.loginAs('admin');
    const res = await agent.get('/admin/users/999999');
    expect(res.status).to.equal(404);
    expect(res.text).to.contain('Halaman atau data tidak ditemukan.');
  });
});
