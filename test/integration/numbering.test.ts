import { expect } from 'chai';
import supertest from 'supertest';
import { startTestEnv, type TestEnv } from '../support/harness.js';
import { allocateNumber, registerCsv, voidNumber, createSeries } from '../../server/modules/numbering/service.js';
import { loadCurrentUser } from '../../server/platform/auth/current-user.js';

describe('numbering: allocation, voiding and the register', () => {
  let env: TestEnv;
  let dkisPa: string;
  before(async () => {
    env = await startTestEnv();
    dkisPa = String((await env.ctx.db.selectFrom('units').select('id').where('code', '=', 'DKIS.APTIKA.PA').executeTakeFirstOrThrow()).id);
  });
  after(() => env.close());

  const request = (over: Partial<Parameters<typeof allocateNumber>[1]> = {}) => ({
    scope: 'outgoing' as const, unitId: dkisPa, kindCode: 'SD', classificationCode: '000.1.5', securityClass: 'biasa', positionCode: 'KADIS-DKIS', date: new Date(), letterId: null, issuedBy: null, ...over,
  });

  it('uses the nearest ancestor unit\'s series and its format', async () => {
    const n = await env.ctx.db.transaction().execute((trx) => allocateNumber(trx, request()));
    expect(n.number).to.match(/^000\.1\.5\/\d+\/DKIS\/20\d\d$/);
  });

  it('gives 50 concurrent allocations 50 distinct consecutive numbers', async () => {
    const first = await env.ctx.db.transaction().execute((trx) => allocateNumber(trx, request()));
    const all = await Promise.all(Array.from({ length: 50 }, () => env.ctx.db.transaction().execute((trx) => allocateNumber(trx, request()))));
    const seqs = all.map((n) => n.seq).sort((a, b) => a - b);
    expect(seqs).to.deep.equal(Array.from({ length: 50 }, (_, i) => first.seq + 1 + i));
    expect(new Set(all.map((n) => n.number)).size).to.equal(50);
  });

  it('gives a rolled-back number back: no gap', async () => {
    const before = await env.ctx.db.transaction().execute((trx) => allocateNumber(trx, request()));
    await env.ctx.db.transaction().execute(async (trx) => {
      await allocateNumber(trx, request());
      throw new Error('upload failed');
    }).catch(() => {});
    const after = await env.ctx.db.transaction().execute((trx) => allocateNumber(trx, request()));
    expect(after.seq).to.equal(before.seq + 1);
  });

  it('numbers a Keputusan of the province in its own "NOMOR n TAHUN y" series', async () => {
    const pemprov = String((await env.ctx.db.selectFrom('units').select('id').where('code', '=', 'PEMPROV').executeTakeFirstOrThrow()).id);
    const n = await env.ctx.db.transaction().execute((trx) => allocateNumber(trx, request({ unitId: pemprov, kindCode: 'KEP' })));
    expect(n.number).to.match(/^NOMOR 1 TAHUN 20\d\d$/);
  });

  it('voids a number with a reason; it stays in the register and the CSV', async () => {
    const admin = (await loadCurrentUser(env.ctx.db, String((await env.ctx.db.selectFrom('users').select('id').where('username', '=', 'agendaris').executeTakeFirstOrThrow()).id), 'session', '127.0.0.1'))!;
    const n = await env.ctx.db.transaction().execute((trx) => allocateNumber(trx, request()));
    await voidNumber(env.ctx, admin, n.id, { reason: 'Salah penerima, diganti surat baru' });
    const { csv } = await registerCsv(env.ctx, admin, n.seriesId, n.year);
    const line = csv.split('\r\n').find((l) => l.startsWith(`${n.seq},`))!;
    expect(line).to.contain(n.number).and.to.contain('Dibatalkan').and.to.contain('Salah penerima');
    const again = await voidNumber(env.ctx, admin, n.id, { reason: 'lagi' }).catch((e) => e);
    expect(again.status).to.equal(409);
  });

  it('refuses series administration to a drafter and formats with unknown tokens', async () => {
    const users = await env.ctx.db.selectFrom('users').select(['id', 'username']).where('username', 'in', ['konseptor', 'admin']).execute();
    const drafter = (await loadCurrentUser(env.ctx.db, String(users.find((u) => u.username === 'konseptor')!.id), 'session', null))!;
    const admin = (await loadCurrentUser(env.ctx.db, String(users.find((u) => u.username === 'admin')!.id), 'session', null))!;
    const denied = await createSeries(env.ctx, drafter, { unit: 'DKIS.SANDI', scope: 'outgoing', name: 'x', format: '{nomor}', unitToken: 'S' }).catch((e) => e);
    expect(denied.status).to.equal(403);
    const bad = await createSeries(env.ctx, admin, { unit: 'DKIS.SANDI', scope: 'outgoing', name: 'x', format: '{nomor}/{rahasia}', unitToken: 'S' }).catch((e) => e);
    expect(bad.status).to.equal(400);
    const ok = await createSeries(env.ctx, admin, { unit: 'DKIS.SANDI', scope: 'outgoing', name: 'Sandi', format: '{kode}/{nomor:3}/{unit}/{bulan_romawi}/{tahun}', unitToken: 'SANDI' });
    expect(ok).to.match(/^\d+$/);
    const dup = await createSeries(env.ctx, admin, { unit: 'DKIS.SANDI', scope: 'outgoing', name: 'Sandi 2', format: '{nomor}', unitToken: 'S' }).catch((e) => e);
    expect(dup.status).to.equal(409);
  });
});
