// The letters JSON API (/api/v1). It calls the same service as the pages.
import { Router } from 'express';
import multer from 'multer';
import type { AppContext } from '../../platform/context.js';
import type { CurrentUser } from '../../platform/auth/current-user.js';
import { requireUser, paging } from '../../platform/http/guards.js';
import { ValidationError } from '../../platform/http/errors.js';
import { checkAttachment } from './attachments.js';
import * as letters from './service.js';
import * as sign from './sign.js';
import { previewPdf, type Preview } from './render-preview.js';

export function uploadMiddleware(ctx: AppContext) {
  return multer({ storage: multer.memoryStorage(), limits: { fileSize: ctx.config.UPLOAD_MAX_MB * 1024 * 1024, files: 1, fields: 20 } }).single('file');
}

/** A letter as the API shows it. */
export async function letterJson(ctx: AppContext, user: CurrentUser, id: string) {
  const v = await letters.getLetter(ctx, user, id);
  const l = v.letter;
  const sig = l.signed_at ? await sign.describeSignature(ctx, id) : undefined;
  return {
    id: String(l.id),
    state: l.state,
    number: l.number,
    version: l.version,
    versionSha256: l.version_sha256,
    kind: l.kind_code,
    subject: l.subject,
    urgency: l.urgency,
    securityClass: l.security_class,
    classificationCode: l.classification_code,
    paper: l.paper,
    to: v.content.to.map(stripIds),
    cc: v.content.cc.map(stripIds),
    signer: { username: await usernameOf(ctx, String(l.signer_id)), prefix: l.signer_prefix },
    body: v.content.body,
    attachments: v.attachments.map((a) => ({ id: String(a.id), filename: a.filename, contentType: a.content_type, size: Number(a.size), sha256: a.object_sha256 })),
    approvals: v.steps.map((s) => ({ round: s.round, order: s.ord, position: s.position_title, action: s.action, actor: s.actor_username, actingAs: s.acting_as, onBehalfOf: s.on_behalf_of_name, version: s.version, versionSha256: s.version_sha256, note: s.note, at: s.acted_at })),
    actions: v.access.actions,
    signature: sig
      ? { signedAt: sig.signed_at, signer: sig.signer_name, onBehalf: sig.on_behalf, pdfSha256: sig.pdf_sha256, certificateSerial: sig.serial_hex, certificateIssuer: sig.issuer_dn, verificationUrl: `${ctx.config.publicUrl}/v/${sig.verification_id}`, pdf: `/api/v1/letters/${id}/pdf` }
      : null,
    createdAt: l.created_at,
    updatedAt: l.updated_at,
  };
}

/** A preview PDF shown in the browser (inline), framable by our own pages only. */
export function sendPreview(res: import('express').Response, p: Preview) {
  res
    .type('application/pdf')
    .set('Content-Disposition', `inline; filename="${p.filename}"`)
    .set('Cache-Control', 'private, no-store')
    .set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'self'")
    .set('X-Frame-Options', 'SAMEORIGIN')
    .send(Buffer.from(p.bytes));
}

/** `?version=N` / `?versi=N`: a number, or undefined when absent (a bad value gives 404 in the service). */
export function versionParam(v: unknown): number | undefined {
  return typeof v === 'string' ? Number(v) : undefined;
}

/** One letter's outcome of a batch, as the API answers and the page streams it. */
export function bulkResultJson(req: import('express').Request, r: sign.BulkResult) {
  return r.ok ? { id: r.id, ok: true, number: r.number } : { id: r.id, ok: false, error: { code: r.error.code, message: req.t(r.error.messageKey, r.error.params) } };
}

function stripIds(r: object) {
  const o = r as Record<string, unknown>;
  if ('user' in o) return { user: o.user };
  if ('unit' in o) return { unit: o.unit };
  if ('position' in o) return { position: o.position };
  if ('peer' in o) return { peer: o.peer };
  return { external: o.external };
}

async function usernameOf(ctx: AppContext, id: string) {
  return (await ctx.db.selectFrom('users').select('username').where('id', '=', id).executeTakeFirstOrThrow()).username;
}

