// The letter pages: inboxes, notifications, the drafting form, the letter with
// its attachments, approval chain and versions, and the diff between versions.
// Thin on purpose: parse the form -> call the service -> render or redirect.
// Every rule (who may, in which state, on which version) is the service's.
import { Router, type Request, type Response, type RequestHandler } from 'express';
import type { AppContext } from '../../platform/context.js';
import type { LetterContentJson } from '../../platform/db/schema.js';
import { requireUser, requirePermission, paging, isApi } from '../../platform/http/guards.js';
import { flash } from '../../platform/http/flash.js';
import { toAppError } from '../../platform/http/error-handler.js';
import { ValidationError, type AppError } from '../../platform/http/errors.js';
import { uploadMiddleware, sendPreview, versionParam } from './api.js';
import { previewPdf } from './render-preview.js';
import { auditRead } from '../archive/access.js';
import { checkAttachment } from './attachments.js';
import { canonicalBody } from './body.js';
import { diffVersions } from './diff.js';
import { parseRecipientLines, recipientLines, type RecipientDirectory } from './recipient-lines.js';
import * as letters from './service.js';
import { describeSignature } from './sign.js';
import { replyPrefill, replyTarget } from '../dispatch/service.js';
import { formatWhen } from '../../platform/i18n/dates.js';

type Directory = Awaited<ReturnType<typeof letters.draftingDirectory>>;

/** Puts the inbox and notification counts in res.locals for the navigation of every page. */
export function navCounts(ctx: AppContext): RequestHandler {
  return async (req, res, next) => {
    if (req.method === 'GET' && req.user?.authMethod === 'session' && !isApi(req) && req.accepts(['html', 'json']) === 'html') {
      res.locals.navCounts = await letters.inboxCounts(ctx, req.user);
    }
    next();
  };
}

// ---------- the drafting form ----------

const FORM_FIELDS = ['kind', 'subject', 'urgency', 'securityClass', 'classificationCode', 'to', 'cc', 'signer', 'paper', 'body'] as const;
type DraftForm = Record<(typeof FORM_FIELDS)[number], string> & { version: string; replyTo?: string };

function formFromBody(body: Record<string, unknown> | undefined): DraftForm {
  const get = (k: string) => (typeof body?.[k] === 'string' ? (body[k] as string) : '');
  return { ...(Object.fromEntries(FORM_FIELDS.map((f) => [f, get(f)])) as Record<(typeof FORM_FIELDS)[number], string>), version: get('version'), replyTo: get('replyTo') || undefined };
}

function formFromContent(c: LetterContentJson, signerUsername: string, version: number): DraftForm {
  return {
    kind: c.kind,
    subject: c.subject,
    urgency: c.urgency,
    securityClass: c.securityClass,
    classificationCode: c.classificationCode,
    to: recipientLines(c.to),
    cc: recipientLines(c.cc),
    signer: signerUsername,
    paper: c.paper,
    body: c.body,
    version: String(version),
  };
}

const EMPTY_FORM: DraftForm = { kind: '', subject: '', urgency: 'biasa', securityClass: 'biasa', classificationCode: '', to: '', cc: '', signer: '', paper: 'A4', body: '', version: '' };

function recipientDirectory(dir: Directory): RecipientDirectory {
  const byLower = (codes: string[]) => new Map(codes.map((c) => [c.toLowerCase(), c]));
  return { users: byLower(dir.users.map((u) => u.username)), units: byLower(dir.units.map((u) => u.code)), positions: byLower(dir.positions.map((p) => p.code)) };
}

/** The service's input from the form: the same shape the JSON API takes. */
function draftInput(form: DraftForm, dir: Directory) {
  const rd = recipientDirectory(dir);
  const { version: _version, replyTo: _replyTo, to, cc, ...rest } = form;
  return { ...rest, to: parseRecipientLines(to, rd), cc: parseRecipientLines(cc, rd) };
}

/** One message per bad field, from ValidationError details (`to.2.external.email` -> to). */
function fieldErrors(err: AppError, t: Request['t']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of Array.isArray(err.details) ? (err.details as { field?: unknown }[]) : []) {
    const [field, index] = String(d.field ?? '').split('.');
    if (!field || out[field]) continue;
    out[field] = (field === 'to' || field === 'cc') && /^\d+$/.test(index ?? '') ? t('letters.form.invalid_recipient', { n: Number(index) + 1 }) : t('letters.form.invalid');
  }
  return out;
}


