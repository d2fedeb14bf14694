// Download of archival packages: a letter's (its page's "Unduh paket arsip") and a berkas's, as pages and API.
// Thin: package.ts decides who may and builds the zip.
import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../platform/context.js';
import { requireUser } from '../../platform/http/guards.js';
import { exportBerkasPackage, exportLetterPackage, mayExportLetter, type ArchivalPackage } from './package.js';

function send(res: Response, pkg: ArchivalPackage) {
  // The digest lets a recipient match the file to the record.exported entry in the audit trail.
  res.type('application/zip').attachment(pkg.filename).set('X-Content-SHA256', pkg.sha256).set('Cache-Control', 'no-store').send(pkg.bytes);
}

export function packagePages(ctx: AppContext): Router {
  const r = Router();
  // The letter page asks the same rule for its button as the download does.
  r.use('/surat/:id', (req: Request, res: Response, next) => {
    res.locals.mayExportPackage = (letter: Parameters<typeof mayExportLetter>[1]) => !!req.user && mayExportLetter(req.user, letter);
    next();
  });
  r.get('/surat/:id/paket', requireUser, async (req, res) => send(res, await exportLetterPackage(ctx, req.user!, String(req.params.id))));
  r.get('/arsip/berkas/:id/paket', requireUser, async (req, res) => send(res, await exportBerkasPackage(ctx, req.user!, String(req.params.id))));
  return r;
}

export function packageApi(ctx: AppContext): Router {
  const r = Router();
  r.get('/letters/:id/package', requireUser, async (req, res) => send(res, await exportLetterPackage(ctx, req.user!, String(req.params.id))));
  r.get('/archive/berkas/:id/package', requireUser, async (req, res) => send(res, await exportBerkasPackage(ctx, req.user!, String(req.params.id))));
  return r;
}
