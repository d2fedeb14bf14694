import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { expect } from 'chai';
import { sql } from 'kysely';
import { startTestEnv, DEMO_PASSWORD, type TestEnv } from '../support/harness.js';
import { envFor, runCli } from '../support/child-server.js';
import { loadConfig } from '../../server/config.js';
import { startPlatform } from '../../server/platform/bootstrap.js';
import { seedDemoOrganisation } from '../../server/modules/org/demo.js';
import { replicatePending } from '../../server/platform/storage/replication.js';
import { scanJob, scanObjects } from '../../server/platform/storage/scan.js';
import type { ObjectStore } from '../../server/platform/storage/index.js';

/** Where s3rver keeps an object's bytes under its directory. */
const objectFile = (s3Dir: string, bucket: string, sha256: string) => path.join(s3Dir, bucket, 'sha256', `${sha256}._S3rver_object`);

/** Bit rot: one byte of the stored file flipped on disk, behind the S3 server's back. */
function flipByte(file: string) {
  const bytes = fs.readFileSync(file);
  bytes[Math.floor(bytes.length / 2)] ^= 0x01;
  fs.writeFileSync(file, bytes);
}

/** The harness's embedded S3 directory holding this test's bucket (a tnde-test-* dir in the temp folder). */
function s3DirOf(store: ObjectStore): string {
  const found = fs
    .readdirSync(os.tmpdir())
    .filter((d) => d.startsWith('tnde-test-'))
    .map((d) => path.join(os.tmpdir(), d, 's3'))
    .find((d) => fs.existsSync(path.join(d, store.bucket)));
  if (!found) throw new Error(`no s3rver directory holds bucket ${store.bucket}`);
  return found;
}