export function lettersApi(ctx: AppContext): Router {
  const r = Router();
  const upload = uploadMiddleware(ctx);

  r.get('/letter-kinds', requireUser, async (_req, res) => {
    const kinds = await letters.listKinds(ctx);
    res.json({ items: kinds.map((k) => ({ code: k.code, name: k.name, family: k.family, scope: k.scope, layout: k.layout, signerRule: k.signer_rule, needsAddressees: k.needs_addressees })) });
  });
  r.get('/classification-codes', requireUser, async (_req, res) => {
    const codes = await letters.listClassificationCodes(ctx);
    res.json({ items: codes.map((c) => ({ code: c.code, name: c.name, parentCode: c.parent_code, retentionActiveYears: c.retention_active_years, retentionInactiveYears: c.retention_inactive_years, finalFate: c.final_fate })) });
  });

  r.post('/letters', requireUser, async (req, res) => {
    const id = await letters.createDraft(ctx, req.user!, req.body);
    res.status(201).location(`/api/v1/letters/${id}`).json(await letterJson(ctx, req.user!, id));
  });
  r.get('/letters/:id', requireUser, async (req, res) => {
    res.json(await letterJson(ctx, req.user!, String(req.params.id)));
  });
  r.put('/letters/:id', requireUser, async (req, res) => {
    await letters.saveVersion(ctx, req.user!, String(req.params.id), req.body);
    res.json(await letterJson(ctx, req.user!, String(req.params.id)));
  });
  r.post('/letters/:id/attachments', requireUser, upload, async (req, res) => {
    if (!req.file) throw new ValidationError('letters.attachment_missing');
    const checked = await checkAttachment(req.file.buffer, req.file.originalname);
    const base = req.body?.version ? Number(req.body.version) : undefined;
    const out = await letters.addAttachment(ctx, req.user!, String(req.params.id), { bytes: req.file.buffer, ...checked }, base);
    res.status(201).json({ attachmentId: out.attachmentId, letter: await letterJson(ctx, req.user!, String(req.params.id)) });
  });
  r.get('/letters/:id/attachments/:aid', requireUser, async (req, res) => {
    const f = await letters.getAttachmentFile(ctx, req.user!, String(req.params.id), String(req.params.aid));
    res.type(f.contentType).attachment(f.filename).send(f.bytes);
  });
  r.delete('/letters/:id/attachments/:aid', requireUser, async (req, res) => {
    await letters.removeAttachment(ctx, req.user!, String(req.params.id), String(req.params.aid));
    res.json(await letterJson(ctx, req.user!, String(req.params.id)));
  });

  const command = (fn: (ctx: AppContext, user: CurrentUser, id: string, body: unknown) => Promise<unknown>) =>
    async (req: import('express').Request, res: import('express').Response) => {
      await fn(ctx, req.user!, String(req.params.id), req.body ?? {});
      res.json(await letterJson(ctx, req.user!, String(req.params.id)));
    };
  r.post('/letters/:id/submit', requireUser, command(letters.submitForReview));
  r.post('/letters/:id/approve', requireUser, command(letters.approve));
  r.post('/letters/:id/return', requireUser, command(letters.returnToDrafter));
  r.post('/letters/:id/withdraw', requireUser, command((c, u, id) => letters.withdraw(c, u, id)));
  r.post('/letters/:id/cancel', requireUser, command(letters.cancel));
  r.post('/letters/:id/sign', requireUser, command(sign.signLetter));
  // One JSON answer at the end; the page streams the same results line by line (sign-routes.ts).
  r.post('/letters/bulk-sign', requireUser, async (req, res) => {
    const results = await sign.signLetters(ctx, req.user!, req.body ?? {}, () => {});
    res.json({ signed: results.filter((x) => x.ok).length, failed: results.filter((x) => !x.ok).length, results: results.map((x) => bulkResultJson(req, x)) });
  });
  r.get('/letters/:id/preview', requireUser, async (req, res) => {
    sendPreview(res, await previewPdf(ctx, req.user!, String(req.params.id), versionParam(req.query.version)));
  });
  r.get('/letters/:id/pdf', requireUser, async (req, res) => {
    const f = await sign.getSignedPdf(ctx, req.user!, String(req.params.id));
    res.type('application/pdf').attachment(f.filename).send(f.bytes);
  });

  r.get('/inbox', requireUser, async (req, res) => {
    const p = paging(req);
    const box = typeof req.query.box === 'string' ? req.query.box : 'action';
    const out = await letters.inbox(ctx, req.user!, box, p, {
      q: typeof req.query.q === 'string' ? req.query.q.slice(0, 200) : undefined,
      kind: typeof req.query.kind === 'string' ? req.query.kind.slice(0, 16) : undefined,
      urgency: typeof req.query.urgency === 'string' ? req.query.urgency.slice(0, 20) : undefined,
    });
    res.json({
      box,
      page: p.page,
      size: p.size,
      total: out.total,
      items: out.items.map((l) => ({ id: String(l.id), subject: l.subject, kind: l.kind_code, kindName: l.kind_name, state: l.state, urgency: l.urgency, securityClass: l.security_class, number: l.number, version: l.version, drafter: l.drafter_name, updatedAt: l.updated_at })),
    });
  });
  return r;
}
