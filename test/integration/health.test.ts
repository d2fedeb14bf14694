import crypto from 'node:crypto';
import { expect } from 'chai';
import { sql } from 'kysely';
import { startTestEnv, snapshotCounts, type TestEnv, type LoggedInAgent } from '../support/harness.js';
import { replicatePending } from '../../server/platform/storage/replication.js';

describe('system health page (/admin/kesehatan) and /api/v1/admin/health', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let admin: LoggedInAgent;
  const tokens: Record<string, string> = {};
  const put = (text: string) => env.ctx.db.transaction().execute((trx) => env.ctx.store.put(trx, Buffer.from(text), 'text/plain', null));
  const post = async (url: string) => admin.agent.post(url).type('form').send({ _csrf: await admin.csrf() });

  before(async () => {
    env = await startTestEnv();
    admin = await env.loginAs('admin');
    // Issued first: issuing one is an audit entry, which would move the head past the checkpoint below.
    for (const who of ['admin', 'konseptor']) tokens[who] = await env.tokenFor(who);
  });
  after(() => env.close());

  it('shows the administrator the components, the replication lag and an admin tab; refuses everyone else', async () => {
    await put(`menunggu ${crypto.randomUUID()}`);
    await put(`menunggu juga ${crypto.randomUUID()}`);
    const page = await admin.agent.get('/admin/kesehatan');
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('Kesehatan Sistem').and.contain('href="/admin/kesehatan" class="active" aria-current="page"');
    expect(page.text).to.match(/Basis data<\/dt>\s*<dd><span class="badge ok">Baik/);
    expect(page.text).to.match(/Penyimpanan cadangan<\/dt>\s*<dd><span class="badge ok">Baik/);
    expect(page.text).to.match(/data-pending-objects="[2-9]\d*"/);
    expect(page.text).to.contain('Belum pernah ada pemindaian yang selesai.').and.contain('Belum ada checkpoint.');
    expect((await admin.agent.get('/admin/units')).text).to.contain('href="/admin/kesehatan"');

    await replicatePending(env.ctx);
    expect((await admin.agent.get('/admin/kesehatan')).text).to.contain('Semua objek sudah tersalin ke penyimpanan cadangan.');
    const english = (await admin.agent.get('/admin/kesehatan?lang=en')).text;
    expect(english).to.contain('System health').and.contain('Every object is copied to the backup store.').and.contain('Scan now');
    // A missing translation would show its key.
    expect(english).not.to.match(/\b(health|common)\.[a-z_]+/);
    await admin.agent.get('/admin/kesehatan?lang=id');

    for (const who of ['konseptor', 'auditor']) {
      const other = await env.loginAs(who);
      expect((await other.agent.get('/admin/kesehatan')).status).to.equal(403);
      expect((await other.agent.get('/admin/kesehatan/audit-checkpoints.json')).status).to.equal(403);
      const before = await snapshotCounts(env.ctx, ['scan_runs', 'audit_checkpoints']);
      for (const url of ['/admin/kesehatan/pindai', '/admin/kesehatan/checkpoint']) {
        expect((await other.agent.post(url).type('form').send({ _csrf: await other.csrf() })).status).to.equal(403);
      }
      expect(await snapshotCounts(env.ctx, ['scan_runs', 'audit_checkpoints'])).to.deep.equal(before);
      expect((await other.agent.get('/admin/units')).text).not.to.contain('href="/admin/kesehatan"');
    }
  });

  it('"Pindai sekarang" runs a scan in the background; the page then shows what it found and repaired', async () => {
    const obj = await put(`akan hilang ${crypto.randomUUID()}`);
    await replicatePending(env.ctx);
    await env.ctx.backupStore.remove(obj.sha256);

    const res = await post('/admin/kesehatan/pindai');
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal('/admin/kesehatan');
    const started = await admin.agent.get('/admin/kesehatan');
    expect(started.text).to.match(/Pemindaian #\d+ dimulai/);

    let page = started.text;
    const deadline = Date.now() + 30_000;
    while (!/data-scan-run=/.test(page) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      page = (await admin.agent.get('/admin/kesehatan')).text;
    }
    expect(page).to.match(/Pemindaian terakhir: #\d+/);
    expect(page).to.contain('data-finding="missing"').and.contain('cadangan').and.contain('backup copy missing, rewritten from the primary');
    expect(page).to.contain('data-unresolved="0"');
    const { name } = await env.ctx.db.selectFrom('users').select('name').where('username', '=', 'admin').executeTakeFirstOrThrow();
    expect(page).to.contain(`Dijalankan oleh</dt><dd>${name}</dd>`);
    expect(await env.ctx.backupStore.stat(obj.sha256)).to.deep.equal({ size: obj.size });
    const entry = await env.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'integrity.scan').orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(entry.actor_name).to.equal('admin');
    expect(entry.details).to.deep.include({ trigger: 'manual', findings: 1, repaired: 1 });
  });

  it('shows a scan in progress instead of the button and refuses a second one; a stalled run no longer blocks', async () => {
    const run = await env.ctx.db.insertInto('scan_runs').values({ trigger: 'scheduled', started_by: null, repair: true, objects_checked: 300 }).returning('id').executeTakeFirstOrThrow();
    const page = (await admin.agent.get('/admin/kesehatan')).text;
    expect(page).to.contain(`Pemindaian #${run.id} sedang berjalan sejak`).and.contain('300 objek diperiksa');
    expect(page).not.to.contain('action="/admin/kesehatan/pindai"');
    const before = await snapshotCounts(env.ctx, ['scan_runs']);
    expect((await post('/admin/kesehatan/pindai')).status).to.equal(303);
    expect((await admin.agent.get('/admin/kesehatan')).text).to.contain('Pemindaian lain sedang berjalan. Tunggu sampai selesai.');
    expect(await snapshotCounts(env.ctx, ['scan_runs'])).to.deep.equal(before);

    // Its process died: no progress for longer than the limit.
    await env.ctx.db.updateTable('scan_runs').set({ progress_at: sql`now() - interval '11 minutes'` }).where('id', '=', run.id).execute();
    expect((await admin.agent.get('/admin/kesehatan')).text).to.contain('action="/admin/kesehatan/pindai"');
  });

  it('"Buat checkpoint" signs the head; the checkpoints download as JSON', async () => {
    const res = await post('/admin/kesehatan/checkpoint');
    expect(res.status).to.equal(303);
    const page = (await admin.agent.get('/admin/kesehatan')).text;
    const seq = /Checkpoint ditandatangani pada entri (\d+)\./.exec(page)?.[1];
    expect(seq).to.be.a('string');
    expect(page).to.contain(`data-checkpoint-seq="${seq}"`).and.contain('Kepala rantai sudah ditandatangani.');
    const entry = await env.ctx.db.selectFrom('audit_log').selectAll().where('seq', '=', seq!).executeTakeFirstOrThrow();
    expect(entry).to.include({ action: 'audit.checkpoint', actor_name: 'admin' });

    const file = await admin.agent.get('/admin/kesehatan/audit-checkpoints.json');
    expect(file.status).to.equal(200);
    expect(file.headers['content-disposition']).to.match(/^attachment; filename="?audit-checkpoints\.json"?$/);
    const data = JSON.parse(file.text);
    expect(data.format).to.equal('tnde-audit-checkpoints/1');
    expect(data.checkpoints.map((c: { seq: string }) => c.seq)).to.deep.equal([seq]);
    expect(data.publicKeyPem).to.contain('BEGIN PUBLIC KEY');
  });

  it('GET /api/v1/admin/health answers the same figures as JSON, for administrators only', async () => {
    const token = tokens.admin;
    const res = await env.agent().get('/api/v1/admin/health').set('Authorization', `Bearer ${token}`);
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ ok: true });
    expect(res.body.database).to.deep.equal({ ok: true });
    expect(res.body.stores.primary).to.deep.equal({ ok: true, bucket: env.ctx.store.bucket });
    expect(res.body.stores.backup).to.deep.equal({ ok: true, bucket: env.ctx.backupStore.bucket });
    expect(res.body.replication).to.deep.equal({ pendingObjects: 0, pendingBytes: 0, oldestPendingAt: null, secondsBehind: 0 });
    expect(res.body.scan.last).to.include({ trigger: 'manual', findings: 1, repaired: 1, unresolved: 0, auditOk: true, checkpointsOk: true });
    expect(res.body.checkpoints).to.include({ count: 1, coversHead: true });
    const cps = await env.agent().get('/api/v1/admin/audit-checkpoints').set('Authorization', `Bearer ${token}`);
    expect(cps.body.checkpoints).to.have.length(1);

    const other = tokens.konseptor;
    const refused = await env.agent().get('/api/v1/admin/health').set('Authorization', `Bearer ${other}`);
    expect(refused.status).to.equal(403);
    expect(refused.body.error.code).to.equal('forbidden');
  });

  it('says when a store cannot be reached', async () => {
    const { ObjectStore } = await import('../../server/platform/storage/index.js');
    const real = env.ctx.backupStore;
    env.ctx.backupStore = new ObjectStore({ endPoint: 'http://127.0.0.1:1', accessKey: 'x', secretKey: 'x', bucket: 'tnde-backup', region: 'us-east-1' });
    try {
      const page = (await admin.agent.get('/admin/kesehatan')).text;
      expect(page).to.match(/Penyimpanan cadangan<\/dt>\s*<dd><span class="badge bad">Tidak terjangkau/);
      expect(page).to.contain('data-overall="attention"');
    } finally {
      env.ctx.backupStore = real;
    }
  });
});
