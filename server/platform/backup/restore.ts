// `restore --from FILE` (DESIGN.md section 6): into an empty installation only.
// The file is checked whole before anything changes (structure, every part's
// SHA-256 against the manifest, the manifest's own hash), then the database is
// loaded, the CA files are put back, every object is fetched from the backup
// store into the primary store (each checked against its address), and the
// result is verified: row counts, the audit chain and its head, and every signed
// letter's stored PDF. The report says what failed; only a full pass is success.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../config.js';
import type { AppContext } from '../context.js';
import { findRunningEmbeddedDatabase } from '../db/embedded.js';
import { migrateToLatest } from '../db/migrate.js';
import { verifyAuditChain } from '../audit/index.js';
import { verifyPdf, type VerifyReason } from '../../modules/signing/verify.js';
import { verificationOptions } from '../../modules/signing/service.js';
import { decryptPrivateKey } from '../../modules/signing/ca.js';
import { extractArchive, DamagedArchiveError } from './archive.js';
import { loadLogical, pgRestore, checkPgRestore, readObjectList, type ObjectLine } from './database.js';
import { BACKUP_FORMAT, type BackupManifest } from './backup.js';

/** Refused before anything changed; the message says why and what to do. */
export class RestoreRefused extends Error {}

/**
 * What makes a stored signature bad: the bytes or the signature itself. Whether its
 * certificate is still trusted (an anchor deactivated since, a revocation) is reported
 * but is the installation's state as backed up, not damage.
 */
const DAMAGE: VerifyReason[] = ['no_signature', 'byte_range_invalid', 'not_whole_document', 'content_after_signature', 'cms_invalid', 'digest_mismatch', 'signature_invalid', 'not_pades'];
const PARALLEL = 8;

export interface RestoreResult {
  ok: boolean;
  failures: string[];
}

/** Checked before the CLI opens the embedded database: a running server holds it. */
export async function refuseWhileServerRuns(config: Config): Promise<string | null> {
  if (!config.embeddedDatabase || !(await findRunningEmbeddedDatabase(config.dataDir))) return null;
  return `Refused: a TNDE server is running on ${config.dataDir}. Stop it first; restore needs the installation to itself. Nothing was changed.`;
}

