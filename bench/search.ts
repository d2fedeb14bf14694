// bench/search: archive search and the archivist's "due for destruction" list
// over 1,000,000 letters (records), as ratios to a primary-key lookup measured in
// the same run. `npm run bench:search` (PGlite, data kept in BENCH_DATA_DIR,
// default .bench-data/search, so the million letters are generated once), or
// with BENCH_DATABASE_URL=postgres://.../tnde_bench on a real PostgreSQL (the
// database is created when missing). LETTERS=N for a quicker run; SAMPLES=N.
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { sql } from 'kysely';
import { loadConfig } from '../server/config.js';
import { connectDatabase, type DbHandle } from '../server/platform/db/index.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../server/platform/db/embedded.js';
import { migrateToLatest } from '../server/platform/db/migrate.js';
import { createLogger } from '../server/platform/bootstrap.js';
import type { AppContext } from '../server/platform/context.js';
import { seedDemoOrganisation } from '../server/modules/org/demo.js';
import { loadCurrentUser } from '../server/platform/auth/current-user.js';
import { searchRecords } from '../server/modules/archive/search.js';
import { dueForDestruction } from '../server/modules/archive/service.js';
import { jakartaDate } from '../server/modules/org/hierarchy.js';
import { generateLetters } from './generate-letters.js';
import { sample, summary } from './support.js';

const LETTERS = Number(process.env.LETTERS ?? 1_000_000);
const N = Number(process.env.SAMPLES ?? 100);
const pgUrl = process.env.BENCH_DATABASE_URL;
const dataDir = path.resolve(process.env.BENCH_DATA_DIR ?? '.bench-data/search');

async function ensureDatabase(url: string) {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: Object.assign(new URL(url), { pathname: '/postgres' }).toString() });
  await admin.connect();
  if (!(await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount) await admin.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
  await admin.end();
}

let embedded: EmbeddedDatabase | undefined;
let handle: DbHandle;
if (pgUrl) {
  await ensureDatabase(pgUrl);
  handle = connectDatabase(pgUrl, 4);
} else {
  fs.mkdirSync(dataDir, { recursive: true });
  embedded = await startEmbeddedDatabase({ dataDir });
  handle = connectDatabase(embedded.url, 4);
}
const { db } = handle;
await migrateToLatest(db);
const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, CERTS_DIR: path.join(dataDir, 'certs'), SESSION_SECRET: 'x'.repeat(40), LOG_LEVEL: 'silent' });
if (!(await db.selectFrom('users').select('id').where('username', '=', 'arsiparis').executeTakeFirst())) {
  await seedDemoOrganisation({ config, db, dbHandle: handle, logger: createLogger(config) } as AppContext, 'bench-password-123');
}

const t0 = Date.now();
const added = await generateLetters(db, LETTERS, { progress: (n) => process.stderr.write(`\r${n} letters`) });
process.stderr.write('\n');
const seconds = (Date.now() - t0) / 1000;
const total = Number((await sql<{ n: string }>`SELECT count(*) AS n FROM records`.execute(db)).rows[0]!.n);

const arsiparisId = String((await db.selectFrom('users').select('id').where('username', '=', 'arsiparis').executeTakeFirstOrThrow()).id);
const arsiparis = (await loadCurrentUser(db, arsiparisId, 'token', null))!;
const maxId = Number((await sql<{ m: string }>`SELECT max(id) AS m FROM records`.execute(db)).rows[0]!.m);
const ctx = { db };
const page = { size: 20, offset: 0 };
const today = jakartaDate(new Date());

const timed = (fn: () => Promise<unknown>) => async () => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};
let seed = 1;
const randomId = () => String(1 + ((seed = (seed * 48271) % 2147483647) % maxId));

// The figures measure real work: the searches find something, the due list is not empty.
const common = await searchRecords(ctx, arsiparis, { q: 'jembatan sekolah' }, page);
const rare = await searchRecords(ctx, arsiparis, { q: 'menara kalijodo' }, page);
// What an archivist usually types: the same words narrowed to one unit and one year.
const first = rare.results.find((r) => r.recordDate)!;
const year = first.recordDate!.slice(0, 4);
const narrowed = { q: 'menara kalijodo', unit: first.unitId, from: `${year}-01-01`, to: `${year}-12-31` };
const typical = await searchRecords(ctx, arsiparis, narrowed, page);
const due = await dueForDestruction(db, today, page);
if (!common.total || !rare.total || !due.length) throw new Error(`nothing found: common ${common.total}, rare ${rare.total}, due ${due.length}`);

const pkMs = await sample(N, timed(() => db.selectFrom('records').selectAll().where('id', '=', randomId()).executeTakeFirst()));
const commonMs = await sample(N, timed(() => searchRecords(ctx, arsiparis, { q: 'jembatan sekolah' }, page)));
const rareMs = await sample(N, timed(() => searchRecords(ctx, arsiparis, { q: 'menara kalijodo' }, page)));
const typicalMs = await sample(N, timed(() => searchRecords(ctx, arsiparis, narrowed, page)));
const numberMs = await sample(N, timed(() => searchRecords(ctx, arsiparis, { q: common.results[0]!.number ?? '' }, page)));
const dueMs = await sample(N, timed(() => dueForDestruction(db, today, page)));

console.log(`bench/search on ${pgUrl ? 'PostgreSQL' : 'PGlite'}: ${total} records (${added} generated in ${seconds.toFixed(0)} s), ${N} samples each, page of 20, as arsiparis with the access predicate`);
console.table([
  summary('primary-key lookup of a record (reference)', pkMs),
  summary(`search "jembatan sekolah" (${common.totalCapped ? 'over ' : ''}${common.total} hits, ranked)`, commonMs, pkMs),
  summary(`search "menara kalijodo" (${rare.totalCapped ? 'over ' : ''}${rare.total} hits, ranked)`, rareMs, pkMs),
  summary(`search "menara kalijodo" in one unit and year (${typical.totalCapped ? 'over ' : ''}${typical.total} hits, ranked)`, typicalMs, pkMs),
  summary('search by a pasted letter number', numberMs, pkMs),
  summary('due for destruction, first page (archive/service dueForDestruction)', dueMs, pkMs),
]);
await handle.close();
await embedded?.stop();
process.exit(0);
