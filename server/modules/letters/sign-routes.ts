// The signing pages: review and sign one letter, sign many at once (streamed
// progress for the page's script, a results page without it), and download the
// signed PDF. Thin: parse -> sign.ts -> render or redirect.
import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../platform/context.js';
import { requireUser, paging } from '../../platform/http/guards.js';
import { flash } from '../../platform/http/flash.js';
import { toAppError } from '../../platform/http/error-handler.js';
import { fieldError } from '../../platform/http/validate.js';
import type { AppError } from '../../platform/http/errors.js';
import { bulkResultJson, sendPreview } from './api.js';
import { formatWhen } from '../../platform/i18n/dates.js';
import * as sign from './sign.js';

const NDJSON = 'application/x-ndjson';

function credentials(body: Record<string, unknown> | undefined) {
  const str = (k: string) => (typeof body?.[k] === 'string' ? (body[k] as string) : undefined);
  return { passphrase: str('passphrase') ?? '', otp: str('otp') };
}

/** Checkboxes arrive as one string or a list. */
function idList(v: unknown): string[] {
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string');
}

/** The message of a refusal and, when it names a field, that field. */
function refusal(req: Request, e: AppError) {
  const d = Array.isArray(e.details) ? (e.details as { field?: string }[])[0] : undefined;
  return { message: req.t(e.messageKey, e.params), field: d?.field ?? null };
}

export function letterSignPages(ctx: AppContext): Router {
  const r = Router();
  const render = (req: Request, res: Response, view: string, data: Record<string, unknown>, status = 200) => {
    res.status(status).render(view, { when: (d: Date | string | null) => formatWhen(d, req.locale), ...data });
  };

  // ---------- many letters ----------

  const renderBulk = async (req: Request, res: Response, error?: AppError, selected: string[] = []) => {
    const p = paging(req, sign.BULK_SIGN_MAX);
    const out = await sign.awaitingSignature(ctx, req.user!, p);
    render(req, res, 'letters/sign-bulk', {
      title: req.t('letters.sign.bulk_title'),
      items: out.items,
      total: out.total,
      page: p.page,
      pages: Math.ceil(out.total / p.size),
      baseQuery: '',
      max: sign.BULK_SIGN_MAX,
      needsOtp: req.user!.totpEnabled,
      selected: new Set(selected),
      error: error ? refusal(req, error) : null,
    }, error?.status ?? 200);
  };

  r.get('/surat/tandatangan', requireUser, async (req, res) => {
    await renderBulk(req, res);
  });

  // With `Accept: application/x-ndjson` (public/js/sign.js) one JSON line per letter as it is
  // signed, so the progress bar moves; a plain form post gets the results page at the end.
  r.post('/surat/tandatangan', requireUser, async (req, res) => {
    const ids = idList(req.body?.ids);
    const streamed = req.accepts(['html', NDJSON]) === NDJSON;
    let results: sign.BulkResult[];
    try {
      if (!ids.length) throw fieldError('ids', 'letters.sign.none_selected');
      results = await sign.signLetters(ctx, req.user!, { ids, ...credentials(req.body) }, (r) => {
        if (!streamed) return;
        if (!res.headersSent) res.status(200).type(NDJSON).set('Cache-Control', 'no-store').flushHeaders();
        res.write(JSON.stringify(bulkResultJson(req, r)) + '\n');
      });
    } catch (e) {
      // Refused before any letter was touched: wrong passphrase or code, nothing chosen, too many.
      const appErr = toAppError(e);
      if (!appErr || res.headersSent) throw e;
      if (streamed) return void res.status(appErr.status).json({ error: { code: appErr.code, ...refusal(req, appErr) } });
      return renderBulk(req, res, appErr, ids);
    }
    if (streamed) return void res.end();
    render(req, res, 'letters/sign-results', {
      title: req.t('letters.sign.results_title'),
      results: results.map((r) => ({ id: r.id, subject: r.subject, ok: r.ok, number: r.ok ? r.number : null, error: r.ok ? null : req.t(r.error.messageKey, r.error.params) })),
    });
  });

  // ---------- one letter ----------

  const renderForm = async (req: Request, res: Response, id: string, error?: AppError) => {
    const f = await sign.signingForm(ctx, req.user!, id);
    render(req, res, 'letters/sign', {
      title: req.t('letters.sign.title'),
      id,
      letter: f.letter,
      capacityLines: f.capacityLines,
      needsOtp: f.needsOtp,
      error: error ? refusal(req, error) : null,
    }, error?.status ?? 200);
  };

  /** A refusal of the action itself (wrong state, not the signer, changed meanwhile) goes back to the letter with a message. */
  const backToLetter = (req: Request, res: Response, id: string, e: unknown) => {
    const appErr = toAppError(e);
    if (!appErr || (appErr.status !== 403 && appErr.status !== 409)) throw e;
    flash(req, { kind: 'error', key: appErr.messageKey, params: appErr.params });
    res.redirect(303, `/surat/${encodeURIComponent(id)}`);
  };

  r.get('/surat/:id/tandatangan', requireUser, async (req, res) => {
    const id = String(req.params.id);
    try {
      await renderForm(req, res, id);
    } catch (e) {
      backToLetter(req, res, id, e);
    }
  });

  r.get('/surat/:id/tandatangan/pratinjau', requireUser, async (req, res) => {
    sendPreview(res, await sign.signingPreview(ctx, req.user!, String(req.params.id)));
  });

  r.post('/surat/:id/tandatangan', requireUser, async (req, res) => {
    const id = String(req.params.id);
    try {
      const out = await sign.signLetter(ctx, req.user!, id, { ...credentials(req.body), version: typeof req.body?.version === 'string' && req.body.version ? req.body.version : undefined });
      flash(req, { kind: 'success', key: 'letters.flash.signed', params: { number: out.number } });
      res.redirect(303, `/surat/${encodeURIComponent(id)}`);
    } catch (e) {
      const appErr = toAppError(e);
      // Wrong passphrase or code: the form again, with the message at the field.
      if (appErr?.status === 400) return renderForm(req, res, id, appErr).catch((e2) => backToLetter(req, res, id, e2));
      backToLetter(req, res, id, e);
    }
  });

  r.get('/surat/:id/pdf', requireUser, async (req, res) => {
    const f = await sign.getSignedPdf(ctx, req.user!, String(req.params.id));
    res.type('application/pdf').attachment(f.filename).send(f.bytes);
  });

  return r;
}
