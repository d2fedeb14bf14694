import crypto from 'node:crypto';
import { expect } from 'chai';
import { sql } from 'kysely';
import { startTestEnv, type TestEnv } from '../support/harness.js';
import { replicatePending, replicationLag } from '../../server/platform/storage/replication.js';

describe('replication to the backup store', () => {
  let env: TestEnv;
  const put = (text: string) => env.ctx.db.transaction().execute((trx) => env.ctx.store.put(trx, Buffer.from(text), 'text/plain', null));
  const backedUp = async (sha: string) =>
    (await env.ctx.db.selectFrom('objects').select('backed_up_at').where('sha256', '=', sha).executeTakeFirstOrThrow()).backed_up_at;

  before(async () => {
    env = await startTestEnv();
  });
  after(() => env.close());

  it('copies every pending object, marks it, and reports the lag until then', async () => {
    const a = await put(`first ${crypto.randomUUID()}`);
    const b = await put(`second ${crypto.randomUUID()} with more bytes`);
    const lag = await replicationLag(env.ctx);
    expect(lag.pendingObjects).to.be.at.least(2);
    expect(lag.pendingBytes).to.be.at.least(a.size + b.size);
    expect(lag.oldestPendingAt).to.be.instanceOf(Date);

    const run = await replicatePending(env.ctx);
    expect(run.failed).to.equal(0);
    expect(run.copied).to.be.at.least(2);
    expect(run.pending).to.equal(0);
    expect((await env.ctx.backupStore.get(a.sha256)).toString()).to.match(/^first /);
    expect(await env.ctx.backupStore.stat(b.sha256)).to.deep.equal({ size: b.size });
    expect(await backedUp(a.sha256)).to.not.equal(null);
    expect(await replicationLag(env.ctx)).to.deep.equal({ pendingObjects: 0, pendingBytes: 0, oldestPendingAt: null, secondsBehind: 0 });
    // Nothing left: a second run copies nothing.
    expect(await replicatePending(env.ctx)).to.deep.equal({ copied: 0, failed: 0, pending: 0 });
  });

  it('honours the limit and continues where it stopped', async () => {
    for (let i = 0; i < 3; i++) await put(`batch ${i} ${crypto.randomUUID()}`);
    expect(await replicatePending(env.ctx, { limit: 2 })).to.deep.equal({ copied: 2, failed: 0, pending: 1 });
    expect(await replicatePending(env.ctx, { limit: 2 })).to.deep.equal({ copied: 1, failed: 0, pending: 0 });
  });

  it('reports a copy that fails, keeps it pending without blocking the others, and copies it once readable', async () => {
    const text = `lost for a while ${crypto.randomUUID()}`;
    const broken = await put(text);
    await env.ctx.store.remove(broken.sha256); // the primary copy is unreadable for now
    const fine = await put(`fine ${crypto.randomUUID()}`);

    const run = await replicatePending(env.ctx);
    expect(run).to.deep.equal({ copied: 1, failed: 1, pending: 1 });
    expect(await backedUp(broken.sha256)).to.equal(null);
    expect(await backedUp(fine.sha256)).to.not.equal(null);
    expect(await env.ctx.backupStore.stat(broken.sha256)).to.equal(null);
    expect((await replicationLag(env.ctx)).pendingObjects).to.equal(1);

    await env.ctx.store.putCopy(broken.sha256, Buffer.from(text), 'text/plain');
    expect(await replicatePending(env.ctx)).to.deep.equal({ copied: 1, failed: 0, pending: 0 });
    expect((await env.ctx.backupStore.get(broken.sha256)).toString()).to.equal(text);
  });

  it('does not copy a destroyed object', async () => {
    const gone = await put(`disposed ${crypto.randomUUID()}`);
    await env.ctx.db.updateTable('objects').set({ destroyed_at: sql`now()` }).where('sha256', '=', gone.sha256).execute();
    expect((await replicationLag(env.ctx)).pendingObjects).to.equal(0);
    expect(await replicatePending(env.ctx)).to.deep.equal({ copied: 0, failed: 0, pending: 0 });
    expect(await env.ctx.backupStore.stat(gone.sha256)).to.equal(null);
  });

  it('runs as a background job: an upload reaches the backup store by itself', async () => {
    const withJobs = await startTestEnv({}, { jobs: true });
    try {
      const obj = await withJobs.ctx.db.transaction().execute((trx) => withJobs.ctx.store.put(trx, Buffer.from(`job ${crypto.randomUUID()}`), 'text/plain', null));
      const deadline = Date.now() + 20_000;
      while (!(await withJobs.ctx.backupStore.stat(obj.sha256)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      expect(await withJobs.ctx.backupStore.stat(obj.sha256)).to.deep.equal({ size: obj.size });
    } finally {
      await withJobs.close();
    }
  });
});
