// Certificates and verification over HTTP: the administrators' pages
// (/admin/sertifikat), the user's own certificate (/profil/sertifikat), the
// published CA certificate and CRL (/pki), and the public verification pages
// (/verify, /v/:id) and API (/api/v1/verify). Thin: parse -> service -> render.
import { Router, type Request, type Response } from 'express';
import rateLimit from 'express-rate-limit';
import type { AppContext } from '../../platform/context.js';
import { requireUser, requirePermission, paging } from '../../platform/http/guards.js';
import { flash } from '../../platform/http/flash.js';
import { formErrors, formRefusal } from '../../platform/http/form.js';
import { TooManyRequestsError, type AppError } from '../../platform/http/errors.js';
import { fieldError } from '../../platform/http/validate.js';
import { PostgresRateLimitStore } from '../../platform/auth/rate-limit-store.js';
import { uploadMiddleware } from '../letters/api.js';
import { mayImportCertificate, verdictOnly } from './policy.js';
import * as signing from './service.js';
import { formatWhen } from '../../platform/i18n/dates.js';

const text = (body: Record<string, unknown> | undefined, k: string): string => (typeof body?.[k] === 'string' ? (body[k] as string) : '');

/** Dates as people in Indonesia read them (WIB). */
function dateFormatter(locale: string) {
  return (d: Date | string | null | undefined, withTime = true) => formatWhen(d, locale, withTime);
}

function receive(ctx: AppContext) {
  const upload = uploadMiddleware(ctx);
  return (req: Request, res: Response) => new Promise<void>((resolve, reject) => upload(req, res, (err: unknown) => (err ? reject(err) : resolve())));
}

// Verification costs an upload and ~15 ms of CPU: limited per client address, counted across app nodes.
function verifyLimiter(ctx: AppContext) {
  return rateLimit({
    windowMs: 15 * 60 * 1000,
    limit: 120,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    store: new PostgresRateLimitStore(ctx.db, 'verify:'),
    handler: (_req, _res, next) => next(new TooManyRequestsError()),
  });
}

/**
 * A form's POST: done -> a flash and back to `back` (post/redirect/get); refused
 * (400/409) -> `again` renders the form with the input kept, or without one the
 * refusal is flashed on `back`. Anything else goes on to the error handler.
 */
function formPost(back: string, run: (req: Request, res: Response) => Promise<string>, again?: (req: Request, res: Response, refusal: AppError) => Promise<void>) {
  return async (req: Request, res: Response) => {
    try {
      flash(req, { kind: 'success', key: await run(req, res) });
    } catch (e) {
      const refusal = formRefusal(e);
      if (again) return again(req, res, refusal);
      flash(req, { kind: 'error', key: refusal.messageKey, params: refusal.params });
    }
    res.redirect(303, back);
  };
}

// ---------- administration ----------

