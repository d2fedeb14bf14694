// Pages /admin/alur-persetujuan (list with the add form, edit) and the API
// /api/v1/approval-templates. Thin: parse -> templates service (which decides
// who may) -> render or redirect. A refused form is shown again with its input.
import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../platform/context.js';
import { requireUser, paging } from '../../platform/http/guards.js';
import { flash } from '../../platform/http/flash.js';
import { formErrors, formRefusal } from '../../platform/http/form.js';
import type { AppError } from '../../platform/http/errors.js';
import * as templates from './templates.js';

type Form = { name: string; kind: string; unit: string; positions: string; allowAdditional: boolean; active: boolean };

function templateForm(body: Record<string, unknown> | undefined): Form {
  const text = (k: string) => (typeof body?.[k] === 'string' ? (body[k] as string) : '');
  return { name: text('name'), kind: text('kind'), unit: text('unit'), positions: text('positions'), allowAdditional: body?.allowAdditional === '1', active: body?.active === '1' };
}

/** The page's textarea holds one position code per line. */
function templateInput(f: Form, withActive: boolean) {
  const positions = f.positions.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  return { name: f.name, kind: f.kind, unit: f.unit, positions, allowAdditional: f.allowAdditional, ...(withActive ? { active: f.active } : {}) };
}

function formOf(t: templates.TemplateDto): Form {
  return { name: t.name, kind: t.kind?.code ?? '', unit: t.unit?.code ?? '', positions: t.positions.map((p) => p.code).join('\n'), allowAdditional: t.allowAdditional, active: t.active };
}

export function approvalPages(ctx: AppContext): Router {
  const r = Router();

  const render = async (req: Request, res: Response, view: string, data: Record<string, unknown>, refusal?: AppError) => {
    res.status(refusal?.status ?? 200).render(`approvals/${view}`, {
      error: null, errors: {}, choices: await templates.templateChoices(ctx, req.user!), ...(refusal ? formErrors(refusal, req.t) : {}), ...data,
    });
  };

  const listPage = async (req: Request, res: Response, form: Form, refusal?: AppError) => {
    const p = paging(req);
    const out = await templates.listTemplates(ctx, req.user!, p);
    const baseQuery = req.query.size ? `size=${p.size}` : '';
    await render(req, res, 'templates', { title: req.t('approvals.templates.title'), items: out.items, total: out.total, page: p.page, pages: Math.ceil(out.total / p.size), baseQuery, form }, refusal);
  };
  r.get('/admin/alur-persetujuan', requireUser, async (req, res) => {
    await listPage(req, res, { ...templateForm(undefined), allowAdditional: true });
  });
  r.post('/admin/alur-persetujuan', requireUser, async (req, res) => {
    const form = templateForm(req.body);
    try {
      const t = await templates.createTemplate(ctx, req.user!, templateInput(form, false));
      flash(req, { kind: 'success', key: 'approvals.templates.created', params: { name: t.name } });
      res.redirect(303, '/admin/alur-persetujuan');
    } catch (e) {
      await listPage(req, res, form, formRefusal(e));
    }
  });

  const editPage = async (req: Request, res: Response, form: Form | null, refusal?: AppError) => {
    const t = await templates.getTemplate(ctx, req.user!, String(req.params.id));
    await render(req, res, 'template', { title: req.t('approvals.templates.edit'), template: t, form: form ?? formOf(t) }, refusal);
  };
  r.get('/admin/alur-persetujuan/:id', requireUser, async (req, res) => {
    await editPage(req, res, null);
  });
  r.post('/admin/alur-persetujuan/:id', requireUser, async (req, res) => {
    const form = templateForm(req.body);
    try {
      const out = await templates.updateTemplate(ctx, req.user!, String(req.params.id), templateInput(form, true));
      flash(req, out.changed ? { kind: 'success', key: 'approvals.templates.saved', params: { name: out.template.name } } : { kind: 'info', key: 'approvals.templates.unchanged' });
      res.redirect(303, '/admin/alur-persetujuan');
    } catch (e) {
      await editPage(req, res, form, formRefusal(e));
    }
  });
  return r;
}

export function approvalApi(ctx: AppContext): Router {
  const r = Router();
  r.get('/approval-templates', requireUser, async (req, res) => {
    const p = paging(req);
    const out = await templates.listTemplates(ctx, req.user!, p);
    res.json({ items: out.items, total: out.total, page: p.page, size: p.size });
  });
  r.post('/approval-templates', requireUser, async (req, res) => {
    const t = await templates.createTemplate(ctx, req.user!, req.body);
    res.status(201).location(`/api/v1/approval-templates/${t.id}`).json(t);
  });
  r.get('/approval-templates/:id', requireUser, async (req, res) => {
    res.json(await templates.getTemplate(ctx, req.user!, String(req.params.id)));
  });
  r.patch('/approval-templates/:id', requireUser, async (req, res) => {
    res.json((await templates.updateTemplate(ctx, req.user!, String(req.params.id), req.body)).template);
  });
  return r;
}
