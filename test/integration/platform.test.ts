// Platform behaviour not covered by auth.test.ts: refusals in the browser,
// health when a dependency is down, error pages, and the object store.
import crypto from 'node:crypto';
import net from 'node:net';
import { expect } from 'chai';
import supertest from 'supertest';
import type { Client } from 'minio';
import { startTestEnv, snapshotCounts, type TestEnv } from '../support/harness.js';
import { buildApp } from '../../server/app.js';
import { connectDatabase } from '../../server/platform/db/index.js';
import { ObjectStore, IntegrityError } from '../../server/platform/storage/index.js';

/** A loopback port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe('platform: refusals, health and error pages', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(() => env.close());

  it('records a form refused for its CSRF token, with the IP, and changes nothing', async () => {
    const { agent } = await env.loginAs('staf1');
    const before = await snapshotCounts(env.ctx, ['api_tokens']);
    const res = await agent.post('/profile/tokens').type('form').send({ name: 'dari situs lain', _csrf: 'palsu' });
    expect(res.status).to.equal(403);
    expect(res.text).to.contain('<html lang="id">').and.contain('Formulir kedaluwarsa atau tidak sah');
    expect(await snapshotCounts(env.ctx, ['api_tokens'])).to.deep.equal(before);
    const entry = await env.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'auth.csrf_rejected').orderBy('seq', 'desc').executeTakeFirstOrThrow();
    expect(entry).to.include({ actor_name: 'staf1', ip: '127.0.0.1' });
    expect(entry.details).to.deep.equal({ method: 'POST', path: '/profile/tokens' });
  });

  it('refuses an oversized form with a 413 page in Indonesian', async () => {
    const { agent, csrf } = await env.loginAs('staf1');
    const before = await snapshotCounts(env.ctx, ['api_tokens']);
    const res = await agent.post('/profile/tokens').type('form').send({ _csrf: await csrf(), name: 'x'.repeat(300 * 1024) });
    expect(res.status).to.equal(413);
    expect(res.headers['content-type']).to.match(/^text\/html/);
    expect(res.text).to.contain('Data yang dikirim terlalu besar.');
    expect(await snapshotCounts(env.ctx, ['api_tokens'])).to.deep.equal(before);
  });

  it('answers malformed JSON from a signed-in browser session with a JSON 400', async () => {
    const { agent, csrf } = await env.loginAs('staf1');
    const res = await agent.post('/api/v1/tokens').set('X-CSRF-Token', await csrf()).set('Content-Type', 'application/json').send('{"name": "a",');
    expect(res.status).to.equal(400);
    expect(res.body).to.deep.equal({ error: { code: 'validation_failed', message: 'Format data tidak dapat dibaca.' } });
  });

  it('shows the 404 page in Indonesian, in English on ?lang=en, and JSON under /api', async () => {
    const id = await env.agent().get('/tidak-ada-halaman');
    expect(id.status).to.equal(404);
    expect(id.text).to.contain('<html lang="id">').and.contain('Halaman atau data tidak ditemukan.').and.contain('Kembali ke beranda');
    const en = await env.agent().get('/tidak-ada-halaman?lang=en');
    expect(en.status).to.equal(404);
    expect(en.text).to.contain('<html lang="en">').and.contain('Page or record not found.').and.contain('Back to home');
    const api = await env.agent().get('/api/v1/tidak-ada').set('Accept', 'application/json');
    expect(api.status).to.equal(404);
    expect(api.body).to.deep.equal({ error: { code: 'not_found', message: 'Halaman atau data tidak ditemukan.' } });
  });

  it('/healthz answers 503 naming the storage when the object store is unreachable', async () => {
    const store = new ObjectStore({ endPoint: `http://127.0.0.1:${await closedPort()}`, accessKey: 'x', secretKey: 'y', bucket: 'tnde', region: 'us-east-1' });
    const res = await supertest(buildApp({ ...env.ctx, store })).get('/healthz');
    expect(res.status).to.equal(503);
    expect(res.body).to.deep.include({ status: 'degraded' });
    expect(res.body.database.status).to.equal('up');
    expect(res.body.storage.status).to.equal('down');
    expect(res.body.storage.error).to.be.a('string').and.not.equal('');
  });

  it('/healthz answers 503 naming the database when it is unreachable', async () => {
    const down = connectDatabase(`postgres://postgres@127.0.0.1:${await closedPort()}/postgres`, 1);
    try {
      const res = await supertest(buildApp({ ...env.ctx, db: down.db, dbHandle: down })).get('/healthz');
      expect(res.status).to.equal(503);
      expect(res.body.database.status).to.equal('down');
      expect(res.body.storage.status).to.equal('up');
    } finally {
      await down.close();
    }
  });
});

describe('platform: the object store', () => {
  let env: TestEnv;
  let client: Client;
  before(async () => {
    env = await startTestEnv();
    // The store's own S3 client: what anyone with write access to the bucket could use.
    client = env.ctx.store['client'];
  });
  after(() => env.close());

  const bytes = (text: string) => Buffer.from(text + ' ' + crypto.randomUUID());
  const objectRows = (sha256: string) => env.ctx.db.selectFrom('objects').selectAll().where('sha256', '=', sha256).execute();

  it('stores bytes under their SHA-256 and gives them back, with their size', async () => {
    const b = bytes('Surat undangan rapat');
    const stored = await env.ctx.db.transaction().execute((trx) => env.ctx.store.put(trx, b, 'text/plain', null));
    expect(stored).to.deep.equal({ sha256: crypto.createHash('sha256').update(b).digest('hex'), size: b.length, contentType: 'text/plain' });
    expect((await env.ctx.store.get(stored.sha256)).equals(b)).to.equal(true);
    expect(await env.ctx.store.stat(stored.sha256)).to.deep.equal({ size: b.length });
    expect(await objectRows(stored.sha256)).to.have.length(1);
    expect(await env.ctx.store.stat('0'.repeat(64))).to.equal(null);
  });

  it('does nothing when the same bytes are put again: no second row, the stored object not rewritten', async () => {
    const b = bytes('Nota dinas');
    const first = await env.ctx.db.transaction().execute((trx) => env.ctx.store.put(trx, b, 'text/plain', null));
    const before = await client.statObject(env.ctx.store.bucket, ObjectStore.keyFor(first.sha256));
    // S3 keeps Last-Modified to the second.
    await new Promise((r) => setTimeout(r, 1100));
    const again = await env.ctx.db.transaction().execute((trx) => env.ctx.store.put(trx, b, 'application/octet-stream', null));
    expect(again.sha256).to.equal(first.sha256);
    const after = await client.statObject(env.ctx.store.bucket, ObjectStore.keyFor(first.sha256));
    expect(after.lastModified.getTime()).to.equal(before.lastModified.getTime());
    expect(after.metaData['content-type']).to.equal('text/plain');
    const rows = await objectRows(first.sha256);
    expect(rows).to.have.length(1);
    expect(rows[0].content_type).to.equal('text/plain');
  });

  it('refuses to hand out a corrupted object (IntegrityError)', async () => {
    const b = bytes('Keputusan Gubernur');
    const stored = await env.ctx.db.transaction().execute((trx) => env.ctx.store.put(trx, b, 'text/plain', null));
    const other = Buffer.from(b.toString().replace('Gubernur', 'GUBERNUR'));
    await client.putObject(env.ctx.store.bucket, ObjectStore.keyFor(stored.sha256), other, other.length);
    let err: unknown;
    await env.ctx.store.get(stored.sha256).catch((e) => (err = e));
    expect(err).to.be.instanceOf(IntegrityError);
    expect(err).to.include({ expected: stored.sha256, actual: crypto.createHash('sha256').update(other).digest('hex') });
  });

  it('never builds a key from anything but a SHA-256', () => {
    for (const bad of ['../etc/passwd', 'ABC', '0'.repeat(63), '0'.repeat(64) + '/x']) expect(() => ObjectStore.keyFor(bad), bad).to.throw('invalid sha256');
  });
});