function splitCodes(v: unknown): string[] | undefined {
  const codes = typeof v === 'string' ? v.split(/[\s,;]+/).filter(Boolean) : [];
  return codes.length ? codes : undefined;
}

function optionalVersion(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** A refusal the user can act on (bad input, wrong state, stale version, not their turn) rather than a page to hide. */
function userFacing(e: unknown): AppError | undefined {
  const appErr = toAppError(e);
  return appErr && [400, 403, 409, 413].includes(appErr.status) ? appErr : undefined;
}

export function letterPages(ctx: AppContext): Router {
  const r = Router();
  const upload = uploadMiddleware(ctx);
  const receiveUpload = (req: Request, res: Response) => new Promise<void>((resolve, reject) => upload(req, res, (err: unknown) => (err ? reject(err) : resolve())));

  const render = (req: Request, res: Response, view: string, data: Record<string, unknown>, status = 200) => {
    res.status(status).render(view, { when: (d: Date | string | null) => formatWhen(d, req.locale), ...data });
  };

  const renderForm = async (req: Request, res: Response, o: { letterId?: string; form: DraftForm; dir?: Directory; error?: AppError }) => {
    const [kinds, codes, dir] = await Promise.all([letters.listKinds(ctx), letters.listClassificationCodes(ctx), o.dir ?? letters.draftingDirectory(ctx)]);
    render(req, res, 'letters/form', {
      title: req.t(o.letterId ? 'letters.form.edit_title' : 'letters.form.new_title'),
      letterId: o.letterId ?? null,
      form: o.form,
      kinds,
      codes,
      directory: dir,
      urgencies: letters.URGENCIES,
      securityClasses: letters.SECURITY_CLASSES,
      error: o.error ? req.t(o.error.messageKey, o.error.params) : null,
      conflict: o.error?.status === 409,
      errors: o.error ? fieldErrors(o.error, req.t) : {},
    }, o.error?.status ?? 200);
  };

  /** Runs a command from the letter page and goes back to it with a flash of the outcome. */
  const pageCommand = (run: (req: Request, id: string, res: Response) => Promise<string>) => async (req: Request, res: Response) => {
    const id = String(req.params.id);
    try {
      flash(req, { kind: 'success', key: await run(req, id, res) });
    } catch (e) {
      const appErr = userFacing(e);
      if (!appErr) throw e;
      flash(req, { kind: 'error', key: appErr.messageKey, params: appErr.params });
    }
    res.redirect(303, `/surat/${encodeURIComponent(id)}`);
  };

  // ---------- inboxes ----------

  r.get('/surat', requireUser, async (req, res) => {
    const user = req.user!;
    const box = typeof req.query.box === 'string' ? req.query.box : 'action';
    const p = paging(req);
    const filter = {
      q: typeof req.query.q === 'string' && req.query.q.trim() ? req.query.q.trim().slice(0, 200) : undefined,
      kind: typeof req.query.kind === 'string' && req.query.kind ? req.query.kind.slice(0, 16) : undefined,
      urgency: typeof req.query.urgency === 'string' && req.query.urgency ? req.query.urgency.slice(0, 20) : undefined,
    };
    const [out, counts, kinds] = await Promise.all([
      letters.inbox(ctx, user, box, p, filter),
      (res.locals.navCounts as Awaited<ReturnType<typeof letters.inboxCounts>> | undefined) ?? letters.inboxCounts(ctx, user),
      letters.listKinds(ctx),
    ]);
    const size = req.query.size ? String(p.size) : undefined;
    const baseQuery = new URLSearchParams(Object.entries({ box, ...filter, size }).filter((e): e is [string, string] => !!e[1])).toString();
    render(req, res, 'letters/inbox', {
      title: req.t(`letters.box.${box}`),
      box,
      boxes: letters.INBOX_BOXES,
      counts: { action: counts.action, drafts: counts.drafts, in_progress: counts.inProgress },
      items: out.items,
      total: out.total,
      page: p.page,
      pages: Math.ceil(out.total / p.size),
      baseQuery,
      filter,
      kinds,
      urgencies: letters.URGENCIES,
    });
  });

  // ---------- notifications ----------

  r.get('/notifikasi', requireUser, async (req, res) => {
    const p = paging(req);
    const out = await letters.listNotifications(ctx, req.user!, p);
    render(req, res, 'letters/notifications', { title: req.t('letters.notif.title'), items: out.items, total: out.total, page: p.page, pages: Math.ceil(out.total / p.size), baseQuery: '' });
  });

  r.post('/notifikasi/dibaca', requireUser, async (req, res) => {
    await letters.markAllNotificationsRead(ctx, req.user!);
    flash(req, { kind: 'success', key: 'letters.notif.marked' });
    res.redirect(303, '/notifikasi');
  });

  // ---------- drafting ----------

  r.get('/surat/baru', requirePermission('letter.draft'), async (req, res) => {
    // "Balas" on a received letter: Hal and addressee prefilled, linked when saved.
    const reply = typeof req.query.balas === 'string' ? await replyPrefill(ctx, req.user!, req.query.balas) : undefined;
    const form = reply ? { ...EMPTY_FORM, subject: reply.subject, to: reply.to, classificationCode: reply.classificationCode, replyTo: reply.incomingId } : EMPTY_FORM;
    await renderForm(req, res, { form });
  });

  r.post('/surat', requireUser, async (req, res) => {
    const form = formFromBody(req.body);
    const dir = await letters.draftingDirectory(ctx);
    try {
      const reply = form.replyTo ? await replyTarget(ctx, req.user!, form.replyTo) : undefined;
      const id = await letters.createDraft(ctx, req.user!, draftInput(form, dir), reply);
      flash(req, { kind: 'success', key: 'letters.flash.created' });
      res.redirect(303, `/surat/${id}`);
    } catch (e) {
      const appErr = toAppError(e);
      if (appErr?.status !== 400) throw e;
      await renderForm(req, res, { form, dir, error: appErr });
    }
  });

  r.get('/surat/:id/ubah', requireUser, async (req, res) => {
    const id = String(req.params.id);
    const v = await letters.getLetter(ctx, req.user!, id);
    if (!v.access.actions.includes('edit')) {
      flash(req, { kind: 'error', key: 'letters.not_editable' });
      return res.redirect(303, `/surat/${id}`);
    }
    const signer = await letters.describeSigner(ctx, v.content.signer);
    await renderForm(req, res, { letterId: id, form: formFromContent(v.content, signer.username ?? '', v.letter.version) });
  });

  r.post('/surat/:id', requireUser, async (req, res) => {
    const id = String(req.params.id);
    const form = formFromBody(req.body);
    const dir = await letters.draftingDirectory(ctx);
    try {
      const out = await letters.saveVersion(ctx, req.user!, id, { ...draftInput(form, dir), version: form.version });
      flash(req, { kind: 'success', key: out.changed ? 'letters.flash.saved' : 'letters.flash.unchanged' });
      res.redirect(303, `/surat/${id}`);
    } catch (e) {
      // A stale version or a letter that moved on: the form comes back with the user's text in it.
      const appErr = toAppError(e);
      if (appErr?.status !== 400 && appErr?.status !== 409) throw e;
      await renderForm(req, res, { letterId: id, form, dir, error: appErr });
    }
  });

  // ---------- the letter ----------

  r.get('/surat/:id', requireUser, async (req, res) => {
    const id = String(req.params.id);
    const v = await letters.getLetter(ctx, req.user!, id);
    const [signer, dir, signature] = await Promise.all([
      letters.describeSigner(ctx, v.content.signer),
      v.access.actions.includes('submit') ? letters.draftingDirectory(ctx) : undefined,
      v.letter.signed_at ? describeSignature(ctx, id) : undefined,
    ]);
    render(req, res, 'letters/show', {
      title: v.letter.subject,
      id,
      ...v,
      signer,
      signature: signature ?? null,
      verifyUrl: signature ? `${ctx.config.publicUrl}/v/${signature.verification_id}` : null,
      drafterName: v.versions[v.versions.length - 1]?.author ?? '-',
      // Sanitised again right before output: the only stored HTML a page prints unescaped.
      body: canonicalBody(v.content.body),
      positions: dir?.positions ?? [],
      uploadMaxMb: ctx.config.UPLOAD_MAX_MB,
    });
  });

  r.get('/surat/:id/pratinjau', requireUser, async (req, res) => {
    sendPreview(res, await previewPdf(ctx, req.user!, String(req.params.id), versionParam(req.query.versi)));
  });

  r.get('/surat/:id/lampiran/:aid', requireUser, async (req, res) => {
    const f = await letters.getAttachmentFile(ctx, req.user!, String(req.params.id), String(req.params.aid));
    res.type(f.contentType).attachment(f.filename).send(f.bytes);
  });

  // Multipart: the CSRF token comes in the action's ?_csrf= (see app.ts), the file through multer.
  r.post('/surat/:id/lampiran', requireUser, pageCommand(async (req, id, res) => {
    await receiveUpload(req, res);
    if (!req.file) throw new ValidationError('letters.attachment_missing');
    const checked = await checkAttachment(req.file.buffer, req.file.originalname);
    await letters.addAttachment(ctx, req.user!, id, { bytes: req.file.buffer, ...checked }, optionalVersion(req.body?.version) ? Number(req.body.version) : undefined);
    return 'letters.flash.attachment_added';
  }));

  r.post('/surat/:id/lampiran/:aid/hapus', requireUser, pageCommand(async (req, id) => {
    await letters.removeAttachment(ctx, req.user!, id, String(req.params.aid));
    return 'letters.flash.attachment_removed';
  }));

  r.post('/surat/:id/submit', requireUser, pageCommand(async (req, id) => {
    await letters.submitForReview(ctx, req.user!, id, { reviewers: splitCodes(req.body.reviewers), version: optionalVersion(req.body.version) });
    return 'letters.flash.submitted';
  }));
  r.post('/surat/:id/approve', requireUser, pageCommand(async (req, id) => {
    await letters.approve(ctx, req.user!, id, { version: req.body.version, note: typeof req.body.note === 'string' && req.body.note.trim() ? req.body.note : undefined });
    return 'letters.flash.approved';
  }));
  r.post('/surat/:id/return', requireUser, pageCommand(async (req, id) => {
    await letters.returnToDrafter(ctx, req.user!, id, { note: req.body.note, version: optionalVersion(req.body.version) });
    return 'letters.flash.returned';
  }));
  r.post('/surat/:id/withdraw', requireUser, pageCommand(async (req, id) => {
    await letters.withdraw(ctx, req.user!, id);
    return 'letters.flash.withdrawn';
  }));
  r.post('/surat/:id/cancel', requireUser, pageCommand(async (req, id) => {
    await letters.cancel(ctx, req.user!, id, { reason: req.body.reason });
    return 'letters.flash.cancelled';
  }));

  r.get('/surat/:id/versi/:a/banding/:b', requireUser, async (req, res) => {
    const id = String(req.params.id);
    const [a, b] = await Promise.all([letters.getVersionContent(ctx, req.user!, id, Number(req.params.a)), letters.getVersionContent(ctx, req.user!, id, Number(req.params.b))]);
    await auditRead(ctx.db, req.user!, { objectType: 'letter', objectId: id, securityClass: a.letter.security_class, what: 'diff', details: { versions: [a.version.version, b.version.version] } });
    const labels = new Map<string, string>();
    for (const s of [a.version.content.signer, b.version.content.signer]) {
      const d = await letters.describeSigner(ctx, s);
      const on = d.prefix ? ` — ${req.t(`letters.prefix.${d.prefix}`)} ${d.principalTitle ?? ''}` : '';
      labels.set(JSON.stringify(s), `${d.name ?? '-'} (${d.positionTitle ?? '-'})${on}`);
    }
    const diff = diffVersions(a.version.content, b.version.content, (s) => labels.get(JSON.stringify(s))!);
    render(req, res, 'letters/diff', { title: req.t('letters.diff.title', { a: a.version.version, b: b.version.version }), id, letter: a.letter, a: a.version.version, b: b.version.version, diff });
  });

  return r;
}
