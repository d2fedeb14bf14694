// Page /arsip/cari and API GET /api/v1/search: the same parameters, the same
// service. Thin: parse -> service -> render or JSON.
import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../platform/context.js';
import { requireUser, paging } from '../../platform/http/guards.js';
import { toAppError } from '../../platform/http/error-handler.js';
import { formErrors } from '../../platform/http/form.js';
import { ACCESS_POLICY } from './access.js';
import { SORTS } from './search-repo.js';
import { partsHtml, queryParams, RECORD_STATES, searchRecords, searchChoices } from './search.js';

export function searchPages(ctx: AppContext): Router {
  const r = Router();
  r.get('/arsip/cari', requireUser, async (req: Request, res: Response) => {
    const p = paging(req, 20);
    const params = queryParams(req.query as Record<string, unknown>);
    const baseQuery = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '')).toString();
    const common = { title: req.t('search.title'), form: params, baseQuery, choices: await searchChoices(ctx), sorts: SORTS, states: RECORD_STATES, classes: Object.keys(ACCESS_POLICY) };
    try {
      const out = await searchRecords(ctx, req.user!, req.query as Record<string, unknown>, p);
      // The query as actually searched (cleaned, perhaps cut) goes back into the box.
      res.render('archive/search', { ...common, form: { ...params, q: out.filter.q }, error: null, errors: {}, ...out, searched: Object.keys(params).length > 0, page: p.page, pages: Math.ceil(out.total / p.size) });
    } catch (e) {
      const appErr = toAppError(e);
      if (!appErr || appErr.status !== 400) throw e;
      res.status(400).render('archive/search', { ...common, ...formErrors(appErr, req.t), truncated: false, total: 0, totalCapped: false, results: [], searched: true, page: 1, pages: 0 });
    }
  });
  return r;
}

export function searchApi(ctx: AppContext): Router {
  const r = Router();
  r.get('/search', requireUser, async (req, res) => {
    const p = paging(req, 20);
    const out = await searchRecords(ctx, req.user!, req.query as Record<string, unknown>, p);
    res.json({
      total: out.total,
      totalCapped: out.totalCapped,
      page: p.page,
      pageSize: p.size,
      query: out.filter.q,
      truncated: out.truncated,
      results: out.results.map(({ subjectParts, snippetParts, url: _url, ...rest }) => ({ ...rest, subjectHtml: partsHtml(subjectParts), snippet: snippetParts ? partsHtml(snippetParts) : null })),
    });
  });
  return r;
}
