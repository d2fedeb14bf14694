// Pages /admin/klasifikasi (list, add, edit) and the API POST/PATCH
// /api/v1/classification-codes (the GET list lives in letters/api.ts). Thin:
// parse -> service (which decides who may) -> render or redirect.
import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../platform/context.js';
import { requireUser, paging } from '../../platform/http/guards.js';
import { flash } from '../../platform/http/flash.js';
import { formErrors, formRefusal } from '../../platform/http/form.js';
import type { AppError } from '../../platform/http/errors.js';
import * as classification from './classification-service.js';

type Form = Record<string, string | boolean>;
const text = (body: Record<string, unknown> | undefined, k: string): string => (typeof body?.[k] === 'string' ? (body[k] as string) : '');
const FIELDS = ['name', 'retentionActiveYears', 'retentionInactiveYears', 'finalFate'] as const;

function codeForm(body: Record<string, unknown> | undefined, isNew: boolean): Form {
  const f: Form = Object.fromEntries(FIELDS.map((k) => [k, text(body, k)]));
  if (isNew) Object.assign(f, { code: text(body, 'code'), parentCode: text(body, 'parentCode') });
  else f.active = body?.active === '1';
  return f;
}

function flashWarnings(req: Request, warnings: classification.Warning[]) {
  for (const w of warnings) flash(req, { kind: 'info', key: w.key, params: w.params });
}

const STATUSES = ['active', 'inactive'] as const;

export function classificationPages(ctx: AppContext): Router {
  const r = Router();

  const render = (req: Request, res: Response, view: string, data: Record<string, unknown>, refusal?: AppError) => {
    res.status(refusal?.status ?? 200).render(`archive/${view}`, { error: null, errors: {}, fates: classification.FINAL_FATES, ...(refusal ? formErrors(refusal, req.t) : {}), ...data });
  };

  r.get('/admin/klasifikasi', requireUser, async (req, res) => {
    const p = paging(req);
    const q = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 100) : '';
    const status = (STATUSES as readonly string[]).includes(String(req.query.status)) ? (String(req.query.status) as classification.StatusFilter) : '';
    const out = await classification.listCodes(ctx, req.user!, { q, status: status || 'all' }, p);
    const size = req.query.size ? String(p.size) : '';
    const baseQuery = new URLSearchParams(Object.entries({ q, status, size }).filter(([, v]) => v !== '')).toString();
    render(req, res, 'codes', {
      title: req.t('archive.codes'), items: out.items, total: out.total, page: p.page, pages: Math.ceil(out.total / p.size), baseQuery,
      filter: { q, status }, lacksRetention: classification.lacksRetention,
    });
  });

  const newPage = async (req: Request, res: Response, form: Form, refusal?: AppError) => {
    render(req, res, 'new', { title: req.t('archive.new'), form, parents: await classification.parentChoices(ctx, req.user!) }, refusal);
  };
  r.get('/admin/klasifikasi/baru', requireUser, async (req, res) => {
    const parent = typeof req.query.parent === 'string' && classification.CODE_RE.test(req.query.parent) ? req.query.parent : '';
    await newPage(req, res, { ...codeForm(undefined, true), parentCode: parent, code: parent ? parent + '.' : '' });
  });
  r.post('/admin/klasifikasi', requireUser, async (req, res) => {
    const form = codeForm(req.body, true);
    try {
      const out = await classification.createCode(ctx, req.user!, form);
      flash(req, { kind: 'success', key: 'archive.created', params: { code: out.code.code } });
      flashWarnings(req, out.warnings);
      res.redirect(303, `/admin/klasifikasi/${out.code.code}`);
    } catch (e) {
      await newPage(req, res, form, formRefusal(e));
    }
  });

  const editPage = async (req: Request, res: Response, form: Form | null, refusal?: AppError) => {
    const code = await classification.getCode(ctx, req.user!, String(req.params.code));
    const current = form ?? {
      name: code.name, retentionActiveYears: code.retentionActiveYears?.toString() ?? '', retentionInactiveYears: code.retentionInactiveYears?.toString() ?? '',
      finalFate: code.finalFate ?? '', active: code.active,
    };
    render(req, res, 'edit', { title: req.t('archive.edit'), code, form: current }, refusal);
  };
  r.get('/admin/klasifikasi/:code', requireUser, async (req, res) => {
    await editPage(req, res, null);
  });
  r.post('/admin/klasifikasi/:code', requireUser, async (req, res) => {
    const form = codeForm(req.body, false);
    try {
      const out = await classification.updateCode(ctx, req.user!, String(req.params.code), form);
      flash(req, out.changed ? { kind: 'success', key: 'archive.saved', params: { code: out.code.code } } : { kind: 'info', key: 'archive.unchanged' });
      flashWarnings(req, out.warnings);
      res.redirect(303, `/admin/klasifikasi/${out.code.code}`);
    } catch (e) {
      await editPage(req, res, form, formRefusal(e));
    }
  });
  return r;
}

export function classificationApi(ctx: AppContext): Router {
  const r = Router();
  const warningsJson = (req: Request, warnings: classification.Warning[]) => warnings.map((w) => ({ code: w.key, message: req.t(w.key, w.params) }));
  r.get('/classification-codes/:code', requireUser, async (req, res) => {
    res.json(await classification.getCode(ctx, req.user!, String(req.params.code)));
  });
  r.post('/classification-codes', requireUser, async (req, res) => {
    const out = await classification.createCode(ctx, req.user!, req.body);
    res.status(201).location(`/api/v1/classification-codes/${out.code.code}`).json({ ...out.code, warnings: warningsJson(req, out.warnings) });
  });
  r.patch('/classification-codes/:code', requireUser, async (req, res) => {
    const out = await classification.updateCode(ctx, req.user!, String(req.params.code), req.body);
    res.json({ ...out.code, warnings: warningsJson(req, out.warnings) });
  });
  return r;
}
