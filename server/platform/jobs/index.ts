// Background jobs on pg-boss (DESIGN.md section 1: the queue lives in PostgreSQL,
// so work survives restarts without another server). pg-boss talks through the
// application's own pool, which also works against the embedded PGlite socket.
//
// A periodic job is a pg-boss queue with the 'stately' policy: at most one run
// waits and one runs at a time across every app node, so N nodes do not sweep
// the same rows N times over. Each node nudges the queue every `everySeconds`;
// the job's state (what to do next, and when) lives in the job's own tables,
// never in the pg-boss payload.
import { createRequire } from 'node:module';
import type PgBossType from 'pg-boss';
import type { AppContext } from '../context.js';

// pg-boss 10 is CommonJS with `export =`; load it the way Node resolves it.
// (pg-boss 11 and later need Node 22; we run on Node 20.)
const PgBoss = createRequire(import.meta.url)('pg-boss') as typeof PgBossType;

export interface PeriodicJob {
  /** Queue name, e.g. `dispatch.email`. */
  name: string;
  everySeconds: number;
  run(ctx: AppContext): Promise<unknown>;
}

export interface Jobs {
  /** Stops nudging, lets running jobs finish (up to `timeoutMs`), then detaches. */
  stop(timeoutMs?: number): Promise<void>;
}

export async function startJobs(ctx: AppContext, jobs: readonly PeriodicJob[]): Promise<Jobs> {
  const { pool } = ctx.dbHandle;
  const boss = new PgBoss({
    db: { executeSql: (text: string, values: unknown[]) => pool.query(text, values) },
    // Periodic work is nudged below; pg-boss's minute-grained cron is not used.
    schedule: false,
  });
  boss.on('error', (err: Error) => ctx.logger.error({ err }, 'job queue error'));
  await boss.start();

  const timers: NodeJS.Timeout[] = [];
  for (const job of jobs) {
    // A failed run is not retried by pg-boss: the next nudge runs the job again anyway.
    await boss.createQueue(job.name, { name: job.name, policy: 'stately', retryLimit: 0, expireInSeconds: 15 * 60 });
    await boss.work(job.name, { pollingIntervalSeconds: Math.max(0.5, job.everySeconds / 2) }, async () => {
      try {
        await job.run(ctx);
      } catch (err) {
        // pg-boss records the failure in its job table; the operator reads the log.
        ctx.logger.error({ err, job: job.name }, 'job failed');
        throw err;
      }
    });
    const nudge = () => void boss.send(job.name, {}).catch((err: unknown) => ctx.logger.warn({ err, job: job.name }, 'could not enqueue job'));
    nudge();
    const t = setInterval(nudge, job.everySeconds * 1000);
    t.unref();
    timers.push(t);
  }
  ctx.logger.info({ jobs: jobs.map((j) => j.name) }, 'job queue started');

  return {
    async stop(timeoutMs = 20_000) {
      for (const t of timers) clearInterval(t);
      // The pool belongs to the application: pg-boss must not close it.
      await boss.stop({ graceful: true, wait: true, close: false, timeout: timeoutMs });
    },
  };
}