describe('integrity scanner', () => {
  let env: TestEnv;
  let s3Dir: string;
  const put = async (text: string) => {
    const bytes = Buffer.from(text);
    const o = await env.ctx.db.transaction().execute((trx) => env.ctx.store.put(trx, bytes, 'text/plain', null));
    return { ...o, bytes };
  };
  const primaryFile = (sha: string) => objectFile(s3Dir, env.ctx.store.bucket, sha);
  const backupFile = (sha: string) => objectFile(s3Dir, env.ctx.backupStore.bucket, sha);
  const auditOf = (action: string) => env.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('seq').execute();

  before(async () => {
    env = await startTestEnv();
    s3Dir = s3DirOf(env.ctx.store);
  });
  after(() => env.close());

  it('finds nothing wrong in healthy stores, and records the run in the table and the audit trail', async () => {
    await put(`sehat ${crypto.randomUUID()}`);
    await replicatePending(env.ctx);
    const r = await scanObjects(env.ctx, { repair: false });
    expect(r.findings).to.deep.equal([]);
    expect(r.unresolved).to.equal(0);
    expect(r.objectsChecked).to.be.at.least(1);
    expect(r.audit.ok).to.equal(true);
    const run = await env.ctx.db.selectFrom('scan_runs').selectAll().where('id', '=', r.runId).executeTakeFirstOrThrow();
    expect(run).to.include({ findings: 0, repaired: 0, audit_ok: true, checkpoints_ok: true, trigger: 'cli', repair: false });
    expect(run.finished_at).to.be.instanceOf(Date);
    const [entry] = (await auditOf('integrity.scan')).slice(-1);
    expect(entry.object_id).to.equal(r.runId);
    expect(entry.details).to.deep.include({ findings: 0, unresolved: 0, auditOk: true });
  });

  it('finds one byte changed in the primary store and repairs it from the backup', async () => {
    const o = await put(`naskah asli ${crypto.randomUUID()} dengan isi yang cukup panjang`);
    await replicatePending(env.ctx);
    flipByte(primaryFile(o.sha256));
    expect(await env.ctx.store.get(o.sha256).catch((e: Error) => e.message)).to.match(/is corrupt/);

    const look = await scanObjects(env.ctx, { repair: false });
    expect(look.findings).to.deep.equal([{ kind: 'altered', store: 'primary', sha256: o.sha256, detail: 'primary copy altered', repaired: false }]);
    expect(look.unresolved).to.equal(1);
    expect(await env.ctx.store.get(o.sha256).catch(() => 'still corrupt')).to.equal('still corrupt');

    const fix = await scanObjects(env.ctx, { repair: true });
    expect(fix.findings).to.deep.equal([{ kind: 'altered', store: 'primary', sha256: o.sha256, detail: 'primary copy altered, rewritten from the backup', repaired: true }]);
    expect(fix.unresolved).to.equal(0);
    expect(await env.ctx.store.get(o.sha256)).to.deep.equal(o.bytes);
    const [repair] = (await auditOf('integrity.repair')).slice(-1);
    expect(repair).to.include({ doc_sha256: o.sha256, object_type: 'object', object_id: o.sha256 });
    expect(repair.details).to.deep.include({ runId: fix.runId, kind: 'altered', store: 'primary' });
    expect((await scanObjects(env.ctx, { repair: false })).findings).to.deep.equal([]);
  });

  it('finds one byte changed in the backup store and repairs it from the primary', async () => {
    const o = await put(`salinan cadangan ${crypto.randomUUID()}`);
    await replicatePending(env.ctx);
    flipByte(backupFile(o.sha256));
    const fix = await scanObjects(env.ctx, { repair: true });
    expect(fix.findings).to.deep.equal([{ kind: 'altered', store: 'backup', sha256: o.sha256, detail: 'backup copy altered, rewritten from the primary', repaired: true }]);
    expect(await env.ctx.backupStore.get(o.sha256)).to.deep.equal(o.bytes);
  });

  it('finds a missing copy and repairs it; an object bad in both stores is reported lost and stays unresolved', async () => {
    const missing = await put(`hilang dari utama ${crypto.randomUUID()}`);
    const lost = await put(`hilang dari keduanya ${crypto.randomUUID()}`);
    await replicatePending(env.ctx);
    await env.ctx.store.remove(missing.sha256);
    await env.ctx.store.remove(lost.sha256);
    flipByte(backupFile(lost.sha256));

    const r = await scanObjects(env.ctx, { repair: true });
    const bySha = Object.fromEntries(r.findings.map((f) => [f.sha256, f]));
    expect(bySha[missing.sha256]).to.deep.equal({ kind: 'missing', store: 'primary', sha256: missing.sha256, detail: 'primary copy missing, rewritten from the backup', repaired: true });
    expect(bySha[lost.sha256]).to.deep.equal({ kind: 'lost', store: 'both', sha256: lost.sha256, detail: 'primary missing, backup altered', repaired: false });
    expect(r.unresolved).to.equal(1);
    expect(await env.ctx.store.get(missing.sha256)).to.deep.equal(missing.bytes);
    const rows = await env.ctx.db.selectFrom('scan_findings').select(['kind', 'repaired']).where('run_id', '=', r.runId).orderBy('kind').execute();
    expect(rows).to.deep.equal([{ kind: 'lost', repaired: false }, { kind: 'missing', repaired: true }]);
    const [entry] = (await auditOf('integrity.scan')).slice(-1);
    expect(entry.details).to.deep.include({ findings: 2, repaired: 1, unresolved: 1 });

    // Put the lost bytes back (from elsewhere) so the next tests start clean.
    await env.ctx.store.putCopy(lost.sha256, lost.bytes, 'text/plain');
    await env.ctx.backupStore.putCopy(lost.sha256, lost.bytes, 'text/plain');
  });

  it('removes an object a disposal destroyed but that is still stored, and never brings one back', async () => {
    const o = await put(`dimusnahkan ${crypto.randomUUID()}`);
    await replicatePending(env.ctx);
    await env.ctx.db.updateTable('objects').set({ destroyed_at: sql`now()` }).where('sha256', '=', o.sha256).execute();
    await env.ctx.store.remove(o.sha256); // the disposal removed the primary copy; the backup copy lingers

    const look = await scanObjects(env.ctx, { repair: false });
    expect(look.findings).to.deep.equal([{ kind: 'destroyed_present', store: 'backup', sha256: o.sha256, detail: 'destroyed by a disposal but still stored', repaired: false }]);
    const fix = await scanObjects(env.ctx, { repair: true });
    expect(fix.findings.map((f) => f.repaired)).to.deep.equal([true]);
    expect(await env.ctx.backupStore.stat(o.sha256)).to.equal(null);
    expect(await env.ctx.store.stat(o.sha256)).to.equal(null);
  });

  it('the scheduled job scans when SCAN_INTERVAL_HOURS have passed since the last run, and never at 0', async () => {
    const runs = async () => (await env.ctx.db.selectFrom('scan_runs').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n;
    const before = await runs();
    await scanJob.run(env.ctx); // the last run is minutes old
    expect(await runs()).to.equal(before);
    await env.ctx.db.updateTable('scan_runs').set({ started_at: sql`now() - interval '25 hours'` }).execute();
    await scanJob.run({ ...env.ctx, config: { ...env.ctx.config, SCAN_INTERVAL_HOURS: 0 } });
    expect(await runs()).to.equal(before);
    await scanJob.run(env.ctx);
    expect(await runs()).to.equal(before + 1);
    const last = await env.ctx.db.selectFrom('scan_runs').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(last).to.include({ trigger: 'scheduled', repair: true, findings: 0 });
  });

  it('reports a broken audit chain', async () => {
    await env.ctx.dbHandle.pool.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`);
    await env.ctx.dbHandle.pool.query(`UPDATE audit_log SET actor_name = 'penyusup' WHERE seq = 2`);
    await env.ctx.dbHandle.pool.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only`);
    const r = await scanObjects(env.ctx, { repair: true });
    expect(r.audit.ok).to.equal(false);
    expect(r.findings).to.deep.equal([{ kind: 'audit_chain', store: null, sha256: null, detail: 'entry 2: content does not match its hash (altered)', repaired: false }]);
    expect(r.unresolved).to.equal(1);
  });
});

