// Builds the Express application from its modules. No listen() here: main.ts
// starts it, and the tests drive it in process.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Request } from 'express';
import session from 'express-session';
import connectPgSimple from 'connect-pg-simple';
import { Passport } from 'passport';
import helmet from 'helmet';
import { csrfSync } from 'csrf-sync';
import type { AppContext } from './platform/context.js';
import { i18nMiddleware } from './platform/i18n/index.js';
import { loadCurrentUser, actorOf } from './platform/auth/current-user.js';
import { can, ROLE_LABELS } from './platform/auth/permissions.js';
import { appendAudit } from './platform/audit/index.js';
import { errorHandler, notFoundHandler } from './platform/http/error-handler.js';
import { UnauthorizedError } from './platform/http/errors.js';
import { flashMiddleware } from './platform/http/flash.js';
import { createMetrics } from './platform/metrics.js';
import { resolveApiToken } from './modules/account/service.js';
import { accountPages, accountApi } from './modules/account/routes.js';
import { homePages, healthRoutes } from './modules/home/routes.js';
import { orgPages, orgApi } from './modules/org/routes.js';
import { auditPages, auditApi } from './platform/audit/routes.js';
import { lettersApi } from './modules/letters/api.js';
import { letterPages, navCounts } from './modules/letters/routes.js';
import { letterSignPages } from './modules/letters/sign-routes.js';
import { letterKindPages, letterKindApi } from './modules/letters/kinds-routes.js';
import { classificationPages, classificationApi } from './modules/archive/classification-routes.js';
import { archivePages, archiveApi, recordPanels } from './modules/archive/archive-routes.js';
import { packagePages, packageApi } from './modules/archive/package-routes.js';
import { searchPages, searchApi } from './modules/archive/search-routes.js';
import { approvalPages, approvalApi } from './modules/approvals/routes.js';
import { certificatePages, certificateApi, publicSigningRoutes, verifyApi, verifyPages } from './modules/signing/routes.js';
import { dispatchPages, dispatchApi, incomingNavCount } from './modules/dispatch/routes.js';
import { exchangePublicApi, peerApi, peerPages } from './modules/exchange/routes.js';
import { reportPages, reportApi } from './modules/reports/routes.js';
import { healthPages, healthApi } from './modules/health/routes.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function buildApp(ctx: AppContext) {
  const app = express();
  const { config, logger } = ctx;
  app.set('views', path.join(root, 'views'));
  app.set('view engine', 'ejs');
  app.set('trust proxy', config.TRUST_PROXY ? (/^\d+$/.test(config.TRUST_PROXY) ? Number(config.TRUST_PROXY) : config.TRUST_PROXY) : false);
  app.disable('x-powered-by');

  const metrics = createMetrics();
  app.use(metrics.middleware);
  app.use((req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      // Path only: query strings may carry search text, never log them.
      logger.info({ method: req.method, path: req.path, status: res.statusCode, ms: Number(process.hrtime.bigint() - start) / 1e6 }, 'request');
    });
    next();
  });

  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          upgradeInsecureRequests: null,
        },
      },
      strictTransportSecurity: config.publicUrl.startsWith('https:'),
    }),
  );
  app.use('/static', express.static(path.join(root, 'public'), { maxAge: config.NODE_ENV === 'production' ? '1d' : 0 }));

  app.use(healthRoutes(ctx, metrics.registry));

  // Language and view helpers first, so even a refused body or CSRF token gets a translated page.
  app.use(i18nMiddleware(config.DEFAULT_LOCALE));
  app.use((req, res, next) => {
    res.locals.user = undefined;
    res.locals.csrfToken = '';
    res.locals.can = (p: Parameters<typeof can>[1]) => can(req.user, p);
    res.locals.roleLabel = (r: string) => (ROLE_LABELS as Record<string, { id: string; en: string }>)[r]?.[req.locale] ?? r;
    res.locals.currentPath = req.path;
    res.locals.query = req.query;
    res.locals.title = '';
    res.locals.flashes = [];
    next();
  });
  app.use(express.urlencoded({ extended: false, limit: '200kb', parameterLimit: 500 }));
  app.use(express.json({ limit: '1mb' }));

  // Bearer tokens authenticate the JSON API without cookies, hence without CSRF.
  app.use('/api', async (req, _res, next) => {
    const h = req.headers.authorization;
    if (!h) return next();
    const m = /^Bearer\s+(\S+)$/i.exec(h);
    const userId = m ? await resolveApiToken(ctx, m[1]) : undefined;
    const user = userId ? await loadCurrentUser(ctx.db, userId, 'token', req.ip ?? null) : undefined;
    if (!user) return next(new UnauthorizedError('error.invalid_token'));
    req.user = user;
    next();
  });
  // Public and cookie-less: CRL/CA certificate, the QR verification page and the verification API.
  app.use(publicSigningRoutes(ctx));
  app.use('/api/v1', verifyApi(ctx));
  // Peers authenticate each request by its signature (docs/openapi.yaml), never by a session.
  app.use('/api/v1', exchangePublicApi(ctx));

  const PgStore = connectPgSimple(session);
  app.use((req, res, next) => (req.user ? next() : sessionMiddleware(req, res, next)));
  const sessionMiddleware = session({
    name: 'tnde.sid',
    store: new PgStore({ pool: ctx.dbHandle.pool, tableName: 'session', pruneSessionInterval: config.NODE_ENV === 'test' ? false : 15 * 60 }),
    secret: ctx.sessionSecret,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: config.SECURE_COOKIES ?? config.publicUrl.startsWith('https:'),
      maxAge: config.SESSION_MAX_AGE_HOURS * 3600 * 1000,
    },
  });

  // One Passport per app: the default export is a process-wide singleton, and
  // several apps (tests, two installations in one process) must not share it.
  const passport = new Passport();
  app.locals.passport = passport;
  passport.serializeUser((user, done) => done(null, (user as Express.User).id));
  passport.deserializeUser((id: string, done) => {
    loadCurrentUser(ctx.db, id, 'session', null).then((u) => done(null, u ?? false), done);
  });
  const passportSession = passport.session();
  app.use(passport.initialize());
  app.use((req, res, next) => (req.user ? next() : passportSession(req, res, next)));
  app.use((req, res, next) => {
    if (req.user) req.user.ip = req.ip ?? null;
    res.locals.user = req.user;
    next();
  });

  const { csrfSynchronisedProtection, generateToken } = csrfSync({
    // Multipart bodies are parsed later (by multer, in the route), so upload forms
    // carry the token in the X-CSRF-Token header or the form action's ?_csrf=.
    getTokenFromRequest: (req) =>
      (req.body?._csrf as string | undefined) ??
      (req.headers['x-csrf-token'] as string | undefined) ??
      (req.is('multipart/form-data') && typeof req.query._csrf === 'string' ? req.query._csrf : undefined),
  });
  app.use((req, res, next) => {
    if (req.user?.authMethod === 'token') return next();
    // The page's token exists before the check, so even the refusal page has a working sign-out form.
    if (req.session) res.locals.csrfToken = generateToken(req);
    csrfSynchronisedProtection(req, res, next);
  });
  app.use(flashMiddleware);
  app.use(navCounts(ctx));
  app.use(incomingNavCount(ctx));

  app.use(accountPages(ctx));
  app.use(homePages(ctx));
  app.use(orgPages(ctx));
  app.use(auditPages(ctx));
  // Before the letter and incoming-letter pages: their record's archival panel (destroyed, hold, berkas).
  app.use(recordPanels(ctx));
  // Before letterPages: /surat/tandatangan must not be read as the letter /surat/:id.
  app.use(letterSignPages(ctx));
  app.use(dispatchPages(ctx));
  // Before letterPages: it also gives the letter page its "Unduh paket arsip" rule.
  app.use(packagePages(ctx));
  app.use(letterPages(ctx));
  app.use(letterKindPages(ctx));
  app.use(classificationPages(ctx));
  app.use(searchPages(ctx));
  app.use(archivePages(ctx));
  app.use(approvalPages(ctx));
  app.use(certificatePages(ctx));
  app.use(verifyPages(ctx));
  app.use(peerPages(ctx));
  app.use(reportPages(ctx));
  app.use(healthPages(ctx));

  const api = express.Router();
  api.use(accountApi(ctx));
  api.use(orgApi(ctx));
  api.use(auditApi(ctx));
  api.use(lettersApi(ctx));
  api.use(packageApi(ctx));
  api.use(dispatchApi(ctx));
  api.use(letterKindApi(ctx));
  api.use(classificationApi(ctx));
  api.use(searchApi(ctx));
  api.use(archiveApi(ctx));
  api.use(approvalApi(ctx));
  api.use(certificateApi(ctx));
  api.use(peerApi(ctx));
  api.use(reportApi(ctx));
  api.use(healthApi(ctx));
  app.use('/api/v1', api);

  app.use(notFoundHandler);
  app.use(
    errorHandler(logger, async (req: Request, err) => {
      await ctx.db.transaction().execute((trx) =>
        appendAudit(trx, actorOf(req.user, req.ip), {
          action: err.code === 'csrf_invalid' ? 'auth.csrf_rejected' : 'auth.forbidden',
          details: { method: req.method, path: req.path },
        }),
      );
    }),
  );
  return app;
}
