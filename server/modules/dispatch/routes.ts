// The Surat Masuk pages and the dispatch JSON API. Thin: parse -> service -> render.
import { Router, type Request, type Response, type RequestHandler } from 'express';
import type { AppContext } from '../../platform/context.js';
import type { CurrentUser } from '../../platform/auth/current-user.js';
import { requireUser, requirePermission, paging, isApi } from '../../platform/http/guards.js';
import { flash } from '../../platform/http/flash.js';
import { toAppError } from '../../platform/http/error-handler.js';
import { uploadMiddleware } from '../letters/api.js';
import { checkAttachment } from '../letters/attachments.js';
import { formatWhen } from '../../platform/i18n/dates.js';
import { URGENCIES, SECURITY_CLASSES } from '../letters/service.js';
import { lembarDisposisiPdf } from './lembar.js';
import { INSTRUCTIONS } from './state.js';
import * as dispatch from './service.js';
import type { IncomingFilter } from './repo.js';

/** Puts the unread Surat Masuk count in res.locals for the navigation. */
export function incomingNavCount(ctx: AppContext): RequestHandler {
  return async (req, res, next) => {
    if (req.method === 'GET' && req.user?.authMethod === 'session' && !isApi(req) && req.accepts(['html', 'json']) === 'html') {
      res.locals.incomingUnread = await dispatch.unreadCount(ctx, req.user);
    }
    next();
  };
}

function filterFrom(req: Request): IncomingFilter {
  const str = (k: string, max: number) => (typeof req.query[k] === 'string' && (req.query[k] as string).trim() ? (req.query[k] as string).trim().slice(0, max) : undefined);
  const state = str('state', 20);
  return { q: str('q', 200), state: state && ['registered', 'disposed', 'done'].includes(state) ? state : undefined, unread: req.query.unread === '1' };
}

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? [v] : []);

/** Form fields of the disposisi form, in the service's shape: `to` as comma-separated usernames. */
function disposeInput(body: Record<string, unknown>) {
  return {
    to: list(body.to).flatMap((s) => s.split(/[\s,;]+/)).filter(Boolean),
    instructions: list(body.instructions),
    note: typeof body.note === 'string' ? body.note : undefined,
    dueDate: typeof body.dueDate === 'string' ? body.dueDate : undefined,
  };
}

async function scanOf(req: Request) {
  if (!req.file) return undefined;
  const checked = await checkAttachment(req.file.buffer, req.file.originalname);
  return { bytes: req.file.buffer, contentType: checked.contentType };
}

function receive(ctx: AppContext) {
  const upload = uploadMiddleware(ctx);
  return (req: Request, res: Response) => new Promise<void>((resolve, reject) => upload(req, res, (err: unknown) => (err ? reject(err) : resolve())));
}

async function sheet(ctx: AppContext, user: CurrentUser, id: string, locale: string) {
  const { incoming, tree } = await dispatch.incomingWithTree(ctx, user, id);
  return lembarDisposisiPdf(incoming, tree, (d) => formatWhen(d, locale));
}