describe('npm run cli -- scan (exit codes)', function () {
  this.timeout(180_000);
  let dir: string;
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('exits 1 on a damaged object, 0 after --repair fixed it, 0 on a clean scan', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-scan-cli-'));
    const platform = await startPlatform(loadConfig(envFor(dir, { LOG_LEVEL: 'silent' })));
    let sha: string;
    try {
      await seedDemoOrganisation(platform.ctx, DEMO_PASSWORD);
      const o = await platform.ctx.db.transaction().execute((trx) => platform.ctx.store.put(trx, Buffer.from(`arsip ${crypto.randomUUID()}`), 'text/plain', null));
      sha = o.sha256;
      await replicatePending(platform.ctx);
    } finally {
      await platform.stop();
    }
    flipByte(objectFile(path.join(dir, 's3'), 'tnde', sha));

    const look = await runCli(['scan'], envFor(dir));
    expect(look.code, look.stderr).to.equal(1);
    expect(look.stdout).to.contain(`PROBLEM  altered [primary] sha256/${sha}: primary copy altered`);
    expect(look.stdout).to.match(/1 findings, 0 repaired, 1 unresolved; audit chain intact/);

    const fix = await runCli(['scan', '--repair'], envFor(dir));
    expect(fix.code, fix.stderr).to.equal(0);
    expect(fix.stdout).to.contain(`REPAIRED altered [primary] sha256/${sha}: primary copy altered, rewritten from the backup`);

    const clean = await runCli(['scan'], envFor(dir));
    expect(clean.code, clean.stderr).to.equal(0);
    expect(clean.stdout).to.match(/0 findings, 0 repaired, 0 unresolved; audit chain intact/);
  });
});