export async function restoreBackup(ctx: AppContext, file: string, log: (line: string) => void = () => {}): Promise<RestoreResult> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-restore-'));
  try {
    const manifest = await openBackup(file, work);
    log(`backup of ${manifest.createdAt}: schema ${manifest.schemaVersion}, ${manifest.tables.length} tables, ${manifest.objects.count} objects, ${manifest.signedLetters} signed letters, audit head ${manifest.auditHead.seq}`);
    await checkTarget(ctx, manifest, work);

    // ---- from here on the installation changes ----
    if (manifest.database.kind === 'logical') {
      const client = await ctx.dbHandle.pool.connect();
      try {
        await loadLogical(client, manifest.tables, work);
      } finally {
        client.release();
      }
    } else {
      // pg_restore brings the schema as it was backed up; newer migrations then apply as on any upgrade.
      await ctx.dbHandle.pool.query('DROP SCHEMA public CASCADE');
      await pgRestore(ctx.config.DATABASE_URL!, path.join(work, 'db.dump'));
      await migrateToLatest(ctx.db);
    }
    log('database loaded');
    fs.mkdirSync(ctx.config.certsDir, { recursive: true, mode: 0o700 });
    for (const f of manifest.certs) fs.copyFileSync(path.join(work, 'certs', f), path.join(ctx.config.certsDir, f));
    if (manifest.certs.length) log(`CERTS_DIR: ${manifest.certs.join(', ')} restored to ${ctx.config.certsDir}`);

    const failures: string[] = [];
    const objects = await readObjectList(path.join(work, 'objects.ndjson'));
    const fetched = await fetchObjects(ctx, objects, failures);
    log(`objects: ${fetched} of ${objects.length} fetched from the backup store and checked`);
    await verifyRestored(ctx, manifest, failures, log);
    return { ok: failures.length === 0, failures };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Extracts and checks the file; the manifest is trusted only once every byte is accounted for. */
async function openBackup(file: string, work: string): Promise<BackupManifest> {
  const damaged = (why: string) => new RestoreRefused(`Refused: the backup file ${file} is damaged or not a TNDE backup (${why}). Nothing was changed.`);
  if (!fs.existsSync(file)) throw new RestoreRefused(`Refused: ${file} does not exist. Nothing was changed.`);
  let entries;
  try {
    entries = await extractArchive(file, work);
  } catch (e) {
    if (e instanceof DamagedArchiveError) throw damaged(e.message);
    throw e;
  }
  const sum = entries.has('manifest.sha256') ? fs.readFileSync(path.join(work, 'manifest.sha256'), 'utf8').split(/\s/)[0] : undefined;
  if (!sum || entries.get('manifest.json')?.sha256 !== sum) throw damaged('the manifest does not match its SHA-256');
  const manifest = JSON.parse(fs.readFileSync(path.join(work, 'manifest.json'), 'utf8')) as BackupManifest;
  if (manifest.format !== BACKUP_FORMAT) throw damaged(`format ${String(manifest.format)}, expected ${BACKUP_FORMAT}`);
  for (const p of manifest.parts) {
    const got = entries.get(p.name);
    if (!got) throw damaged(`part ${p.name} is missing`);
    if (got.sha256 !== p.sha256 || got.size !== p.size) throw damaged(`part ${p.name} has SHA-256 ${got.sha256}, the manifest says ${p.sha256}`);
  }
  if (entries.size !== manifest.parts.length + 2) throw damaged('it holds entries the manifest does not name');
  return manifest;
}

/** Refuses (changing nothing) unless the installation is empty and can take this backup. */
async function checkTarget(ctx: AppContext, manifest: BackupManifest, work: string): Promise<void> {
  const used = await ctx.dbHandle.pool.query(`SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM letters)::int AS letters`);
  const { users, letters } = used.rows[0];
  if (users || letters) {
    throw new RestoreRefused(`Refused: this installation is not empty (${users} users, ${letters} letters). Restore only into a new, empty installation (a new DATA_DIR or database that no server has started on). Nothing was changed.`);
  }
  const current = (await ctx.dbHandle.pool.query(`SELECT max(name) AS v FROM schema_migrations`)).rows[0].v as string | null;
  const older = manifest.schemaVersion !== null && current !== null && manifest.schemaVersion < current;
  if (manifest.schemaVersion !== current && !(older && manifest.database.kind === 'pg_dump')) {
    throw new RestoreRefused(
      `Refused: the backup is at schema version ${manifest.schemaVersion}, this release at ${current}. ` +
        (older ? 'Restore an embedded-database backup with the release that made it, then upgrade.' : 'Use the release that made the backup (or a newer one).') +
        ' Nothing was changed.',
    );
  }
  // A logical (embedded) backup also loads into a server: the way from PGlite to PostgreSQL.
  if (manifest.database.kind === 'pg_dump') {
    if (ctx.config.embeddedDatabase) throw new RestoreRefused('Refused: this backup is of a PostgreSQL server (pg_dump); set DATABASE_URL to a new, empty database. Nothing was changed.');
    await checkPgRestore(manifest.database.pgDump);
  }
  for (const f of manifest.certs) {
    const target = path.join(ctx.config.certsDir, f);
    if (fs.existsSync(target) && !fs.readFileSync(target).equals(fs.readFileSync(path.join(work, 'certs', f)))) {
      throw new RestoreRefused(`Refused: ${target} exists and differs from the backup's. Move CERTS_DIR's files away (an installation that has started has its own CA) and run restore again. Nothing was changed.`);
    }
  }
  if (manifest.certs.includes('ca.key')) {
    const kept = path.join(ctx.config.certsDir, 'ca-passphrase');
    const passphrase = ctx.config.CA_PASSPHRASE ?? (fs.existsSync(kept) ? fs.readFileSync(kept, 'utf8').trim() : undefined);
    const opens = (() => {
      try {
        return !!passphrase && !!decryptPrivateKey(fs.readFileSync(path.join(work, 'certs', 'ca.key'), 'utf8'), passphrase);
      } catch {
        return false;
      }
    })();
    if (!opens) {
      throw new RestoreRefused(
        `Refused: the backup's CA key does not open with ${passphrase ? 'the configured' : 'any'} CA passphrase. Set CA_PASSPHRASE to the passphrase of the installation that made the backup (it is never in the backup) and run restore again. Nothing was changed.`,
      );
    }
  }
}

/** Runs fn over items, n at a time (network waits overlap; order does not matter). */
async function inParallel<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

async function fetchObjects(ctx: AppContext, objects: ObjectLine[], failures: string[]): Promise<number> {
  let fetched = 0;
  await inParallel(objects, PARALLEL, async (o) => {
    try {
      // get() re-hashes the backup copy; putCopy checks again before writing.
      await ctx.store.putCopy(o.sha256, await ctx.backupStore.get(o.sha256), o.type);
      fetched++;
    } catch (e) {
      failures.push(`object ${o.sha256}: ${(e as Error).message}`);
    }
  });
  return fetched;
}

async function verifyRestored(ctx: AppContext, manifest: BackupManifest, failures: string[], log: (line: string) => void): Promise<void> {
  let countsOk = true;
  for (const [table, expected] of Object.entries(manifest.counts)) {
    const n = Number((await ctx.dbHandle.pool.query(`SELECT count(*) AS n FROM public."${table.replace(/"/g, '""')}"`)).rows[0].n);
    if (n !== expected) {
      countsOk = false;
      failures.push(`table ${table}: ${n} rows, the backup has ${expected}`);
    }
  }
  log(`row counts: ${countsOk ? `all ${Object.keys(manifest.counts).length} tables equal the backup's` : 'DIFFER (see below)'}`);

  const chain = await verifyAuditChain(ctx.db);
  if (!chain.ok) failures.push(`audit chain broken at entry ${chain.firstBad!.seq}: ${chain.firstBad!.reason}`);
  else if (chain.headSeq !== manifest.auditHead.seq || chain.headHash !== manifest.auditHead.hash) {
    failures.push(`audit head is ${chain.headSeq}/${chain.headHash}, the backup's is ${manifest.auditHead.seq}/${manifest.auditHead.hash}`);
  } else log(`audit chain intact: ${chain.count} entries, head ${chain.headSeq} ${chain.headHash} as in the backup`);

  const signed = await ctx.db
    .selectFrom('letter_signatures as s')
    .innerJoin('letters as l', 'l.id', 's.letter_id')
    .select(['s.letter_id', 'l.number', 's.pdf_sha256', 's.signed_at'])
    .orderBy('s.letter_id')
    .execute();
  let good = 0;
  const notes = new Map<string, number>();
  await inParallel(signed, PARALLEL, async (s) => {
    const label = `letter ${s.letter_id} (${s.number ?? 'no number'})`;
    let bytes: Buffer;
    try {
      bytes = await ctx.store.get(s.pdf_sha256);
    } catch (e) {
      failures.push(`${label}: signed PDF not readable: ${(e as Error).message}`);
      return;
    }
    const result = await verifyPdf(bytes, await verificationOptions(ctx.db, { trustedSigningTime: new Date(s.signed_at) }));
    const damage = result.reasons.filter((r) => DAMAGE.includes(r));
    if (damage.length) failures.push(`${label}: signature does not verify: ${damage.join(', ')}`);
    else good++;
    for (const r of result.reasons.filter((r) => !DAMAGE.includes(r))) notes.set(r, (notes.get(r) ?? 0) + 1);
  });
  if (signed.length !== manifest.signedLetters) failures.push(`${signed.length} signed letters, the backup has ${manifest.signedLetters}`);
  log(`signed letters: ${good} of ${signed.length} stored PDFs verify (signature and whole-file coverage)`);
  for (const [reason, n] of notes) log(`  note: ${n} signature(s) report ${reason} (trust state as backed up, not damage)`);
}

