// The home page, health check and metrics.
import { Router } from 'express';
import { sql } from 'kysely';
import type { Registry } from 'prom-client';
import type { AppContext } from '../../platform/context.js';
import { requireUser } from '../../platform/http/guards.js';

export function homePages(_ctx: AppContext): Router {
  const r = Router();
  r.get('/', requireUser, (req, res) => {
    res.render('home/index', { title: req.t('home.title') });
  });
  return r;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref())]);
}

export function healthRoutes(ctx: AppContext, registry: Registry): Router {
  const r = Router();
  r.get('/healthz', async (_req, res) => {
    const check = async (fn: () => Promise<unknown>) => {
      const t0 = Date.now();
      try {
        await withTimeout(fn(), 3000);
        return { status: 'up', ms: Date.now() - t0 };
      } catch (e) {
        return { status: 'down', ms: Date.now() - t0, error: (e as Error).message };
      }
    };
    const [database, storage] = await Promise.all([check(() => sql`select 1`.execute(ctx.db)), check(() => ctx.store.ping())]);
    const ok = database.status === 'up' && storage.status === 'up';
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', database, storage });
  });
  r.get('/metrics', async (_req, res) => {
    res.set('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });
  return r;
}
