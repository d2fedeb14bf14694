// The integrity scanner (DESIGN.md section 6): every registered object is read
// back from both stores and re-hashed against its address; a bad copy (missing
// or altered) is rewritten from the good one, an object with no good copy is
// reported lost, and an object a disposal destroyed must be gone from both.
// The same run verifies the audit chain and the signed checkpoints. Each run and
// what it found is kept in scan_runs/scan_findings and summed up in the audit
// trail; each repair is an audit entry of its own.
//
// Objects are read whole (ObjectStore.get buffers): at most UPLOAD_MAX_MB each,
// two at a time, which is acceptable for the sizes an office stores.
// No transaction is held while bytes move (PGlite has one connection).
import { sql } from 'kysely';
import type { AppContext } from '../context.js';
import type { PeriodicJob } from '../jobs/index.js';
import type { Executor } from '../db/index.js';
import type { ObjectStore } from './index.js';
import { IntegrityError } from './index.js';
import { appendAudit, verifyAuditChain, type Actor, type ChainVerdict } from '../audit/index.js';
import { storedCheckpoints, verifyCheckpoints, type CheckpointVerdict } from '../audit/checkpoints.js';

const BATCH = 100;
/** A run not finished and without progress for this long has died with its process. */
export const STALLED_AFTER_MINUTES = 10;

export type FindingKind = 'missing' | 'altered' | 'lost' | 'destroyed_present' | 'audit_chain' | 'checkpoint';
export type StoreName = 'primary' | 'backup' | 'both';

export interface Finding {
  kind: FindingKind;
  store: StoreName | null;
  sha256: string | null;
  detail: string;
  repaired: boolean;
}

export interface ScanReport {
  runId: string;
  objectsChecked: number;
  findings: Finding[];
  repaired: number;
  /** Findings that are still wrong after this run. */
  unresolved: number;
  audit: ChainVerdict;
  checkpoints: CheckpointVerdict;
}

export interface ScanOptions {
  repair: boolean;
  trigger?: 'scheduled' | 'manual' | 'cli';
  actor?: Actor;
}

const SYSTEM: Actor = { id: null, name: 'system' };

type CopyState = { ok: true; bytes: Buffer } | { ok: false; problem: 'missing' | 'altered' };

/** Reads one copy and says what is wrong with it; an unreachable store is an error, not a finding. */
async function readCopy(store: ObjectStore, sha256: string): Promise<CopyState> {
  try {
    return { ok: true, bytes: await store.get(sha256) };
  } catch (e) {
    if (e instanceof IntegrityError) return { ok: false, problem: 'altered' };
    const code = (e as { code?: string }).code;
    if (code === 'NoSuchKey' || code === 'NotFound') return { ok: false, problem: 'missing' };
    throw e;
  }
}

export async function scanObjects(ctx: AppContext, opts: ScanOptions): Promise<ScanReport> {
  return (await startScanRun(ctx, opts)).done;
}

/** Records the run, then scans: the run's id is known (and shown as running) before the scan ends. */
export async function startScanRun(ctx: AppContext, opts: ScanOptions): Promise<{ runId: string; done: Promise<ScanReport> }> {
  const actor = opts.actor ?? SYSTEM;
  const run = await ctx.db
    .insertInto('scan_runs')
    .values({ trigger: opts.trigger ?? 'cli', started_by: actor.id, repair: opts.repair })
    .returning('id')
    .executeTakeFirstOrThrow();
  const runId = String(run.id);
  return { runId, done: scan(ctx, opts, actor, runId) };
}

