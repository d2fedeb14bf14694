// bench/backup: backup and restore of an installation with LETTERS signed letters
// (default 10,000), against references measured in the same run on the same data:
// a plain database dump and load (pg_dump -Fc / pg_restore on PostgreSQL with
// BENCH_DATABASE_URL; on PGlite, dumpDataDir of the closed data directory and
// PGlite.create({ loadDataDir })), and a plain copy of every object between two
// buckets (list + get + put with minio, 8 at a time, as restore fetches).
//
// The letters: ONE letter goes through the real life cycle (drafted, approved,
// rendered, signed, stored); the others are its rows cloned in SQL (letter,
// version, recipients, issued number, signature), each with its own PDF: the
// same unsigned page signed again with signPdf under another reason, so
// every object is distinct and every signature really verifies when restore
// checks it (one signature is ~1 ms; rendering 10,000 letters would dominate).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import supertest from 'supertest';
import { Client } from 'minio';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { PGlite } from '@electric-sql/pglite';
import { loadConfig } from '../server/config.js';
import { startPlatform, type Platform } from '../server/platform/bootstrap.js';
import { startEmbeddedStorage, type EmbeddedStorage } from '../server/platform/storage/embedded.js';
import { replicatePending } from '../server/platform/storage/replication.js';
import { seedDemoOrganisation } from '../server/modules/org/demo.js';
import { createApiToken } from '../server/modules/account/service.js';
import { unlockSigningIdentity } from '../server/modules/signing/service.js';
import { signPdf } from '../server/modules/signing/pades.js';
import { buildApp } from '../server/app.js';
import { createBackup } from '../server/platform/backup/backup.js';
import { restoreBackup } from '../server/platform/backup/restore.js';

const LETTERS = Number(process.env.LETTERS ?? 10_000);
const pgUrl = process.env.BENCH_DATABASE_URL;
const PASSWORD = 'rahasia-bench-123';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-bench-backup-'));
const databases: string[] = [];

const secs = (ms: number) => (ms / 1000).toFixed(1) + ' s';
const mb = (b: number) => (b / 1e6).toFixed(1) + ' MB';
const ratio = (a: number, b: number) => (a / b).toFixed(2) + 'x';

async function admin(sql: string) {
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  await c.query(sql).finally(() => c.end());
}

