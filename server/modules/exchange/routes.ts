// Exchange between installations. Public and cookie-less (mounted before sessions):
// GET /api/v1/exchange/key (who we are, for a peer's administrator) and
// POST /api/v1/exchange/inbound (a peer delivers a letter; authenticated by its
// request signature, not by a session). Administration: /admin/peers.
import express, { Router, type Request, type Response } from 'express';
import rateLimit from 'express-rate-limit';
import type { AppContext } from '../../platform/context.js';
import { PostgresRateLimitStore } from '../../platform/auth/rate-limit-store.js';
import { requirePermission, requireUser, paging } from '../../platform/http/guards.js';
import { flash } from '../../platform/http/flash.js';
import { formErrors, formRefusal } from '../../platform/http/form.js';
import { TooManyRequestsError, type AppError } from '../../platform/http/errors.js';
import * as exchange from './service.js';

export function exchangePublicApi(ctx: AppContext): Router {
  const r = Router();
  r.get('/exchange/key', async (_req, res) => {
    res.json(await exchange.installationCard(ctx));
  });
  // The raw body: the request signature covers its exact bytes, so it is hashed before it is parsed.
  const rawBody = express.raw({ type: () => true, limit: `${ctx.config.UPLOAD_MAX_MB + 1}mb` });
  const limiter = rateLimit({
    windowMs: 60_000,
    limit: 600,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    store: new PostgresRateLimitStore(ctx.db, 'exchange:'),
    handler: (_req, _res, next) => next(new TooManyRequestsError()),
  });
  r.post('/exchange/inbound', limiter, rawBody, async (req, res) => {
    const receipt = await exchange.receiveInbound(ctx, {
      method: req.method,
      path: req.originalUrl.split('?')[0],
      header: (name) => req.get(name),
      contentType: req.get('content-type'),
      body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      ip: req.ip ?? null,
    });
    res.json(receipt);
  });
  return r;
}

function peerForm(body: Record<string, unknown> | undefined) {
  return Object.fromEntries(['code', 'name', 'url', 'public_key_pem'].map((k) => [k, typeof body?.[k] === 'string' ? (body[k] as string) : ''])) as Record<string, string>;
}

export function peerPages(ctx: AppContext): Router {
  const r = Router();
  const admin = requirePermission('org.manage');
  const page = async (req: Request, res: Response, form: Record<string, string>, refusal?: AppError) => {
    const p = paging(req);
    const [out, card] = await Promise.all([exchange.listPeers(ctx, req.user!, { limit: p.size, offset: p.offset }), exchange.installationCard(ctx)]);
    res.status(refusal?.status ?? 200).render('exchange/peers', {
      title: req.t('exchange.peers'),
      peers: out.rows,
      total: out.total,
      page: p.page,
      pages: Math.ceil(out.total / p.size),
      baseQuery: '',
      card,
      form,
      error: null,
      errors: {},
      ...(refusal ? formErrors(refusal, req.t) : {}),
    });
  };
  r.get('/admin/peers', admin, async (req, res) => {
    await page(req, res, peerForm(undefined));
  });
  r.post('/admin/peers', requireUser, async (req, res) => {
    const form = peerForm(req.body);
    try {
      await exchange.addPeer(ctx, req.user!, form);
      flash(req, { kind: 'success', key: 'exchange.peer_added', params: { code: form.code } });
      res.redirect(303, '/admin/peers');
    } catch (e) {
      await page(req, res, form, formRefusal(e));
    }
  });
  r.post('/admin/peers/:id/deactivate', requireUser, async (req, res) => {
    try {
      await exchange.deactivatePeer(ctx, req.user!, String(req.params.id));
      flash(req, { kind: 'success', key: 'exchange.peer_deactivated' });
    } catch (e) {
      const refusal = formRefusal(e);
      flash(req, { kind: 'error', key: refusal.messageKey, params: refusal.params });
    }
    res.redirect(303, '/admin/peers');
  });
  return r;
}

/** The same administration for scripts: /api/v1/peers (administrators). */
export function peerApi(ctx: AppContext): Router {
  const r = Router();
  const admin = requirePermission('org.manage');
  r.get('/peers', admin, async (req, res) => {
    const p = paging(req);
    const out = await exchange.listPeers(ctx, req.user!, { limit: p.size, offset: p.offset });
    res.json({
      items: out.rows.map((x) => ({ id: String(x.id), code: x.code, name: x.name, url: x.url, active: x.active, fingerprint: x.fingerprint, publicKeyPem: x.public_key_pem })),
      total: out.total,
    });
  });
  r.post('/peers', admin, async (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    res.status(201).json(await exchange.addPeer(ctx, req.user!, { code: b.code, name: b.name, url: b.url, public_key_pem: b.publicKeyPem }));
  });
  r.post('/peers/:id/deactivate', admin, async (req, res) => {
    await exchange.deactivatePeer(ctx, req.user!, String(req.params.id));
    res.status(204).end();
  });
  return r;
}