export function certificatePages(ctx: AppContext): Router {
  const r = Router();
  const admin = requirePermission('cert.manage');

  const listPage = async (req: Request, res: Response, form: { username: string }, refusal?: AppError) => {
    const { page, size, offset } = paging(req);
    const filter = { status: typeof req.query.status === 'string' ? req.query.status : '', q: typeof req.query.q === 'string' ? req.query.q.slice(0, 100) : '' };
    const { rows, total } = await signing.listCertificates(ctx, req.user!, { ...filter, limit: size, offset });
    const baseQuery = new URLSearchParams({ ...(filter.status ? { status: filter.status } : {}), ...(filter.q ? { q: filter.q } : {}), size: String(size) }).toString();
    res.status(refusal?.status ?? 200).render('signing/certificates', {
      title: req.t('signing.certificates'),
      items: rows,
      filter,
      form,
      reasons: signing.REVOCATION_REASON_NAMES,
      page,
      pages: Math.ceil(total / size),
      total,
      baseQuery,
      when: dateFormatter(req.locale),
      publicUrl: ctx.config.publicUrl,
      error: null,
      errors: {},
      ...(refusal ? formErrors(refusal, req.t) : {}),
    });
  };
  r.get('/admin/sertifikat', admin, (req, res) => listPage(req, res, { username: '' }));
  const issueForm = (req: Request) => ({ username: text(req.body, 'username') });
  r.post('/admin/sertifikat', admin, formPost('/admin/sertifikat', async (req) => {
    await signing.issueCertificate(ctx, req.user!, issueForm(req));
    return 'signing.issued';
  }, (req, res, refusal) => listPage(req, res, issueForm(req), refusal)));
  r.post('/admin/sertifikat/:id/cabut', admin, formPost('/admin/sertifikat', async (req) => {
    await signing.revokeCertificate(ctx, req.user!, String(req.params.id), { reason: text(req.body, 'reason') });
    return 'signing.revoked_flash';
  }));

  const anchorsPage = async (req: Request, res: Response, form: { name: string; pem: string }, refusal?: AppError) => {
    res.status(refusal?.status ?? 200).render('signing/anchors', {
      title: req.t('signing.anchors'),
      anchors: await signing.listTrustAnchors(ctx, req.user!),
      form,
      when: dateFormatter(req.locale),
      error: null,
      errors: {},
      ...(refusal ? formErrors(refusal, req.t) : {}),
    });
  };
  r.get('/admin/sertifikat/trust-anchor', admin, (req, res) => anchorsPage(req, res, { name: '', pem: '' }));
  const anchorForm = (req: Request) => ({ name: text(req.body, 'name'), pem: text(req.body, 'pem') });
  r.post('/admin/sertifikat/trust-anchor', admin, formPost('/admin/sertifikat/trust-anchor', async (req) => {
    await signing.addTrustAnchor(ctx, req.user!, anchorForm(req));
    return 'signing.anchor_added';
  }, (req, res, refusal) => anchorsPage(req, res, anchorForm(req), refusal)));
  r.post('/admin/sertifikat/trust-anchor/:id/nonaktifkan', admin, formPost('/admin/sertifikat/trust-anchor', async (req) => {
    await signing.deactivateTrustAnchor(ctx, req.user!, String(req.params.id));
    return 'signing.anchor_deactivated';
  }));

  // ---------- the user's own certificate ----------

  const receiveUpload = receive(ctx);
  const minePage = async (req: Request, res: Response, refusal?: { form: string; error: AppError }) => {
    const certificates = await signing.myCertificates(ctx, req.user!);
    res.status(refusal?.error.status ?? 200).render('signing/mine', {
      title: req.t('signing.my_certificate'),
      certificates,
      active: certificates.find((c) => c.status === 'active') ?? null,
      pending: certificates.find((c) => c.status === 'pending') ?? null,
      mayImport: mayImportCertificate(req.user),
      min: signing.PASSPHRASE_MIN,
      uploadMaxMb: ctx.config.UPLOAD_MAX_MB,
      when: dateFormatter(req.locale),
      failedForm: refusal?.form ?? null,
      error: null,
      errors: {},
      ...(refusal ? formErrors(refusal.error, req.t) : {}),
    });
  };
  const mineAction = (form: string, run: (req: Request, res: Response) => Promise<string>) =>
    formPost('/profil/sertifikat', run, (req, res, error) => minePage(req, res, { form, error }));
  r.get('/profil/sertifikat', requireUser, (req, res) => minePage(req, res));
  r.post('/profil/sertifikat/:id/aktifkan', requireUser, mineAction('activate', async (req) => {
    await signing.activateCertificate(ctx, req.user!, String(req.params.id), req.body ?? {});
    return 'signing.activated';
  }));
  // Multipart: the CSRF token travels in the form action's ?_csrf= (see app.ts).
  r.post('/profil/sertifikat/impor', requireUser, mineAction('import', async (req, res) => {
    await receiveUpload(req, res);
    await signing.importCertificate(ctx, req.user!, req.file?.buffer, req.body?.passphrase);
    return 'signing.imported';
  }));
  r.post('/profil/sertifikat/frasa-sandi', requireUser, mineAction('change', async (req) => {
    await signing.changePassphrase(ctx, req.user!, req.body ?? {});
    return 'signing.passphrase_changed';
  }));

  return r;
}

export function certificateApi(ctx: AppContext): Router {
  const r = Router();
  const admin = requirePermission('cert.manage');
  r.get('/certificates', admin, async (req, res) => {
    const { page, size, offset } = paging(req);
    const { rows, total } = await signing.listCertificates(ctx, req.user!, {
      status: typeof req.query.status === 'string' ? req.query.status : undefined,
      q: typeof req.query.q === 'string' ? req.query.q : undefined,
      limit: size,
      offset,
    });
    res.json({
      items: rows.map((c) => ({
        id: String(c.id), user: c.username, name: c.user_name, status: c.status, source: c.source, serial: c.serial_hex, issuer: c.issuer_dn,
        notBefore: c.not_before, notAfter: c.not_after, revokedAt: c.revoked_at, revocationReason: c.revocation_reason,
      })),
      page,
      size,
      total,
    });
  });
  r.post('/certificates', admin, async (req, res) => {
    res.status(201).json(await signing.issueCertificate(ctx, req.user!, req.body));
  });
  r.post('/certificates/:id/revoke', admin, async (req, res) => {
    await signing.revokeCertificate(ctx, req.user!, String(req.params.id), req.body);
    res.status(204).end();
  });
  r.get('/trust-anchors', admin, async (req, res) => {
    const anchors = await signing.listTrustAnchors(ctx, req.user!);
    res.json({ items: anchors.map((a) => ({ id: String(a.id), name: a.name, subject: a.info.subjectDn, fingerprint: a.fingerprint, internal: a.internal, active: a.active, notAfter: a.info.notAfter })) });
  });
  r.post('/trust-anchors', admin, async (req, res) => {
    res.status(201).json(await signing.addTrustAnchor(ctx, req.user!, req.body));
  });
  r.post('/trust-anchors/:id/deactivate', admin, async (req, res) => {
    await signing.deactivateTrustAnchor(ctx, req.user!, String(req.params.id));
    res.status(204).end();
  });
  return r;
}