export function dispatchPages(ctx: AppContext): Router {
  const r = Router();
  const upload = receive(ctx);
  const render = (req: Request, res: Response, view: string, data: Record<string, unknown>, status = 200) =>
    res.status(status).render(view, { when: (d: Date | string | null) => formatWhen(d, req.locale), ...data });

  /** Runs a command from a received letter's page and goes back to it (or to Surat Masuk when refused) with a flash. */
  const back = (run: (req: Request, res: Response) => Promise<{ key: string; to: string }>, refusedTo = (req: Request) => `/surat-masuk/${encodeURIComponent(String(req.params.id))}`) => async (req: Request, res: Response) => {
    let to = refusedTo(req);
    try {
      const out = await run(req, res);
      to = out.to;
      flash(req, { kind: 'success', key: out.key });
    } catch (e) {
      const appErr = toAppError(e);
      if (!appErr || ![400, 403, 409, 413].includes(appErr.status)) throw e;
      flash(req, { kind: 'error', key: appErr.messageKey, params: appErr.params });
    }
    res.redirect(303, to);
  };

  r.get('/surat-masuk', requireUser, async (req, res) => {
    const p = paging(req);
    const filter = filterFrom(req);
    const out = await dispatch.listIncoming(ctx, req.user!, p, filter);
    const baseQuery = new URLSearchParams(Object.entries({ q: filter.q, state: filter.state, unread: filter.unread ? '1' : undefined }).filter((e): e is [string, string] => !!e[1])).toString();
    render(req, res, 'dispatch/inbox', { title: req.t('dispatch.title'), ...out, filter, page: p.page, pages: Math.ceil(out.total / p.size), baseQuery });
  });

  r.get('/surat-masuk/baru', requirePermission('incoming.register'), (req, res) => {
    render(req, res, 'dispatch/register', { title: req.t('dispatch.register_title'), form: {}, error: null, urgencies: URGENCIES, securityClasses: SECURITY_CLASSES, uploadMaxMb: ctx.config.UPLOAD_MAX_MB });
  });

  // Multipart: the CSRF token comes in the action's ?_csrf= (see app.ts).
  r.post('/surat-masuk', requirePermission('incoming.register'), async (req, res) => {
    try {
      await upload(req, res);
      const row = await dispatch.registerByAgendaris(ctx, req.user!, req.body ?? {}, await scanOf(req));
      flash(req, { kind: 'success', key: 'dispatch.registered', params: { number: row.agenda_number ?? '-' } });
      res.redirect(303, `/surat-masuk/${row.id}`);
    } catch (e) {
      const appErr = toAppError(e);
      if (!appErr || ![400, 413].includes(appErr.status)) throw e;
      render(req, res, 'dispatch/register', { title: req.t('dispatch.register_title'), form: req.body ?? {}, error: req.t(appErr.messageKey, appErr.params), urgencies: URGENCIES, securityClasses: SECURITY_CLASSES, uploadMaxMb: ctx.config.UPLOAD_MAX_MB }, appErr.status);
    }
  });

  r.get('/surat-masuk/:id', requireUser, async (req, res) => {
    const v = await dispatch.openIncoming(ctx, req.user!, String(req.params.id));
    render(req, res, 'dispatch/show', { title: v.incoming.subject, ...v, instructions: INSTRUCTIONS, uploadMaxMb: ctx.config.UPLOAD_MAX_MB });
  });

  const sendFile = (res: Response, f: { bytes: Buffer; contentType: string; filename: string }) =>
    res.type(f.contentType).set('Content-Disposition', `inline; filename="${f.filename}"`).set('Cache-Control', 'private, no-store').send(f.bytes);

  r.get('/surat-masuk/:id/pdf', requireUser, async (req, res) => {
    sendFile(res, await dispatch.incomingPdf(ctx, req.user!, String(req.params.id)));
  });

  r.get('/disposisi/:id/lampiran', requireUser, async (req, res) => {
    sendFile(res, await dispatch.disposisiAttachment(ctx, req.user!, String(req.params.id)));
  });

  r.get('/surat-masuk/:id/lembar-disposisi', requireUser, async (req, res) => {
    const pdf = await sheet(ctx, req.user!, String(req.params.id), req.locale);
    sendFile(res, { bytes: Buffer.from(pdf), contentType: 'application/pdf', filename: `lembar-disposisi-${String(req.params.id)}.pdf` });
  });

  r.post('/surat-masuk/:id/disposisi', requireUser, back(async (req) => {
    await dispatch.dispose(ctx, req.user!, String(req.params.id), disposeInput(req.body ?? {}));
    return { key: 'dispatch.disposisi.sent', to: `/surat-masuk/${String(req.params.id)}` };
  }));

  r.post('/surat-masuk/:id/selesai', requireUser, back(async (req) => {
    await dispatch.closeIncoming(ctx, req.user!, String(req.params.id));
    return { key: 'dispatch.closed', to: `/surat-masuk/${String(req.params.id)}` };
  }));

  r.post('/disposisi/:id/balas', requireUser, back(async (req) => {
    const out = await dispatch.replyToDisposisi(ctx, req.user!, String(req.params.id), { note: req.body?.note });
    return { key: 'dispatch.disposisi.replied', to: `/surat-masuk/${out.incomingId}` };
  }, () => '/surat-masuk'));

  // Multipart (optional attachment): CSRF in ?_csrf=.
  r.post('/disposisi/:id/selesai', requireUser, back(async (req, res) => {
    await upload(req, res);
    const out = await dispatch.completeDisposisi(ctx, req.user!, String(req.params.id), { note: typeof req.body?.note === 'string' ? req.body.note : '' }, await scanOf(req));
    return { key: 'dispatch.disposisi.marked_done', to: `/surat-masuk/${out.incomingId}` };
  }, () => '/surat-masuk'));

  r.get('/surat/:id/terkirim', requireUser, async (req, res) => {
    const out = await dispatch.sentReport(ctx, req.user!, String(req.params.id));
    render(req, res, 'dispatch/sent', { title: req.t('dispatch.sent_title', { subject: out.letter.subject }), ...out });
  });

  return r;
}

