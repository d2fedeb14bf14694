import { expect } from 'chai';
import supertest from 'supertest';
import { startTestEnv, csrfFrom, snapshotCounts, DEMO_PASSWORD, type TestEnv } from '../support/harness.js';

describe('sign-in and sessions', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(() => env.close());

  const sidOf = (res: supertest.Response) => (res.headers['set-cookie'] as unknown as string[] | undefined)?.find((c) => c.startsWith('tnde.sid='))?.split(';')[0];

  it('signs in with the username, rotates the session id, and audits it', async () => {
    const agent = env.agent();
    const page = await agent.get('/login');
    const before = sidOf(page);
    expect(before, 'login page sets a session for its CSRF token').to.be.a('string');
    const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), username: 'konseptor', password: DEMO_PASSWORD });
    expect(res.status).to.equal(303);
    const after = sidOf(res);
    expect(after).to.be.a('string').and.not.equal(before);
    const home = await agent.get('/');
    expect(home.status).to.equal(200);
    expect(home.text).to.contain('Selamat datang, Dewi Lestari');
    const entry = await env.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'auth.login').orderBy('seq', 'desc').executeTakeFirstOrThrow();
    expect(entry.actor_name).to.equal('konseptor');
  });

  it('signs in with the NIP as well', async () => {
    const agent = env.agent();
    const page = await agent.get('/login');
    const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), username: '198508172009011003', password: DEMO_PASSWORD });
    expect(res.status).to.equal(303);
    const me = await agent.get('/api/v1/me');
    expect(me.body.username).to.equal('pemeriksa1');
  });

  it('refuses a wrong password with a message in Indonesian and audits the failure', async () => {
    const agent = env.agent();
    const page = await agent.get('/login');
    const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), username: 'staf1', password: 'salah-sekali' });
    expect(res.status).to.equal(401);
    expect(res.text).to.contain('Nama pengguna atau kata sandi salah.');
    const entry = await env.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'auth.login_failed').orderBy('seq', 'desc').executeTakeFirstOrThrow();
    expect(entry.actor_name).to.equal('staf1');
  });

  it('gives an unknown user the same answer as a wrong password', async () => {
    const agent = env.agent();
    const page = await agent.get('/login');
    const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), username: 'tidak-ada', password: 'apa-saja-123' });
    expect(res.status).to.equal(401);
    expect(res.text).to.contain('Nama pengguna atau kata sandi salah.');
  });

  it('locks the account after repeated failures, even for the right password', async () => {
    const agent = env.agent();
    const page = await agent.get('/login');
    const token = csrfFrom(page.text);
    for (let i = 0; i < env.config.LOGIN_MAX_FAILURES; i++) {
      await agent.post('/login').type('form').send({ _csrf: token, username: 'staf2', password: 'salah-' + i });
    }
    const res = await agent.post('/login').type('form').send({ _csrf: token, username: 'staf2', password: DEMO_PASSWORD });
    expect(res.status).to.equal(423);
    expect(res.text).to.contain('Akun dikunci sementara');
    const locked = await env.ctx.db.selectFrom('audit_log').select('seq').where('action', '=', 'auth.locked').where('actor_name', '=', 'staf2').execute();
    expect(locked).to.have.length(1);
  });

  it('refuses a form without a CSRF token and changes nothing', async () => {
    const { agent } = await env.loginAs('konseptor');
    const before = await snapshotCounts(env.ctx, ['api_tokens']);
    const res = await agent.post('/profile/tokens').type('form').send({ name: 'tanpa csrf' });
    expect(res.status).to.equal(403);
    expect(res.text).to.contain('Formulir kedaluwarsa atau tidak sah');
    expect(await snapshotCounts(env.ctx, ['api_tokens'])).to.deep.equal(before);
    const wrong = await agent.post('/profile/tokens').type('form').send({ name: 'csrf salah', _csrf: 'abc' });
    expect(wrong.status).to.equal(403);
    expect(await snapshotCounts(env.ctx, ['api_tokens'])).to.deep.equal(before);
  });

  it('signs out and the old session no longer works', async () => {
    const { agent, csrf } = await env.loginAs('arsiparis');
    const res = await agent.post('/logout').type('form').send({ _csrf: await csrf() });
    expect(res.status).to.equal(303);
    const me = await agent.get('/api/v1/me');
    expect(me.status).to.equal(401);
    expect(me.body.error.code).to.equal('unauthorized');
  });

  it('redirects an anonymous browser to the sign-in page', async () => {
    const res = await env.agent().get('/profile');
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal('/login?next=%2Fprofile');
  });

  it('does not follow an off-site next= after sign-in', async () => {
    const agent = env.agent();
    const page = await agent.get('/login');
    const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), username: 'auditor', password: DEMO_PASSWORD, next: '//evil.example/' });
    expect(res.headers.location).to.equal('/');
  });
});

