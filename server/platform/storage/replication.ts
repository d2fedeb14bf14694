// Replication to the backup store (DESIGN.md section 6): every object that is
// not yet backed up (objects.backed_up_at IS NULL) and not destroyed is read
// from the primary store, checked against its address, written to the backup
// store and marked. A sweep over the objects table rather than a job per object,
// for the reason dispatch/email.ts gives: the row is the durable to-do, written
// with the change that stored the bytes, so nothing is lost between a commit
// and a job. No transaction is held while bytes move (PGlite has one connection).
import { sql } from 'kysely';
import type { AppContext } from '../context.js';
import type { PeriodicJob } from '../jobs/index.js';

const BATCH = 50;
/** Objects per run by default, so one run stays short while a backlog drains over a few runs. */
const DEFAULT_LIMIT = 500;
/** Copies in flight at once: overlaps the two stores' latency; objects are held in memory meanwhile (UPLOAD_MAX_MB each). */
const PARALLEL = 4;

export interface ReplicationRun {
  copied: number;
  /** Copies that failed this run; they stay pending and are tried again next run. */
  failed: number;
  /** Objects still waiting for their backup copy after this run. */
  pending: number;
}

export const replicationJob: PeriodicJob = {
  name: 'storage-replicate',
  everySeconds: 5,
  run: async (ctx) => {
    const run = await replicatePending(ctx);
    if (run.failed) ctx.logger.warn(run, 'replication: some objects could not be copied to the backup store');
  },
};

/** Copies pending objects to the backup store, oldest first, up to `limit`. */
export async function replicatePending(ctx: AppContext, opts: { limit?: number } = {}): Promise<ReplicationRun> {
  const limit = opts.limit ?? DEFAULT_LIMIT;
  const run: ReplicationRun = { copied: 0, failed: 0, pending: 0 };
  // Keyset walk, so an object that fails is passed over in this run instead of blocking the ones after it.
  let after: { created_at: string; sha256: string } | null = null;
  while (run.copied + run.failed < limit) {
    const cursor: { created_at: string; sha256: string } | null = after;
    const rows = await ctx.db
      .selectFrom('objects')
      .select(['sha256', 'content_type', sql<string>`created_at::text`.as('created_at')])
      .where('backed_up_at', 'is', null)
      .where('destroyed_at', 'is', null)
      .$if(cursor !== null, (q) => q.where(sql<boolean>`(created_at, sha256) > (${cursor!.created_at}::timestamptz, ${cursor!.sha256})`))
      .orderBy('created_at')
      .orderBy('sha256')
      .limit(Math.min(BATCH, limit - run.copied - run.failed))
      .execute();
    if (!rows.length) break;
    for (let i = 0; i < rows.length; i += PARALLEL) {
      for (const outcome of await Promise.all(rows.slice(i, i + PARALLEL).map((row) => copyOne(ctx, row)))) if (outcome !== 'destroyed') run[outcome]++;
    }
    after = rows[rows.length - 1];
  }
  run.pending = (await replicationLag(ctx)).pendingObjects;
  return run;
}

async function copyOne(ctx: AppContext, row: { sha256: string; content_type: string }): Promise<'copied' | 'failed' | 'destroyed'> {
  try {
    // get() re-hashes, so a damaged primary copy is never spread to the backup.
    const bytes = await ctx.store.get(row.sha256);
    await ctx.backupStore.putCopy(row.sha256, bytes, row.content_type);
    const marked = await ctx.db
      .updateTable('objects')
      .set({ backed_up_at: sql`now()` })
      .where('sha256', '=', row.sha256)
      .where('destroyed_at', 'is', null)
      .executeTakeFirst();
    if (Number(marked.numUpdatedRows) > 0) return 'copied';
    // Destroyed by a disposal while we copied: the backup must not keep what was disposed of.
    await ctx.backupStore.remove(row.sha256);
    return 'destroyed';
  } catch (err) {
    ctx.logger.warn({ err, sha256: row.sha256 }, 'replication: copy failed, will retry');
    return 'failed';
  }
}

export interface ReplicationLag {
  pendingObjects: number;
  pendingBytes: number;
  /** created_at of the oldest object without a backup copy, or null when none waits. */
  oldestPendingAt: Date | null;
  /** How far the backup is behind: now minus the oldest pending object's created_at (0 when none waits). */
  secondsBehind: number;
}

export async function replicationLag(ctx: Pick<AppContext, 'db'>): Promise<ReplicationLag> {
  const r = await ctx.db
    .selectFrom('objects')
    .select([
      sql<string>`count(*)`.as('n'),
      sql<string>`coalesce(sum(size), 0)`.as('bytes'),
      sql<Date | null>`min(created_at)`.as('oldest'),
      sql<string | null>`extract(epoch from now() - min(created_at))`.as('behind'),
    ])
    .where('backed_up_at', 'is', null)
    .where('destroyed_at', 'is', null)
    .executeTakeFirstOrThrow();
  return {
    pendingObjects: Number(r.n),
    pendingBytes: Number(r.bytes),
    oldestPendingAt: r.oldest ? new Date(r.oldest) : null,
    secondsBehind: r.behind ? Math.max(0, Math.floor(Number(r.behind))) : 0,
  };
}