// ---------- JSON API ----------

function incomingJson(i: Awaited<ReturnType<typeof dispatch.listIncoming>>['items'][number] | Awaited<ReturnType<typeof dispatch.incomingWithTree>>['incoming']) {
  return {
    id: String(i.id),
    agendaNumber: i.agenda_number,
    source: i.source,
    letterId: i.letter_id === null ? null : String(i.letter_id),
    senderName: i.sender_name,
    senderNumber: i.sender_number,
    subject: i.subject,
    urgency: i.urgency,
    securityClass: i.security_class,
    state: i.state,
    registeredAt: i.registered_at,
  };
}

function treeJson(tree: Awaited<ReturnType<typeof dispatch.incomingWithTree>>['tree']) {
  return tree.map((x) => ({
    id: String(x.id), parentId: x.parent_id === null ? null : String(x.parent_id), from: x.from_name, to: x.to_username, instructions: x.instructions, note: x.note,
    dueDate: x.due_date, state: x.state, overdue: x.overdue, doneNote: x.done_note, createdAt: x.created_at, readAt: x.read_at, doneAt: x.done_at,
  }));
}

export function dispatchApi(ctx: AppContext): Router {
  const r = Router();
  const upload = receive(ctx);

  r.get('/incoming', requireUser, async (req, res) => {
    const p = paging(req);
    const out = await dispatch.listIncoming(ctx, req.user!, p, filterFrom(req));
    res.json({ items: out.items.map((i) => ({ ...incomingJson(i), unread: i.unread })), total: out.total, page: p.page, size: p.size });
  });

  r.post('/incoming', requirePermission('incoming.register'), async (req, res) => {
    await upload(req, res);
    const row = await dispatch.registerByAgendaris(ctx, req.user!, req.body ?? {}, await scanOf(req));
    res.status(201).json(incomingJson(row));
  });

  r.get('/incoming/:id', requireUser, async (req, res) => {
    const v = await dispatch.openIncoming(ctx, req.user!, String(req.params.id));
    const replies = (x: string) => v.replies.filter((r) => String(r.disposisi_id) === x).map((r) => ({ by: r.user_name, note: r.note, at: r.created_at }));
    res.json({ ...incomingJson(v.incoming), senderDate: v.incoming.sender_date_text, unit: v.incoming.unit_code, pdf: v.incoming.pdf_sha256 ? `/api/v1/incoming/${v.incoming.id}/pdf` : null, disposisi: treeJson(v.tree).map((x) => ({ ...x, replies: replies(x.id) })) });
  });

  r.get('/incoming/:id/pdf', requireUser, async (req, res) => {
    const f = await dispatch.incomingPdf(ctx, req.user!, String(req.params.id));
    res.type(f.contentType).attachment(f.filename).send(f.bytes);
  });

  r.post('/incoming/:id/disposisi', requireUser, async (req, res) => {
    const ids = await dispatch.dispose(ctx, req.user!, String(req.params.id), req.body);
    res.status(201).json({ ids });
  });

  r.post('/disposisi/:id/replies', requireUser, async (req, res) => {
    res.status(201).json(await dispatch.replyToDisposisi(ctx, req.user!, String(req.params.id), req.body));
  });

  r.post('/disposisi/:id/done', requireUser, async (req, res) => {
    await upload(req, res);
    res.json(await dispatch.completeDisposisi(ctx, req.user!, String(req.params.id), { note: req.body?.note }, await scanOf(req)));
  });

  r.get('/letters/:id/deliveries', requireUser, async (req, res) => {
    const out = await dispatch.sentReport(ctx, req.user!, String(req.params.id));
    res.json({
      deliveries: out.deliveries.map((d) => ({ username: d.username, name: d.name, role: d.role, unit: d.unit_name, agendaNumber: d.agenda_number, deliveredAt: d.delivered_at, readAt: d.read_at })),
      outbound: out.outbound.map((o) => ({ name: o.ext_name, channel: o.channel, address: o.address, status: o.status, attempts: o.attempts, lastError: o.last_error, sentAt: o.sent_at })),
    });
  });

  return r;
}