describe('API basics', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(() => env.close());

  it('GET /api/v1/me with a bearer token returns the user, roles and unit', async () => {
    const token = await env.tokenFor('penandatangan');
    const res = await supertest(env.app).get('/api/v1/me').set('Authorization', `Bearer ${token}`);
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ username: 'penandatangan', name: 'Dr. Bambang Wijaya, S.Sos., M.Si.' });
    expect(res.body.roles).to.include('penandatangan');
    expect(res.body.unit).to.deep.include({ code: 'DKIS' });
  });

  it('refuses a wrong or revoked token with a JSON 401', async () => {
    const bad = await supertest(env.app).get('/api/v1/me').set('Authorization', 'Bearer tnde_' + 'A'.repeat(43));
    expect(bad.status).to.equal(401);
    expect(bad.body).to.deep.equal({ error: { code: 'unauthorized', message: 'Token API tidak valid atau sudah dicabut.' } });
    const token = await env.tokenFor('staf1');
    const list = await supertest(env.app).get('/api/v1/tokens').set('Authorization', `Bearer ${token}`);
    const id = list.body.items[0].id;
    const del = await supertest(env.app).delete(`/api/v1/tokens/${id}`).set('Authorization', `Bearer ${token}`);
    expect(del.status).to.equal(204);
    const after = await supertest(env.app).get('/api/v1/me').set('Authorization', `Bearer ${token}`);
    expect(after.status).to.equal(401);
  });

  it('cannot revoke another user\'s token (404, nothing changed)', async () => {
    const mine = await env.tokenFor('staf1');
    const theirs = await env.tokenFor('staf3');
    const theirId = (await supertest(env.app).get('/api/v1/tokens').set('Authorization', `Bearer ${theirs}`)).body.items[0].id;
    const res = await supertest(env.app).delete(`/api/v1/tokens/${theirId}`).set('Authorization', `Bearer ${mine}`);
    expect(res.status).to.equal(404);
    const still = await supertest(env.app).get('/api/v1/me').set('Authorization', `Bearer ${theirs}`);
    expect(still.status).to.equal(200);
  });

  it('answers malformed and oversized JSON with clear errors', async () => {
    const token = await env.tokenFor('staf1');
    const malformed = await supertest(env.app).post('/api/v1/tokens').set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json').send('{"name": ');
    expect(malformed.status).to.equal(400);
    expect(malformed.body.error.message).to.equal('Format data tidak dapat dibaca.');
    const huge = await supertest(env.app).post('/api/v1/tokens').set('Authorization', `Bearer ${token}`).send({ name: 'x'.repeat(2 * 1024 * 1024) });
    expect(huge.status).to.equal(413);
    expect(huge.body.error.code).to.equal('payload_too_large');
    const invalid = await supertest(env.app).post('/api/v1/tokens').set('Authorization', `Bearer ${token}`).send({ name: '' });
    expect(invalid.status).to.equal(400);
    expect(invalid.body.error.code).to.equal('validation_failed');
  });

  it('speaks English when asked', async () => {
    const res = await supertest(env.app).get('/api/v1/me?lang=en');
    expect(res.body.error.message).to.equal('Please sign in first.');
  });

  it('/healthz reports database and storage separately', async () => {
    const res = await supertest(env.app).get('/healthz');
    expect(res.status).to.equal(200);
    expect(res.body.database.status).to.equal('up');
    expect(res.body.storage.status).to.equal('up');
  });

  it('/metrics speaks Prometheus', async () => {
    await supertest(env.app).get('/healthz');
    const res = await supertest(env.app).get('/metrics');
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('tnde_http_request_duration_seconds_bucket');
  });
});
