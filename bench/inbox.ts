// bench/inbox: the "Perlu Tindakan" page and GET /api/v1/inbox with 100,000
// letters in the database, as ratios to a bare Express handler measured in the
// same run. `npx tsx bench/inbox.ts` (PGlite) or with TEST_DATABASE_URL set
// (a real PostgreSQL). LETTERS=N changes the volume.
import express from 'express';
import { sql } from 'kysely';
import { startTestEnv, DEMO_PASSWORD } from '../test/support/harness.js';
import { listen, timedGet, sample, summary, loginCookie } from './support.js';

const LETTERS = Number(process.env.LETTERS ?? 100_000);
const N = Number(process.env.SAMPLES ?? 200);

const env = await startTestEnv();
const { db } = env.ctx;
const t0 = Date.now();
const byName = <T extends { id: string }>(rows: T[], key: (r: T) => string) => Object.fromEntries(rows.map((r) => [key(r), String(r.id)]));
const users = byName(await db.selectFrom('users').select(['id', 'username']).execute(), (r) => r.username);
const pos = byName(await db.selectFrom('positions').select(['id', 'code']).execute(), (r) => r.code);
const unit = (await db.selectFrom('units').select('id').where('code', '=', 'DKIS.APTIKA.PA').executeTakeFirstOrThrow()).id;

// Most letters are finished history; about 1 in 2,000 waits for pemeriksa1's position,
// a few hundred wait for the signer, the rest spread across states.
await sql`
  INSERT INTO letters (kind_code, unit_id, drafter_id, drafter_position_id, signer_id, signer_position_id, subject, urgency,
                       security_class, classification_code, state, version, version_sha256, review_round,
                       awaiting_position_id, awaiting_user_id, created_at, updated_at)
  SELECT 'SD', ${unit}, CASE WHEN g % 3 = 0 THEN ${users.staf1}::bigint ELSE ${users.konseptor}::bigint END, ${pos['ANALIS-PA']},
         ${users.penandatangan}, ${pos['KADIS-DKIS']}, 'Surat nomor ' || g || ' tentang koordinasi', 'biasa', 'biasa', '000.1.5',
         CASE WHEN g % 2000 = 0 THEN 'in_review' WHEN g % 500 = 1 THEN 'approved' WHEN g % 50 = 2 THEN 'draft' ELSE 'signed' END,
         1, repeat('a', 64), 1,
         CASE WHEN g % 2000 = 0 THEN ${pos['KASI-PA']}::bigint END,
         CASE WHEN g % 500 = 1 THEN ${users.penandatangan}::bigint END,
         now() - (g || ' minutes')::interval, now() - (g || ' minutes')::interval
  FROM generate_series(1, ${LETTERS}) AS g`.execute(db);
await sql`ANALYZE letters`.execute(db);
const seeded = Date.now() - t0;

const ours = await listen(env.app);
const bare = express();
bare.get('/bare', (_req, res) => {
  res.json({ ok: true });
});
const ref = await listen(bare);

const cookie = await loginCookie(ours.url, 'pemeriksa1', DEMO_PASSWORD);
const token = await env.tokenFor('pemeriksa1');
const signerToken = await env.tokenFor('penandatangan');
// Check the figures measure real work: the API answers with the expected count.
const check = await (await fetch(`${ours.url}/api/v1/inbox?box=action`, { headers: { authorization: `Bearer ${token}` } })).json();
const expected = Math.floor(LETTERS / 2000);
if (check.total !== expected) throw new Error(`expected ${expected} letters waiting for pemeriksa1, API says ${check.total}`);

const bareMs = await sample(N, () => timedGet(`${ref.url}/bare`));
const apiMs = await sample(N, () => timedGet(`${ours.url}/api/v1/inbox?box=action`, { authorization: `Bearer ${token}` }));
const signerApiMs = await sample(N, () => timedGet(`${ours.url}/api/v1/inbox?box=action`, { authorization: `Bearer ${signerToken}` }));
const pageMs = await sample(N, () => timedGet(`${ours.url}${process.env.INBOX_PAGE ?? "/surat?box=action"}`, { cookie }));
const homeMs = await sample(N, () => timedGet(`${ours.url}/`, { cookie }));

console.log(`bench/inbox on ${process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'PGlite'}: ${LETTERS} letters (seeded in ${(seeded / 1000).toFixed(1)} s), ${N} samples each`);
console.table([
  summary('bare Express handler (reference)', bareMs),
  summary('GET /api/v1/inbox (pemeriksa1, ' + expected + ' waiting)', apiMs, bareMs),
  summary('GET /api/v1/inbox (penandatangan)', signerApiMs, bareMs),
  summary('page /surat?box=action (Perlu Tindakan)', pageMs, bareMs),
  summary('home page / (for comparison)', homeMs, bareMs),
]);
await ours.close();
await ref.close();
await env.close();
process.exit(0);