function dbUrl(name: string): string {
  const u = new URL(pgUrl!);
  u.pathname = '/' + name;
  return u.toString();
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

async function main() {
  const primary = await startEmbeddedStorage({ dir: path.join(tmp, 's3-primary'), bucket: 'tnde' });
  const backupSite = await startEmbeddedStorage({ dir: path.join(tmp, 's3-backup'), bucket: 'tnde-backup' });
  const env = async (name: string, bucket: string) => {
    const e: Record<string, string> = {
      NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: path.join(tmp, name), CERTS_DIR: path.join(tmp, name, 'certs'),
      CA_PASSPHRASE: 'bench-ca-passphrase-0123456789', SESSION_SECRET: 's'.repeat(40),
      S3_ENDPOINT: primary.settings.endPoint, S3_ACCESS_KEY: 'S3RVER', S3_SECRET_KEY: 'S3RVER', S3_BUCKET: bucket,
      BACKUP_S3_ENDPOINT: backupSite.settings.endPoint, BACKUP_S3_ACCESS_KEY: 'S3RVER', BACKUP_S3_SECRET_KEY: 'S3RVER', BACKUP_S3_BUCKET: 'tnde-backup',
    };
    if (pgUrl) {
      const db = `tnde_bench_backup_${process.pid}_${name}`;
      await admin(`CREATE DATABASE ${db}`);
      databases.push(db);
      e.DATABASE_URL = dbUrl(db);
    }
    return loadConfig(e);
  };

  const configA = await env('a', 'tnde');
  let a: Platform | undefined = await startPlatform(configA);
  const ctx = a.ctx;
  await seedDemoOrganisation(ctx, PASSWORD);
  console.log(`bench:backup: ${LETTERS} signed letters on ${pgUrl ? 'PostgreSQL' : 'PGlite'}; s3rver for both stores`);

  // One letter through the real life cycle.
  const app = buildApp(ctx);
  const token = async (u: string) => {
    const r = await ctx.db.selectFrom('users').select(['id', 'username', 'roles']).where('username', '=', u).executeTakeFirstOrThrow();
    return (await createApiToken(ctx, { id: String(r.id), username: r.username, roles: r.roles }, 'bench')).token;
  };
  const t: Record<string, string> = {};
  for (const u of ['konseptor', 'pemeriksa1', 'pemeriksa2', 'penandatangan']) t[u] = await token(u);
  const post = (who: string, url: string, body: object) => supertest(app).post(url).set('Authorization', `Bearer ${t[who]}`).send(body);
  const created = await post('konseptor', '/api/v1/letters', { kind: 'SD', subject: 'Undangan Rapat Koordinasi', urgency: 'biasa', securityClass: 'biasa', classificationCode: '000.1.5', signer: 'penandatangan', to: [{ unit: 'DISDIK' }], body: '<p>Dengan hormat, kami mengundang Bapak/Ibu untuk hadir pada rapat koordinasi.</p>' });
  const id = created.body.id as string;
  await post('konseptor', `/api/v1/letters/${id}/submit`, {});
  await post('pemeriksa1', `/api/v1/letters/${id}/approve`, { version: 1 });
  await post('pemeriksa2', `/api/v1/letters/${id}/approve`, { version: 1 });
  const signed = await post('penandatangan', `/api/v1/letters/${id}/sign`, { passphrase: PASSWORD });
  if (signed.status !== 200) throw new Error(`sign failed: ${JSON.stringify(signed.body)}`);

  // The others: distinct PDFs, really signed, stored, and the letter's rows cloned in SQL.
  const gen = await timed(async () => {
    const signer = await ctx.db.selectFrom('users').select('id').where('username', '=', 'penandatangan').executeTakeFirstOrThrow();
    const { identity } = await unlockSigningIdentity(ctx.db, String(signer.id), PASSWORD);
    const doc = await PDFDocument.create();
    const font = await doc.embedFont(StandardFonts.Helvetica);
    doc.addPage().drawText('Surat Dinas (bench)', { x: 72, y: 720, font, size: 12 });
    const unsigned = await doc.save({ useObjectStreams: false });
    const shas: string[] = new Array(LETTERS - 1);
    let next = 0;
    // The reason differs, so each signed file does: signing times within a second would not (/M has seconds).
    const at = new Date();
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < LETTERS - 1) {
        const i = next++;
        const pdf = await signPdf(unsigned, identity, { signingTime: at, reason: `bench ${i}` });
        shas[i] = (await ctx.store.put(ctx.db, pdf, 'application/pdf', null)).sha256;
      }
    }));
    await cloneSigned(ctx.dbHandle.pool, id, shas);
  });
  const repl = await timed(async () => {
    for (;;) if ((await replicatePending(ctx, { limit: 5000 })).pending === 0) return;
  });
  console.log(`  set-up: ${LETTERS - 1} letters signed, stored and cloned in ${secs(gen.ms)}; replication to the backup store ${secs(repl.ms)}`);

  // ---- the backup command, and the references ----
  const file = path.join(tmp, 'tnde.backup.tar');
  const backup = await timed(() => createBackup(ctx, file));
  const m = backup.value.manifest;
  const dbRef = pgUrl ? await timed(async () => execFileSync('pg_dump', ['-Fc', '-f', path.join(tmp, 'plain.dump'), configA.DATABASE_URL!])) : undefined;

  const s3 = (s: EmbeddedStorage) => new Client({ endPoint: '127.0.0.1', port: Number(new URL(s.settings.endPoint).port), useSSL: false, accessKey: 'S3RVER', secretKey: 'S3RVER', region: 'us-east-1', pathStyle: true });
  const from = s3(primary);
  const to = s3(backupSite);
  await to.makeBucket('plain-copy', 'us-east-1');
  const copy = await timed(async () => {
    const names: string[] = [];
    for await (const o of from.listObjects('tnde', '', true)) names.push((o as { name: string }).name);
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < names.length) {
        const name = names[next++];
        const chunks: Buffer[] = [];
        for await (const c of await from.getObject('tnde', name)) chunks.push(c as Buffer);
        const bytes = Buffer.concat(chunks);
        await to.putObject('plain-copy', name, bytes, bytes.length);
      }
    }));
    return names.length;
  });
  await a.stop();
  a = undefined;

  // ---- restore into a new installation (new database, new primary bucket), and the references ----
  const configB = await env('b', 'tnde-restored');
  const b = await startPlatform(configB);
  const phases: string[] = [];
  const t0 = performance.now();
  const restore = await timed(() => restoreBackup(b.ctx, file, (line) => phases.push(`    ${secs(performance.now() - t0).padStart(8)}  ${line}`)));
  await b.stop();
  if (!restore.value.ok) throw new Error(`restore did not verify: ${restore.value.failures.slice(0, 5).join('; ')}`);

  let dbDump: { label: string; ms: number; bytes: number };
  let dbLoad: { label: string; ms: number };
  if (pgUrl) {
    const target = `tnde_bench_backup_${process.pid}_plain`;
    await admin(`CREATE DATABASE ${target}`);
    databases.push(target);
    const load = await timed(async () => execFileSync('pg_restore', ['--no-owner', '--dbname', dbUrl(target), path.join(tmp, 'plain.dump')]));
    dbDump = { label: 'pg_dump -Fc', ms: dbRef!.ms, bytes: fs.statSync(path.join(tmp, 'plain.dump')).size };
    dbLoad = { label: 'pg_restore', ms: load.ms };
  } else {
    // The same data directory, closed: PGlite's own dump (a tarball of the data directory) and load.
    const pgl = await PGlite.create(path.join(configA.dataDir, 'pglite'));
    const dump = await timed(() => pgl.dumpDataDir('gzip'));
    await pgl.close();
    const load = await timed(async () => (await PGlite.create({ loadDataDir: dump.value })).close());
    dbDump = { label: 'PGlite dumpDataDir(gzip)', ms: dump.ms, bytes: dump.value.size };
    dbLoad = { label: 'PGlite create({ loadDataDir })', ms: load.ms };
  }

  console.log(`  database: ${Object.values(m.counts).reduce((x, y) => x + y, 0)} rows in ${m.tables.length} tables; objects: ${m.objects.count} (${mb(m.objects.bytes)}); signed letters: ${m.signedLetters}`);
  console.log('');
  console.log(`  backup --out      ${secs(backup.ms).padStart(9)}   file ${mb(backup.value.size)}`);
  console.log(`    ${dbDump.label.padEnd(30)} ${secs(dbDump.ms).padStart(9)}   file ${mb(dbDump.bytes)}`);
  console.log(`    plain object copy (${copy.value} objects) ${secs(copy.ms).padStart(9)}`);
  console.log(`    ratios: time ${ratio(backup.ms, dbDump.ms)} of the database dump, ${ratio(backup.ms, dbDump.ms + copy.ms)} of dump + object copy; size ${ratio(backup.value.size, dbDump.bytes)} of the dump`);
  console.log(`  restore --from    ${secs(restore.ms).padStart(9)}   (load + fetch every object + verify counts, audit chain, ${m.signedLetters} signatures)`);
  phases.forEach((p) => console.log(p));
  console.log(`    ${dbLoad.label.padEnd(30)} ${secs(dbLoad.ms).padStart(9)}`);
  console.log(`    ratios: time ${ratio(restore.ms, dbLoad.ms + copy.ms)} of database load + object copy`);
}

