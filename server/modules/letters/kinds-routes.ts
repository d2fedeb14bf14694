// Pages /admin/jenis-naskah (list, edit) and PATCH /api/v1/letter-kinds/:code
// (the GET list lives in api.ts). Thin: parse -> kinds service -> render or redirect.
import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../platform/context.js';
import { requireUser } from '../../platform/http/guards.js';
import { flash } from '../../platform/http/flash.js';
import { formErrors, formRefusal } from '../../platform/http/form.js';
import type { AppError } from '../../platform/http/errors.js';
import * as kinds from './kinds.js';

type Form = { name: string; scope: string; signerRule: string; sortOrder: string; needsAddressees: boolean; active: boolean };

function kindForm(body: Record<string, unknown> | undefined): Form {
  const text = (k: string) => (typeof body?.[k] === 'string' ? (body[k] as string) : '');
  return { name: text('name'), scope: text('scope'), signerRule: text('signerRule'), sortOrder: text('sortOrder'), needsAddressees: body?.needsAddressees === '1', active: body?.active === '1' };
}

export function letterKindPages(ctx: AppContext): Router {
  const r = Router();

  r.get('/admin/jenis-naskah', requireUser, async (req, res) => {
    res.render('letters-admin/kinds', { title: req.t('kinds.title'), kinds: await kinds.listKindsForAdmin(ctx, req.user!), error: null });
  });

  const editPage = async (req: Request, res: Response, form: Form | null, refusal?: AppError) => {
    const kind = await kinds.getKindForAdmin(ctx, req.user!, String(req.params.code));
    const current = form ?? { name: kind.name, scope: kind.scope, signerRule: kind.signerRule, sortOrder: String(kind.sortOrder), needsAddressees: kind.needsAddressees, active: kind.active };
    res.status(refusal?.status ?? 200).render('letters-admin/kind', {
      title: req.t('kinds.edit'), kind, form: current, scopes: kinds.KIND_SCOPES, signerRules: kinds.SIGNER_RULES, error: null, errors: {}, ...(refusal ? formErrors(refusal, req.t) : {}),
    });
  };
  r.get('/admin/jenis-naskah/:code', requireUser, async (req, res) => {
    await editPage(req, res, null);
  });
  r.post('/admin/jenis-naskah/:code', requireUser, async (req, res) => {
    const form = kindForm(req.body);
    try {
      const out = await kinds.updateKind(ctx, req.user!, String(req.params.code), form);
      flash(req, out.changed ? { kind: 'success', key: 'kinds.saved', params: { code: out.kind.code } } : { kind: 'info', key: 'kinds.unchanged' });
      res.redirect(303, '/admin/jenis-naskah');
    } catch (e) {
      await editPage(req, res, form, formRefusal(e));
    }
  });
  return r;
}

export function letterKindApi(ctx: AppContext): Router {
  const r = Router();
  r.patch('/letter-kinds/:code', requireUser, async (req, res) => {
    res.json((await kinds.updateKind(ctx, req.user!, String(req.params.code), req.body)).kind);
  });
  return r;
}
