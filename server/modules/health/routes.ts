// The system health page (/admin/kesehatan), its actions (scan now, sign a
// checkpoint, download the checkpoints) and the JSON API
// (/api/v1/admin/health, /api/v1/admin/audit-checkpoints). Thin: the service decides.
import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../platform/context.js';
import { requirePermission, paging } from '../../platform/http/guards.js';
import { flash } from '../../platform/http/flash.js';
import { formRefusal } from '../../platform/http/form.js';
import { formatWhen } from '../../platform/i18n/dates.js';
import { durationLabel } from '../reports/charts.js';
import * as health from './service.js';

/** Bytes as people read them (1 decimal above a kilobyte). */
function bytesLabel(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

const FILE_NAME = 'audit-checkpoints.json';

export function healthPages(ctx: AppContext): Router {
  const r = Router();
  const guard = requirePermission('system.health');

  r.get('/admin/kesehatan', guard, async (req: Request, res: Response) => {
    const report = await health.healthReport(ctx, req.user!);
    const p = paging(req, 20);
    const run = report.scan.last;
    const found = run ? await health.scanFindings(ctx, req.user!, run.id, { limit: p.size, offset: p.offset }) : { rows: [], total: 0 };
    res.render('health/index', {
      title: req.t('health.title'),
      report,
      findings: found.rows,
      total: found.total,
      page: p.page,
      pages: Math.ceil(found.total / p.size),
      baseQuery: '',
      when: (d: Date | string | null) => formatWhen(d, req.locale),
      bytes: bytesLabel,
      duration: (s: number) => durationLabel(s, req.t),
    });
  });

  r.post('/admin/kesehatan/pindai', guard, async (req, res) => {
    try {
      const runId = await health.startScan(ctx, req.user!);
      flash(req, { kind: 'info', key: 'health.scan_started', params: { id: runId } });
    } catch (e) {
      const refusal = formRefusal(e);
      flash(req, { kind: 'error', key: refusal.messageKey, params: refusal.params });
    }
    res.redirect(303, '/admin/kesehatan');
  });

  r.post('/admin/kesehatan/checkpoint', guard, async (req, res) => {
    const c = await health.signCheckpoint(ctx, req.user!);
    flash(req, { kind: 'success', key: 'health.checkpoint_signed', params: { seq: c.seq } });
    res.redirect(303, '/admin/kesehatan');
  });

  r.get(`/admin/kesehatan/${FILE_NAME}`, guard, async (req, res) => {
    const data = await health.checkpointsExport(ctx, req.user!);
    res.attachment(FILE_NAME).type('application/json').send(JSON.stringify(data, null, 2) + '\n');
  });
  return r;
}

export function healthApi(ctx: AppContext): Router {
  const r = Router();
  const guard = requirePermission('system.health');
  r.get('/admin/health', guard, async (req, res) => {
    res.json(await health.healthReport(ctx, req.user!));
  });
  // For an off-site copy by a scheduled script with a token (same content as the page's download).
  r.get('/admin/audit-checkpoints', guard, async (req, res) => {
    res.json(await health.checkpointsExport(ctx, req.user!));
  });
  return r;
}
