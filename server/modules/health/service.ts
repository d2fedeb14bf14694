// The system health page's rules and figures (issue 7): is everything the
// installation stands on reachable, how far behind is the backup store, what
// did the last integrity scan find, and is the audit trail's head signed.
// Everything here needs `system.health`.
import { sql } from 'kysely';
import type { AppContext } from '../../platform/context.js';
import type { CurrentUser } from '../../platform/auth/current-user.js';
import { actorOf } from '../../platform/auth/current-user.js';
import { can } from '../../platform/auth/permissions.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../platform/http/errors.js';
import type { ObjectStore } from '../../platform/storage/index.js';
import { replicationLag, type ReplicationLag } from '../../platform/storage/replication.js';
import { runningScan, startScanRun, STALLED_AFTER_MINUTES } from '../../platform/storage/scan.js';
import { createCheckpoint, exportCheckpoints, latestCheckpoint, type Checkpoint, type CheckpointExport } from '../../platform/audit/checkpoints.js';

function mayView(actor: CurrentUser) {
  if (!can(actor, 'system.health')) throw new ForbiddenError();
}

export interface Reachability {
  ok: boolean;
  /** The driver's message when not reachable (administrators only see this page). */
  error?: string;
}

export interface ScanRunSummary {
  id: string;
  trigger: 'scheduled' | 'manual' | 'cli';
  startedBy: string | null;
  repair: boolean;
  startedAt: Date;
  finishedAt: Date | null;
  objectsChecked: number;
  findings: number;
  repaired: number;
  unresolved: number;
  auditOk: boolean | null;
  checkpointsOk: boolean | null;
}

export interface HealthReport {
  /** Everything reachable and the last scan left nothing unresolved. */
  ok: boolean;
  checkedAt: Date;
  database: Reachability;
  stores: { primary: Reachability & { bucket: string }; backup: Reachability & { bucket: string } };
  replication: ReplicationLag;
  scan: { running: ScanRunSummary | null; last: ScanRunSummary | null; intervalHours: number; stalledAfterMinutes: number };
  audit: { headSeq: string; headHash: string };
  checkpoints: { count: number; latest: Checkpoint | null; coversHead: boolean };
}

async function reach(probe: () => Promise<unknown>): Promise<Reachability> {
  try {
    await probe();
    return { ok: true };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message || e.name : String(e) };
  }
}

const storeHealth = async (store: ObjectStore) => ({ ...(await reach(() => store.ping())), bucket: store.bucket });

function summary(r: {
  id: string;
  trigger: 'scheduled' | 'manual' | 'cli';
  started_by_name: string | null;
  repair: boolean;
  started_at: Date;
  finished_at: Date | null;
  objects_checked: number;
  findings: number;
  repaired: number;
  audit_ok: boolean | null;
  checkpoints_ok: boolean | null;
}): ScanRunSummary {
  return {
    id: String(r.id),
    trigger: r.trigger,
    startedBy: r.started_by_name,
    repair: r.repair,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    objectsChecked: r.objects_checked,
    findings: r.findings,
    repaired: r.repaired,
    unresolved: r.findings - r.repaired,
    auditOk: r.audit_ok,
    checkpointsOk: r.checkpoints_ok,
  };
}

/** The newest finished run, and the one going on now (runningScan's rule: a stalled run is neither). */
async function scanRuns(ctx: AppContext): Promise<{ last: ScanRunSummary | null; running: ScanRunSummary | null }> {
  const byId = (id: string | undefined) =>
    id === undefined
      ? undefined
      : ctx.db.selectFrom('scan_runs as s').leftJoin('users as u', 'u.id', 's.started_by').selectAll('s').select('u.name as started_by_name').where('s.id', '=', id).executeTakeFirst();
  const [lastId, running] = await Promise.all([
    ctx.db.selectFrom('scan_runs').select('id').where('finished_at', 'is not', null).orderBy('id', 'desc').limit(1).executeTakeFirst(),
    runningScan(ctx.db),
  ]);
  const [last, now] = await Promise.all([byId(lastId?.id), byId(running?.id)]);
  return { last: last ? summary(last) : null, running: now ? summary(now) : null };
}

export async function healthReport(ctx: AppContext, actor: CurrentUser): Promise<HealthReport> {
  mayView(actor);
  const database = await reach(() => sql`SELECT 1`.execute(ctx.db));
  const [primary, backup] = await Promise.all([storeHealth(ctx.store), storeHealth(ctx.backupStore)]);
  const [replication, { running, last }, head, latest, count] = await Promise.all([
    replicationLag(ctx),
    scanRuns(ctx),
    ctx.db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow(),
    latestCheckpoint(ctx.db),
    ctx.db.selectFrom('audit_checkpoints').select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return {
    ok: database.ok && primary.ok && backup.ok && (!last || last.unresolved === 0),
    checkedAt: new Date(),
    database,
    stores: { primary, backup },
    replication,
    scan: { running, last, intervalHours: ctx.config.SCAN_INTERVAL_HOURS, stalledAfterMinutes: STALLED_AFTER_MINUTES },
    audit: { headSeq: String(head.seq), headHash: head.hash },
    checkpoints: { count: Number(count.n), latest, coversHead: !!latest && latest.seq === String(head.seq) },
  };
}

/** What one scan run found, a page at a time (the newest run's by default). */
export async function scanFindings(ctx: AppContext, actor: CurrentUser, runId: string, page: { limit: number; offset: number }) {
  mayView(actor);
  if (!/^\d{1,18}$/.test(runId) || !(await ctx.db.selectFrom('scan_runs').select('id').where('id', '=', runId).executeTakeFirst())) throw new NotFoundError();
  const [rows, total] = await Promise.all([
    ctx.db.selectFrom('scan_findings').select(['kind', 'store', 'sha256', 'detail', 'repaired']).where('run_id', '=', runId).orderBy('id').limit(page.limit).offset(page.offset).execute(),
    ctx.db.selectFrom('scan_findings').select(sql<string>`count(*)`.as('n')).where('run_id', '=', runId).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

/**
 * Starts a scan with repair in the background and returns at once: a scan reads
 * every object twice, longer than a request should wait. The page follows it
 * through scan_runs. One at a time.
 */
export async function startScan(ctx: AppContext, actor: CurrentUser): Promise<string> {
  mayView(actor);
  if (await runningScan(ctx.db)) throw new ConflictError('health.scan_running');
  const { runId, done } = await startScanRun(ctx, { repair: true, trigger: 'manual', actor: actorOf(actor) });
  done.catch((err: unknown) => ctx.logger.error({ err, runId }, 'integrity scan started from the health page failed'));
  return runId;
}

export async function signCheckpoint(ctx: AppContext, actor: CurrentUser): Promise<Checkpoint> {
  mayView(actor);
  return (await createCheckpoint(ctx, actorOf(actor), 'manual'))!;
}

export async function checkpointsExport(ctx: AppContext, actor: CurrentUser): Promise<CheckpointExport> {
  mayView(actor);
  return exportCheckpoints(ctx);
}