/** The signed letter's rows, once per PDF: letter, versions, recipients, issued number, signature. */
async function cloneSigned(pool: pg.Pool, letterId: string, shas: string[]) {
  const columns = async (table: string, except: string[]) =>
    (await pool.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 AND is_generated = 'NEVER' ORDER BY ordinal_position`, [table])).rows
      .map((r: { column_name: string }) => r.column_name)
      .filter((c: string) => !except.includes(c));
  const n = shas.length;
  const letterCols = await columns('letters', ['id']);
  const select = letterCols.map((c) => (c === 'number' ? `number || '-' || g` : c)).join(', ');
  const ids: string[] = (await pool.query(`INSERT INTO letters (${letterCols.join(', ')}) SELECT ${select} FROM letters, generate_series(1, $2) g WHERE id = $1 ORDER BY g RETURNING id`, [letterId, n])).rows.map((r) => String(r.id));
  for (const table of ['letter_versions', 'letter_recipients']) {
    const cols = await columns(table, ['id', 'letter_id']);
    await pool.query(`INSERT INTO ${table} (letter_id, ${cols.join(', ')}) SELECT x.id, ${cols.map((c) => `t.${c}`).join(', ')} FROM ${table} t, unnest($2::bigint[]) AS x(id) WHERE t.letter_id = $1`, [letterId, ids]);
  }
  const issued: string[] = (
    await pool.query(
      `INSERT INTO issued_numbers (series_id, year, seq, number, letter_id, issued_by, issued_at)
       SELECT i.series_id, i.year, i.seq + x.ord, i.number || '-' || x.ord, x.id, i.issued_by, i.issued_at
       FROM issued_numbers i, unnest($2::bigint[]) WITH ORDINALITY AS x(id, ord) WHERE i.letter_id = $1 ORDER BY x.ord RETURNING id`,
      [letterId, ids],
    )
  ).rows.map((r) => String(r.id));
  await pool.query(
    `INSERT INTO letter_signatures (letter_id, certificate_id, signer_id, pdf_sha256, issued_number_id, signed_at, on_behalf, verification_id)
     SELECT x.id, s.certificate_id, s.signer_id, x.sha, x.issued, s.signed_at, s.on_behalf, md5(random()::text || x.id)
     FROM letter_signatures s, unnest($2::bigint[], $3::text[], $4::bigint[]) AS x(id, sha, issued) WHERE s.letter_id = $1`,
    [letterId, ids, shas, issued],
  );
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const db of databases) await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => {});
    fs.rmSync(tmp, { recursive: true, force: true });
    process.exit();
  });