async function scan(ctx: AppContext, opts: ScanOptions, actor: Actor, runId: string): Promise<ScanReport> {
  const findings: Finding[] = [];
  let objectsChecked = 0;

  const stores = { primary: ctx.store, backup: ctx.backupStore };

  /** Records a finding; a repaired one together with its audit entry. */
  const record = async (f: Finding) => {
    findings.push(f);
    const row = { run_id: runId, kind: f.kind, store: f.store, sha256: f.sha256, detail: f.detail, repaired: f.repaired };
    if (!f.repaired) {
      await ctx.db.insertInto('scan_findings').values(row).execute();
      return;
    }
    await ctx.db.transaction().execute(async (trx) => {
      await trx.insertInto('scan_findings').values(row).execute();
      await appendAudit(trx, actor, { action: 'integrity.repair', objectType: 'object', objectId: f.sha256!, docSha256: f.sha256!, details: { runId, kind: f.kind, store: f.store, detail: f.detail } });
    });
  };

  /** Still meant to exist? A disposal may have destroyed the object since the row was read: never bring it back. */
  const stillLive = async (sha256: string) =>
    !!(await ctx.db.selectFrom('objects').select('sha256').where('sha256', '=', sha256).where('destroyed_at', 'is', null).executeTakeFirst());

  let after = '';
  for (;;) {
    const rows = await ctx.db
      .selectFrom('objects')
      .select(['sha256', 'content_type', 'backed_up_at', 'destroyed_at'])
      .where('sha256', '>', after)
      .orderBy('sha256')
      .limit(BATCH)
      .execute();
    if (!rows.length) break;
    for (const o of rows) {
      objectsChecked++;
      if (o.destroyed_at) {
        for (const name of ['primary', 'backup'] as const) {
          if (!(await stores[name].stat(o.sha256))) continue;
          if (opts.repair) await stores[name].remove(o.sha256);
          await record({ kind: 'destroyed_present', store: name, sha256: o.sha256, detail: 'destroyed by a disposal but still stored', repaired: opts.repair });
        }
        continue;
      }
      const primary = await readCopy(stores.primary, o.sha256);
      // A copy not yet replicated is the replication job's to make, not a finding;
      // but when the primary is bad, a backup copy that is there anyway can still repair it.
      const backup = o.backed_up_at || !primary.ok ? await readCopy(stores.backup, o.sha256) : null;
      if (primary.ok && (!backup || backup.ok)) continue;
      if (!primary.ok && !backup!.ok) {
        const detail = o.backed_up_at
          ? `primary ${primary.problem}, backup ${backup!.problem}`
          : `primary ${primary.problem}, not yet copied to the backup`;
        await record({ kind: 'lost', store: 'both', sha256: o.sha256, detail, repaired: false });
        continue;
      }
      const [bad, problem, good] = primary.ok
        ? (['backup', (backup as { problem: 'missing' | 'altered' }).problem, primary.bytes] as const)
        : (['primary', primary.problem, (backup as { bytes: Buffer }).bytes] as const);
      const repair = opts.repair && (await stillLive(o.sha256));
      if (repair) await stores[bad].putCopy(o.sha256, good, o.content_type);
      await record({ kind: problem, store: bad, sha256: o.sha256, detail: `${bad} copy ${problem}${repair ? `, rewritten from the ${bad === 'primary' ? 'backup' : 'primary'}` : ''}`, repaired: repair });
    }
    after = rows[rows.length - 1].sha256;
    await ctx.db.updateTable('scan_runs').set({ objects_checked: objectsChecked, progress_at: sql`now()` }).where('id', '=', runId).execute();
  }

  const audit = await verifyAuditChain(ctx.db);
  if (!audit.ok) await record({ kind: 'audit_chain', store: null, sha256: null, detail: `entry ${audit.firstBad!.seq}: ${audit.firstBad!.reason}`, repaired: false });
  const checkpoints = await verifyCheckpoints(ctx, await storedCheckpoints(ctx.db));
  for (const p of checkpoints.problems) await record({ kind: 'checkpoint', store: null, sha256: null, detail: `checkpoint ${p.seq} (${p.signedAt}): ${p.reason}`, repaired: false });

  const repaired = findings.filter((f) => f.repaired).length;
  const unresolved = findings.length - repaired;
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('scan_runs')
      .set({ finished_at: sql`now()`, objects_checked: objectsChecked, findings: findings.length, repaired, audit_ok: audit.ok, checkpoints_ok: checkpoints.ok })
      .where('id', '=', runId)
      .execute();
    await appendAudit(trx, actor, {
      action: 'integrity.scan',
      objectType: 'scan_run',
      objectId: runId,
      details: { trigger: opts.trigger ?? 'cli', repair: opts.repair, objectsChecked, findings: findings.length, repaired, unresolved, auditOk: audit.ok, checkpointsOk: checkpoints.ok },
    });
  });
  return { runId, objectsChecked, findings, repaired, unresolved, audit, checkpoints };
}

/** The run going on now, if any (a stalled one does not count). */
export function runningScan(db: Executor) {
  return db
    .selectFrom('scan_runs')
    .selectAll()
    .where('finished_at', 'is', null)
    .where(sql<boolean>`progress_at > now() - make_interval(mins => ${STALLED_AFTER_MINUTES})`)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/**
 * Nudged every few minutes; a scan starts when the newest run (of any kind)
 * began SCAN_INTERVAL_HOURS ago or more, so restarts and several app nodes do
 * not multiply scans, and a run outliving the queue's expiry is not doubled.
 * SCAN_INTERVAL_HOURS=0 turns the scheduled scan off.
 */
export const scanJob: PeriodicJob = {
  name: 'storage-scan',
  everySeconds: 300,
  run: async (ctx) => {
    const hours = ctx.config.SCAN_INTERVAL_HOURS;
    if (!hours) return;
    const last = await ctx.db.selectFrom('scan_runs').select(sql<Date | null>`max(started_at)`.as('at')).executeTakeFirstOrThrow();
    if (last.at && Date.now() - new Date(last.at).getTime() < hours * 3600_000) return;
    const report = await scanObjects(ctx, { repair: true, trigger: 'scheduled' });
    if (report.unresolved) ctx.logger.error({ runId: report.runId, unresolved: report.unresolved }, 'integrity scan found problems it could not repair');
  },
};
