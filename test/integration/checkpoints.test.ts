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
import type { AppContext } from '../../server/platform/context.js';
import { appendAudit, entryHash, verifyAuditChain } from '../../server/platform/audit/index.js';
import { checkpointJob, checkpointStatement, createCheckpoint, exportCheckpoints, verifyCheckpoints } from '../../server/platform/audit/checkpoints.js';
import { installationKey } from '../../server/modules/exchange/keys.js';

/**
 * What an intruder with the database owner's rights can do: change entry `seq`,
 * then recompute every later hash and the head so that the chain is consistent again.
 */
async function rewriteChainFrom(ctx: AppContext, seq: number) {
  await sql`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`.execute(ctx.db);
  const rows = await ctx.db.selectFrom('audit_log').selectAll().where(sql<boolean>`seq >= ${seq}`).orderBy('seq').execute();
  let prev = (await ctx.db.selectFrom('audit_log').select('hash').where(sql<boolean>`seq = ${seq - 1}`).executeTakeFirstOrThrow()).hash;
  for (const r of rows) {
    const actorName = Number(r.seq) === seq ? 'penyusup' : r.actor_name;
    const hash = entryHash({ ...r, actor_name: actorName, prev_hash: prev } as Parameters<typeof entryHash>[0]);
    await sql`UPDATE audit_log SET actor_name = ${actorName}, prev_hash = ${prev}, hash = ${hash} WHERE seq = ${r.seq}`.execute(ctx.db);
    prev = hash;
  }
  await sql`UPDATE audit_head SET hash = ${prev} WHERE id = 1`.execute(ctx.db);
  await sql`ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only`.execute(ctx.db);
}

describe('signed audit checkpoints', () => {
  let env: TestEnv;
  const SYSTEM = { id: null, name: 'system' };
  const head = () => env.ctx.db.selectFrom('audit_head').selectAll().executeTakeFirstOrThrow();

  before(async () => {
    env = await startTestEnv();
  });
  after(() => env.close());

  it("signs the chain's head, its own audit entry included, with the installation key", async () => {
    const c = (await createCheckpoint(env.ctx, SYSTEM, 'manual'))!;
    const h = await head();
    expect(c.seq).to.equal(String(h.seq));
    expect(c.head).to.equal(h.hash);
    const last = await env.ctx.db.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(last).to.include({ action: 'audit.checkpoint', hash: c.head });
    expect(last.details).to.deep.equal({ reason: 'manual' });
    const key = installationKey(env.ctx);
    expect(c.keyFingerprint).to.equal(key.fingerprint);
    expect(crypto.verify(null, checkpointStatement(c), crypto.createPublicKey(key.publicKeyPem), Buffer.from(c.signature, 'base64'))).to.equal(true);
    expect(await verifyCheckpoints(env.ctx, [c])).to.deep.equal({ ok: true, checked: 1, problems: [] });
  });

  it('the periodic job signs only when the head moved', async () => {
    const count = async () => (await env.ctx.db.selectFrom('audit_checkpoints').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n;
    const before = await count();
    await checkpointJob.run(env.ctx);
    expect(await count()).to.equal(before);
    await env.ctx.db.transaction().execute((trx) => appendAudit(trx, SYSTEM, { action: 'system.demo_seeded' }));
    await checkpointJob.run(env.ctx);
    expect(await count()).to.equal(before + 1);
    const latest = (await exportCheckpoints(env.ctx)).checkpoints.at(-1)!;
    expect(latest.seq).to.equal(String((await head()).seq));
  });

  it('refuses a checkpoint with a forged signature or one from another key', async () => {
    const [c] = (await exportCheckpoints(env.ctx)).checkpoints;
    const forged = { ...c, head: 'f'.repeat(64) };
    const other = crypto.generateKeyPairSync('ed25519').privateKey;
    const foreign = { ...c, keyFingerprint: 'a'.repeat(64), signature: crypto.sign(null, checkpointStatement(c), other).toString('base64') };
    const v = await verifyCheckpoints(env.ctx, [forged, foreign]);
    expect(v.ok).to.equal(false);
    expect(v.problems.map((p) => p.reason)).to.deep.equal(['signature does not verify', "signed by another key (aaaaaaaaaaaaaaaa…), not this installation's"]);
  });

  it('detects a rewrite of the whole table with a consistent new chain, which plain verification cannot', async () => {
    const exported = await exportCheckpoints(env.ctx);
    await rewriteChainFrom(env.ctx, 2);
    expect((await verifyAuditChain(env.ctx.db)).ok).to.equal(true);
    const v = await verifyCheckpoints(env.ctx, exported.checkpoints);
    expect(v.ok).to.equal(false);
    expect(v.problems.map((p) => p.seq)).to.deep.equal(exported.checkpoints.map((c) => c.seq));
    expect(v.problems[0].reason).to.match(/^entry \d+ has hash [0-9a-f]{16}…, the checkpoint signed [0-9a-f]{16}…$/);
  });
});

describe('npm run cli -- audit checkpoint / checkpoints export / verify --checkpoints', function () {
  this.timeout(180_000);
  let dir: string;
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a whole-table rewrite passes audit verify but fails verify --checkpoints, naming the checkpoint', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-checkpoint-cli-'));
    const config = loadConfig(envFor(dir, { LOG_LEVEL: 'silent' }));
    let platform = await startPlatform(config, { storage: false });
    await seedDemoOrganisation(platform.ctx, DEMO_PASSWORD).finally(() => platform.stop());

    const signed = await runCli(['audit', 'checkpoint'], envFor(dir));
    expect(signed.code, signed.stderr).to.equal(0);
    const seq = /^Checkpoint (\d+) signed: head [0-9a-f]{64}\n$/.exec(signed.stdout)?.[1];
    expect(seq, signed.stdout).to.be.a('string');
    const file = path.join(dir, 'checkpoints.json');
    const exported = await runCli(['audit', 'checkpoints', 'export', '--out', file], envFor(dir));
    expect(exported.code, exported.stderr).to.equal(0);
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(data.format).to.equal('tnde-audit-checkpoints/1');
    expect(data.checkpoints.map((c: { seq: string }) => c.seq)).to.deep.equal([seq]);

    const good = await runCli(['audit', 'verify', '--checkpoints', file], envFor(dir));
    expect(good.code, good.stderr).to.equal(0);
    expect(good.stdout).to.contain('Checkpoints match the chain: 1 of 1');

    platform = await startPlatform(config, { storage: false });
    await rewriteChainFrom(platform.ctx, 3).finally(() => platform.stop());

    const plain = await runCli(['audit', 'verify'], envFor(dir));
    expect(plain.code, plain.stderr).to.equal(0);
    expect(plain.stdout).to.match(/^Audit chain intact/);
    const checked = await runCli(['audit', 'verify', '--checkpoints', file], envFor(dir));
    expect(checked.code).to.equal(1);
    expect(checked.stderr).to.contain(`Checkpoint ${seq} (signed ${data.checkpoints[0].signedAt}) BROKEN: entry ${seq} has hash`);
    expect(checked.stderr).to.contain('Audit trail does NOT match 1 of 1 signed checkpoints');
  });
});
