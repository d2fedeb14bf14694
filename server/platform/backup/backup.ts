// `backup --out FILE` (DESIGN.md section 6): the database and the manifest of
// objects from one snapshot, the CA and installation key files, and a SHA-256 of
// every part, in one tar written atomically. The objects' bytes are not in the
// file: they are in the backup store, and the backup is written only once every
// object the manifest names is there.
//
// CERTS_DIR's files are included: a restored installation needs the CA key to go
// on issuing certificates and CRLs, and the installation key to go on signing
// audit checkpoints and exchange messages under the identity peers know. Both keys
// are encrypted under the CA passphrase, which is never written to a backup (nor
// DATA_DIR/session.secret): keep CA_PASSPHRASE and SESSION_SECRET apart.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import type { AppContext } from '../context.js';
import { replicatePending } from '../storage/replication.js';
import { writeArchive, fileDigest } from './archive.js';
import { readFacts, writeObjectList, dumpLogical, pgDump, readObjectList, type SnapshotFacts } from './database.js';

export const BACKUP_FORMAT = 'tnde-backup/1';
/** CERTS_DIR files carried in a backup; `ca-passphrase` (a clear-text secret) never is. */
export const CERT_FILES = ['ca.crt', 'ca.key', 'installation.key', 'installation.pub'];

export interface BackupManifest extends Omit<SnapshotFacts, 'tables'> {
  format: typeof BACKUP_FORMAT;
  createdAt: string;
  /** Tables in load order. */
  tables: string[];
  database: { kind: 'pg_dump'; pgDump: string } | { kind: 'logical' };
  objects: { count: number; bytes: number };
  certs: string[];
  parts: { name: string; sha256: string; size: number }[];
}

export interface BackupResult {
  file: string;
  manifest: BackupManifest;
  size: number;
  replicated: number;
  repaired: number;
}

const MANIFEST = 'manifest.json';
/** The manifest's own hash, so that a changed byte in it is found too. */
const MANIFEST_SUM = 'manifest.sha256';

export async function createBackup(ctx: AppContext, out: string, log: (line: string) => void = () => {}): Promise<BackupResult> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-backup-'));
  try {
    const { facts, database, parts } = await dumpSnapshot(ctx, work, log);
    const objects = await readObjectList(path.join(work, 'objects.ndjson'));
    const { replicated, repaired } = await ensureObjectsBackedUp(ctx, objects, log);

    const certs = CERT_FILES.filter((f) => fs.existsSync(path.join(ctx.config.certsDir, f)));
    fs.mkdirSync(path.join(work, 'certs'));
    for (const f of certs) fs.copyFileSync(path.join(ctx.config.certsDir, f), path.join(work, 'certs', f));
    const names = ['objects.ndjson', ...parts, ...certs.map((f) => `certs/${f}`)];
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      createdAt: new Date().toISOString(),
      ...facts,
      database,
      objects: { count: objects.length, bytes: objects.reduce((s, o) => s + o.size, 0) },
      certs,
      parts: [],
    };
    for (const name of names) manifest.parts.push({ name, ...(await fileDigest(path.join(work, name))) });
    const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
    fs.writeFileSync(path.join(work, MANIFEST), manifestBytes);
    fs.writeFileSync(path.join(work, MANIFEST_SUM), crypto.createHash('sha256').update(manifestBytes).digest('hex') + '  manifest.json\n');
    await writeArchive(path.resolve(out), [MANIFEST_SUM, MANIFEST, ...names].map((name) => ({ name, file: path.join(work, name) })));
    return { file: path.resolve(out), manifest, size: fs.statSync(out).size, replicated, repaired };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Facts, objects list and dump, all from one REPEATABLE READ snapshot. */
async function dumpSnapshot(ctx: AppContext, work: string, log: (line: string) => void) {
  const client = await ctx.dbHandle.pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      // On a server the snapshot is exported first, so pg_dump sees exactly what the facts below see.
      const snapshot = ctx.config.embeddedDatabase ? null : (await client.query(`SELECT pg_export_snapshot() AS s`)).rows[0].s as string;
      const facts = await readFacts(client);
      await writeObjectList(client, path.join(work, 'objects.ndjson'));
      if (snapshot) {
        const version = await pgDump(ctx.config.DATABASE_URL!, snapshot, facts.serverVersion, path.join(work, 'db.dump'));
        log(`pg_dump ${version} for PostgreSQL ${facts.serverVersion}: custom format from the backup's snapshot`);
        return { facts, database: { kind: 'pg_dump' as const, pgDump: version }, parts: ['db.dump'] };
      }
      const parts = await dumpLogical(client, facts.tables, work);
      log(`embedded database (PGlite, PostgreSQL ${facts.serverVersion}): logical dump of ${facts.tables.length} tables from one snapshot`);
      return { facts, database: { kind: 'logical' as const }, parts };
    } finally {
      await client.query('COMMIT');
    }
  } finally {
    client.release();
  }
}

/**
 * Every object the manifest names must be in the backup store before the backup
 * counts: replicate what is pending, then list the backup store and send again
 * what is absent or of the wrong size (its mark is cleared, so replication copies it).
 */
async function ensureObjectsBackedUp(ctx: AppContext, objects: { sha256: string; size: number }[], log: (line: string) => void) {
  const where = ctx.backupStore.bucket;
  try {
    await ctx.backupStore.ping();
  } catch (e) {
    throw new Error(`the backup store (bucket ${where}) is unreachable: ${(e as Error).message}. No backup written: the objects would not be recoverable.`);
  }
  let replicated = 0;
  let repaired = 0;
  const drain = async () => {
    for (let stalled = 0; stalled < 3; ) {
      const r = await replicatePending(ctx);
      replicated += r.copied;
      if (r.pending === 0) return;
      stalled = r.copied === 0 ? stalled + 1 : 0;
    }
    throw new Error(`objects could not be copied to the backup store (bucket ${where}); see the log. No backup written.`);
  };
  await drain();
  const present = new Map<string, number>();
  for await (const o of ctx.backupStore.list()) present.set(o.sha256, o.size);
  const missing = objects.filter((o) => present.get(o.sha256) !== o.size).map((o) => o.sha256);
  if (missing.length) {
    log(`${missing.length} object(s) marked as backed up were absent or damaged in the backup store: copying them again`);
    for (let i = 0; i < missing.length; i += 1000) {
      await ctx.db.updateTable('objects').set({ backed_up_at: null }).where('sha256', 'in', missing.slice(i, i + 1000)).where('destroyed_at', 'is', null).execute();
    }
    await drain();
    repaired = missing.length;
    const after = new Set<string>();
    for await (const o of ctx.backupStore.list()) after.add(o.sha256);
    const still = missing.filter((s) => !after.has(s));
    if (still.length) throw new Error(`${still.length} object(s) are not in the backup store and could not be copied (first: ${still[0]}). No backup written.`);
  }
  log(`objects: ${objects.length} in the manifest, all present in the backup store (${replicated} copied now${repaired ? `, ${repaired} sent again` : ''})`);
  return { replicated, repaired };
}
