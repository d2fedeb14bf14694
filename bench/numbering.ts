// bench/numbering: allocateNumber with 50 concurrent clients, each allocation its
// own transaction, as a ratio to a trivial `SELECT 1` transaction with the same
// 50 clients measured in the same run; then counts gaps and duplicates in the
// register (both must be 0). On PGlite, and on PostgreSQL too when
// BENCH_DATABASE_URL is set (a scratch database is created there and dropped).
// `npm run bench:numbering` (SECONDS=N per measurement, CLIENTS=N).
import crypto from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { connectDatabase, type DbHandle } from '../server/platform/db/index.js';
import { startEmbeddedDatabase } from '../server/platform/db/embedded.js';
import { migrateToLatest } from '../server/platform/db/migrate.js';
import { allocateNumber } from '../server/modules/numbering/service.js';

const SECONDS = Number(process.env.SECONDS ?? 5);
const CLIENTS = Number(process.env.CLIENTS ?? 50);

/** Runs `CLIENTS` loops of fn for SECONDS; returns completed calls per second. */
async function rate(fn: () => Promise<unknown>): Promise<{ n: number; perSecond: number }> {
  const until = performance.now() + SECONDS * 1000;
  let n = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < until) {
        await fn();
        n++;
      }
    }),
  );
  return { n, perSecond: n / ((performance.now() - t0) / 1000) };
}

async function measure(label: string, h: DbHandle) {
  await migrateToLatest(h.db);
  const unit = await h.db.insertInto('units').values({ code: 'BENCH', name: 'Unit bench', kind: 'dinas' }).returning('id').executeTakeFirstOrThrow();
  const series = await h.db
    .insertInto('number_series')
    .values({ unit_id: unit.id, scope: 'outgoing', kind_code: null, name: 'Bench', format: '{kode}/{nomor}/{unit}/{tahun}', unit_token: 'BENCH' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const request = { scope: 'outgoing' as const, unitId: String(unit.id), kindCode: 'SD', classificationCode: '000.1.5', securityClass: 'biasa', positionCode: 'KADIS', date: new Date(), letterId: null, issuedBy: null };
  const trivial = () => h.db.transaction().execute((trx) => sql`SELECT 1`.execute(trx));
  const allocate = () => h.db.transaction().execute((trx) => allocateNumber(trx, request));
  // Warm-up: connections opened, plans cached.
  for (let i = 0; i < 3; i++) await Promise.all(Array.from({ length: CLIENTS }, trivial));
  await Promise.all(Array.from({ length: CLIENTS }, allocate));
  const ref = await rate(trivial);
  const alloc = await rate(allocate);
  const check = await sql<{ n: string; distinct_seq: string; distinct_number: string; lo: number; hi: number }>`
    SELECT count(*) AS n, count(DISTINCT seq) AS distinct_seq, count(DISTINCT number) AS distinct_number, min(seq) AS lo, max(seq) AS hi
    FROM issued_numbers WHERE series_id = ${series.id}`.execute(h.db);
  const c = check.rows[0];
  const n = Number(c.n);
  const duplicates = n - Number(c.distinct_seq) + (n - Number(c.distinct_number));
  const gaps = Number(c.hi) - Number(c.lo) + 1 - Number(c.distinct_seq);
  return {
    database: label,
    clients: CLIENTS,
    'SELECT 1 tx/s (reference)': ref.perSecond.toFixed(0),
    'allocations/s': alloc.perSecond.toFixed(0),
    'ratio to SELECT 1': `${((alloc.perSecond / ref.perSecond) * 100).toFixed(1)}%`,
    'numbers issued': n,
    gaps,
    duplicates,
  };
}

const rows = [];
const embedded = await startEmbeddedDatabase({});
const lite = connectDatabase(embedded.url, CLIENTS);
rows.push(await measure('PGlite', lite));
await lite.close();
await embedded.stop();

const pgUrl = process.env.BENCH_DATABASE_URL;
if (pgUrl) {
  const name = `tnde_bench_numbering_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(pgUrl);
  u.pathname = '/' + name;
  const h = connectDatabase(u.toString(), CLIENTS);
  try {
    rows.push(await measure('PostgreSQL', h));
  } finally {
    await h.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

console.log(`bench/numbering: ${CLIENTS} concurrent clients, ${SECONDS} s per measurement, one transaction per allocation, one counter`);
console.table(rows);
if (rows.some((r) => r.gaps !== 0 || r.duplicates !== 0)) {
  console.error('FAIL: gaps or duplicates in the register');
  process.exit(1);
}
process.exit(0);