// ---------- public: PKI publication and verification ----------

/**
 * What needs no session: the CRL and CA certificate (fetched by Adobe, pdfsig and
 * the like) and the QR target /v/:id (opened on phones). Mounted before sessions.
 */
export function publicSigningRoutes(ctx: AppContext): Router {
  const r = Router();
  r.get('/pki/crl', async (_req, res) => {
    res.type('application/pkix-crl').set('Cache-Control', 'public, max-age=300').send(await signing.currentCrl(ctx));
  });
  r.get('/pki/ca.crt', (_req, res) => {
    // DER, what application/pkix-cert means (RFC 2585) and what Windows and Adobe open on a click.
    res.attachment('ca.crt').type('application/pkix-cert').set('Cache-Control', 'public, max-age=3600').send(signing.caCertificateDer(ctx));
  });
  r.get('/v/:verificationId', async (req, res) => {
    const v = await signing.verifyRegistered(ctx, String(req.params.verificationId));
    renderVerification(ctx, req, res, 'verification', { title: req.t('verify.title'), v });
  });
  return r;
}

function renderVerification(ctx: AppContext, req: Request, res: Response, view: string, data: Record<string, unknown>, status = 200) {
  res.status(status).render(`signing/${view}`, { when: dateFormatter(req.locale), verdictOnly, checks: signing.VERIFICATION_CHECKS, error: null, uploadMaxMb: ctx.config.UPLOAD_MAX_MB, ...data });
}

/** A verification as the API answers it; the pages render the same Verification. */
function verificationJson(v: signing.Verification, t: Request['t']) {
  const restricted = v.registered ? verdictOnly(v.registered.security_class) : false;
  return {
    valid: v.result.valid,
    reasons: v.result.reasons.map((code) => ({ code, message: t(`verify.reason.${code}`) })),
    sha256: v.result.sha256,
    signatures: v.result.signatures.map((s) => ({
      signer: s.signerName,
      nip: s.signerSerialNumber,
      certificateSerial: s.certificateSerial,
      issuer: s.issuer,
      signingTime: s.signingTime,
      coversWholeDocument: s.coversWholeDocument,
      reasons: s.reasons,
    })),
    registered: v.registered
      ? {
          number: v.registered.number,
          signedAt: v.registered.signed_at,
          signer: v.registered.signer_name,
          position: v.registered.position_title,
          onBehalf: v.registered.on_behalf,
          kind: v.registered.kind_name,
          restricted,
          verificationUrl: `/v/${v.registered.verification_id}`,
        }
      : null,
  };
}

/** POST /api/v1/verify: mounted before sessions and CSRF, so anyone can call it without a cookie. */
export function verifyApi(ctx: AppContext): Router {
  const r = Router();
  const receiveUpload = receive(ctx);
  r.post('/verify', verifyLimiter(ctx), async (req, res) => {
    await receiveUpload(req, res);
    if (!req.file) throw fieldError('file', 'verify.no_file');
    res.json(verificationJson(await signing.verifyUpload(ctx, req.file.buffer), req.t));
  });
  return r;
}

export function verifyPages(ctx: AppContext): Router {
  const r = Router();
  const receiveUpload = receive(ctx);
  const title = (req: Request) => req.t('verify.title');
  r.get('/verify', (req, res) => renderVerification(ctx, req, res, 'verify', { title: title(req), v: null }));
  r.post('/verify', verifyLimiter(ctx), async (req, res) => {
    try {
      await receiveUpload(req, res);
      if (!req.file) throw fieldError('file', 'verify.no_file');
      renderVerification(ctx, req, res, 'verify', { title: title(req), v: await signing.verifyUpload(ctx, req.file.buffer) });
    } catch (e) {
      const refusal = formRefusal(e);
      renderVerification(ctx, req, res, 'verify', { title: title(req), v: null, error: req.t(refusal.messageKey, refusal.params) }, refusal.status);
    }
  });
  return r;
}
