// The archivist's pages under /arsip (retention due lists, records, holds,
// berkas, disposal) and the JSON API under /api/v1/archive. Thin: parse ->
// service (which decides who may: 403 for anyone without archive.manage, or
// archive.approve_disposal for the disposal steps) -> render or redirect.
import { Router, type Request, type Response, type RequestHandler } from 'express';
import type { AppContext } from '../../platform/context.js';
import { requireUser, paging, safeNext } from '../../platform/http/guards.js';
import { flash } from '../../platform/http/flash.js';
import { toAppError } from '../../platform/http/error-handler.js';
import { formatWhen } from '../../platform/i18n/dates.js';
import * as archive from './service.js';
import * as holds from './hold.js';
import * as berkas from './berkas.js';
import * as disposal from './disposal.js';

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const listParam = (v: unknown) => (archive.isDueList(v) ? v : 'destroy');
const filterOf = (q: Request['query']) => ({ unit: str(q.unit), code: str(q.code), year: str(q.year) });
const query = (o: Record<string, string>) => new URLSearchParams(Object.entries(o).filter(([, v]) => v !== '')).toString();

function sendFile(res: Response, filename: string, type: string, body: string | Uint8Array) {
  res.type(type).attachment(filename).send(typeof body === 'string' ? body : Buffer.from(body));
}

/** Puts the record's archival panel (destroyed? held? berkas?) in res.locals for the letter and incoming-letter pages. */
export function recordPanels(ctx: AppContext): RequestHandler {
  return async (req, res, next) => {
    const m = req.method === 'GET' && req.user && /^\/(surat|surat-masuk)\/(\d{1,18})$/.exec(req.path);
    if (m) res.locals.archivePanel = await archive.recordPanel(ctx, req.user!, m[1] === 'surat' ? { letterId: m[2] } : { incomingId: m[2] });
    next();
  };
}

export function archivePages(ctx: AppContext): Router {
  const r = Router();
  const render = (req: Request, res: Response, view: string, data: Record<string, unknown>) =>
    res.render(`archive/${view}`, { when: (d: Date | string | null) => formatWhen(d, req.locale), day: (d: Date | string | null) => formatWhen(d, req.locale, false), ...data });

  /** Runs a command and goes back with a flash: bad input and conflicts are told on the page; 403/404 are error pages. */
  const command = (run: (req: Request) => Promise<{ key: string; params?: Record<string, string | number>; to: string }>, fallback: (req: Request) => string) => async (req: Request, res: Response) => {
    try {
      const out = await run(req);
      flash(req, { kind: 'success', key: out.key, params: out.params });
      res.redirect(303, out.to);
    } catch (e) {
      const err = toAppError(e);
      if (!err || ![400, 409, 410].includes(err.status)) throw e;
      flash(req, { kind: 'error', key: err.messageKey, params: err.params });
      res.redirect(303, fallback(req));
    }
  };
  const back = (req: Request) => safeNext(req.body?.next ?? req.get('referer')?.replace(/^https?:\/\/[^/]+/, ''));

  // ---------- retention due lists ----------

  r.get('/arsip', requireUser, async (req, res) => {
    const p = paging(req);
    const list = listParam(req.query.daftar);
    const out = await archive.dueList(ctx, req.user!, list, filterOf(req.query), p);
    const size = req.query.size ? String(p.size) : '';
    render(req, res, 'due', {
      title: req.t('archive.home.title'), ...out, lists: archive.DUE_LISTS, page: p.page, pages: Math.ceil(out.total / p.size),
      baseQuery: query({ daftar: list, ...out.filter, size }), filterQuery: query(out.filter),
    });
  });

  r.get('/arsip/jatuh-tempo.csv', requireUser, async (req, res) => {
    const out = await archive.dueCsv(ctx, req.user!, listParam(req.query.daftar), filterOf(req.query));
    sendFile(res, out.filename, 'text/csv; charset=utf-8', out.csv);
  });

  r.post('/arsip/pindah-inaktif', requireUser, command(async (req) => {
    const n = await archive.moveToInactive(ctx, req.user!, { ids: req.body.ids });
    return { key: 'archive.flash.moved_inactive', params: { count: n }, to: back(req) };
  }, back));

  r.post('/arsip/usul-musnah', requireUser, command(async (req) => {
    const id = await disposal.propose(ctx, req.user!, { ids: req.body.ids, note: req.body.note });
    return { key: 'archive.disposal.proposed', params: { id }, to: `/arsip/pemusnahan/${id}` };
  }, back));

  // ---------- one record ----------

  r.get('/arsip/item/:id', requireUser, async (req, res) => {
    const id = String(req.params.id);
    const v = await archive.getRecordView(ctx, req.user!, id);
    const panel = await archive.recordPanel(ctx, req.user!, v.record.letter_id ? { letterId: String(v.record.letter_id) } : { incomingId: String(v.record.incoming_letter_id) });
    render(req, res, 'record', { title: v.record.subject, ...v, panel });
  });

  const recordPage = (req: Request) => `/arsip/item/${encodeURIComponent(String(req.params.id))}`;
  const backOrRecord = (req: Request) => (req.body?.next ? safeNext(req.body.next) : recordPage(req));
  r.post('/arsip/item/:id/tahan', requireUser, command(async (req) => {
    await holds.placeHold(ctx, req.user!, String(req.params.id), { reason: req.body.reason });
    return { key: 'archive.hold.placed', to: backOrRecord(req) };
  }, backOrRecord));
  r.post('/arsip/item/:id/lepas', requireUser, command(async (req) => {
    await holds.liftHold(ctx, req.user!, String(req.params.id), { reason: req.body.reason });
    return { key: 'archive.hold.lifted', to: backOrRecord(req) };
  }, backOrRecord));
  r.post('/arsip/item/:id/permanen', requireUser, command(async (req) => {
    await archive.markPermanentTransfer(ctx, req.user!, String(req.params.id), { note: req.body.note });
    return { key: 'archive.flash.transferred', to: backOrRecord(req) };
  }, backOrRecord));
  r.post('/arsip/item/:id/berkas', requireUser, command(async (req) => {
    await berkas.addRecord(ctx, req.user!, str(req.body.fileId), String(req.params.id));
    return { key: 'archive.berkas.added', to: backOrRecord(req) };
  }, backOrRecord));

  // ---------- holds ----------

  r.get('/arsip/penahanan', requireUser, async (req, res) => {
    const p = paging(req);
    const out = await holds.listHolds(ctx, req.user!, p);
    render(req, res, 'holds', { title: req.t('archive.hold.title'), ...out, page: p.page, pages: Math.ceil(out.total / p.size), baseQuery: '' });
  });

  // ---------- berkas ----------

  r.get('/arsip/berkas', requireUser, async (req, res) => {
    const p = paging(req);
    const out = await berkas.listFiles(ctx, req.user!, { q: str(req.query.q), status: str(req.query.status) }, p);
    render(req, res, 'berkas-list', { title: req.t('archive.berkas.title'), ...out, page: p.page, pages: Math.ceil(out.total / p.size), baseQuery: query(out.filter), form: {}, error: null });
  });
  r.get('/arsip/daftar-berkas.csv', requireUser, async (req, res) => {
    const out = await berkas.filesCsv(ctx, req.user!, { q: str(req.query.q), status: str(req.query.status) });
    sendFile(res, out.filename, 'text/csv; charset=utf-8', out.csv);
  });
  r.get('/arsip/daftar-berkas.pdf', requireUser, async (req, res) => {
    const out = await berkas.filesPdf(ctx, req.user!, { q: str(req.query.q), status: str(req.query.status) });
    sendFile(res, out.filename, 'application/pdf', out.bytes);
  });
  r.post('/arsip/berkas', requireUser, command(async (req) => {
    const id = await berkas.createFile(ctx, req.user!, { number: req.body.number, title: req.body.title, classificationCode: req.body.classificationCode, description: req.body.description, unit: req.body.unit });
    return { key: 'archive.berkas.created', params: { number: str(req.body.number) }, to: `/arsip/berkas/${id}` };
  }, () => '/arsip/berkas'));

  const filePage = (req: Request) => `/arsip/berkas/${encodeURIComponent(String(req.params.id))}`;
  r.get('/arsip/berkas/:id', requireUser, async (req, res) => {
    const out = await berkas.getFile(ctx, req.user!, String(req.params.id));
    render(req, res, 'berkas-show', { title: out.file.title, ...out });
  });
  r.get('/arsip/berkas/:id/csv', requireUser, async (req, res) => {
    const out = await berkas.fileCsv(ctx, req.user!, String(req.params.id));
    sendFile(res, out.filename, 'text/csv; charset=utf-8', out.csv);
  });
  r.get('/arsip/berkas/:id/pdf', requireUser, async (req, res) => {
    const out = await berkas.filePdf(ctx, req.user!, String(req.params.id));
    sendFile(res, out.filename, 'application/pdf', out.bytes);
  });
  r.post('/arsip/berkas/:id', requireUser, command(async (req) => {
    const changed = await berkas.updateFile(ctx, req.user!, String(req.params.id), {
      title: req.body.title, classificationCode: req.body.classificationCode, description: req.body.description, ...(req.body.closed !== undefined ? { closed: req.body.closed } : {}),
    });
    return { key: changed ? 'archive.berkas.saved' : 'archive.berkas.unchanged', to: filePage(req) };
  }, filePage));
  r.post('/arsip/berkas/:id/arsip', requireUser, command(async (req) => {
    await berkas.addRecord(ctx, req.user!, String(req.params.id), str(req.body.recordId).trim());
    return { key: 'archive.berkas.added', to: filePage(req) };
  }, filePage));
  r.post('/arsip/berkas/:id/arsip/:rid/hapus', requireUser, command(async (req) => {
    await berkas.removeRecord(ctx, req.user!, String(req.params.id), String(req.params.rid));
    return { key: 'archive.berkas.removed', to: filePage(req) };
  }, filePage));

  // ---------- disposal ----------

  r.get('/arsip/pemusnahan', requireUser, async (req, res) => {
    const p = paging(req);
    const out = await disposal.listDisposals(ctx, req.user!, str(req.query.status) || undefined, p);
    render(req, res, 'disposals', { title: req.t('archive.disposal.title'), ...out, page: p.page, pages: Math.ceil(out.total / p.size), baseQuery: query({ status: out.state }) });
  });
  const disposalPage = (req: Request) => `/arsip/pemusnahan/${encodeURIComponent(String(req.params.id))}`;
  r.get('/arsip/pemusnahan/:id', requireUser, async (req, res) => {
    const out = await disposal.getDisposal(ctx, req.user!, String(req.params.id));
    render(req, res, 'disposal', { title: req.t('archive.disposal.item', { id: String(out.disposal.id) }), ...out });
  });
  r.get('/arsip/pemusnahan/:id/berita-acara', requireUser, async (req, res) => {
    const out = await disposal.beritaAcara(ctx, req.user!, String(req.params.id));
    sendFile(res, out.filename, 'application/pdf', out.bytes);
  });
  r.post('/arsip/pemusnahan/:id/setujui', requireUser, command(async (req) => {
    await disposal.approve(ctx, req.user!, String(req.params.id), { note: req.body.note });
    return { key: 'archive.disposal.approved', to: disposalPage(req) };
  }, disposalPage));
  r.post('/arsip/pemusnahan/:id/tolak', requireUser, command(async (req) => {
    await disposal.reject(ctx, req.user!, String(req.params.id), { note: req.body.note });
    return { key: 'archive.disposal.rejected', to: disposalPage(req) };
  }, disposalPage));
  r.post('/arsip/pemusnahan/:id/musnahkan', requireUser, command(async (req) => {
    const out = await disposal.execute(ctx, req.user!, String(req.params.id), { passphrase: req.body.passphrase, otp: req.body.otp });
    return { key: 'archive.disposal.executed', params: { number: out.number }, to: disposalPage(req) };
  }, disposalPage));

  return r;
}

export function archiveApi(ctx: AppContext): Router {
  const r = Router();

  r.get('/archive/due', requireUser, async (req, res) => {
    const p = paging(req);
    const out = await archive.dueList(ctx, req.user!, listParam(req.query.list), filterOf(req.query), p);
    res.json({
      list: out.list, today: out.today, counts: out.counts, total: out.total, page: p.page, size: p.size,
      items: out.items.map((i) => ({
        id: String(i.id), letterId: i.letter_id === null ? null : String(i.letter_id), incomingLetterId: i.incoming_letter_id === null ? null : String(i.incoming_letter_id),
        number: i.number, subject: i.subject, recordDate: i.record_date, unit: i.unit_name, classificationCode: i.classification_code,
        retention: { activeYears: i.retention_active_years, inactiveYears: i.retention_inactive_years, finalFate: i.final_fate, activeUntil: i.active_until, retentionUntil: i.retention_until },
        held: i.held, pendingDisposalId: i.pending_disposal, inactiveAt: i.inactive_at,
      })),
    });
  });
  r.post('/archive/due/inactive', requireUser, async (req, res) => {
    res.json({ moved: await archive.moveToInactive(ctx, req.user!, req.body) });
  });

  r.get('/archive/records/:id', requireUser, async (req, res) => {
    res.json(archive.recordJson(await archive.getRecordView(ctx, req.user!, String(req.params.id))));
  });
  r.post('/archive/records/:id/hold', requireUser, async (req, res) => {
    const holdId = await holds.placeHold(ctx, req.user!, String(req.params.id), req.body);
    res.status(201).json({ id: holdId });
  });
  r.post('/archive/records/:id/hold/lift', requireUser, async (req, res) => {
    await holds.liftHold(ctx, req.user!, String(req.params.id), req.body);
    res.status(204).end();
  });
  r.post('/archive/records/:id/permanent', requireUser, async (req, res) => {
    await archive.markPermanentTransfer(ctx, req.user!, String(req.params.id), req.body);
    res.status(204).end();
  });
  r.get('/archive/holds', requireUser, async (req, res) => {
    const p = paging(req);
    const out = await holds.listHolds(ctx, req.user!, p);
    res.json({
      total: out.total, page: p.page, size: p.size,
      items: out.items.map((h) => ({ holdId: String(h.hold_id), recordId: String(h.id), number: h.number, subject: h.subject, reason: h.reason, placedAt: h.placed_at, placedBy: h.placed_by_name })),
    });
  });

  r.get('/archive/berkas', requireUser, async (req, res) => {
    const p = paging(req);
    const out = await berkas.listFiles(ctx, req.user!, { q: str(req.query.q), status: str(req.query.status) }, p);
    res.json({ total: out.total, page: p.page, size: p.size, items: out.items.map(berkas.fileJson) });
  });
  r.post('/archive/berkas', requireUser, async (req, res) => {
    const id = await berkas.createFile(ctx, req.user!, req.body);
    const out = await berkas.getFile(ctx, req.user!, id);
    res.status(201).location(`/api/v1/archive/berkas/${id}`).json(berkas.fileJson(out.file));
  });
  const fileBody = async (req: Request) => {
    const out = await berkas.getFile(ctx, req.user!, String(req.params.id));
    return {
      ...berkas.fileJson(out.file),
      records: out.records.map((x) => ({ id: String(x.id), letterId: x.letter_id === null ? null : String(x.letter_id), number: x.number, recordDate: x.record_date, subject: x.subject, classificationCode: x.classification_code, destroyedAt: x.destroyed_at, addedAt: x.added_at })),
    };
  };
  r.get('/archive/berkas/:id', requireUser, async (req, res) => {
    res.json(await fileBody(req));
  });
  r.patch('/archive/berkas/:id', requireUser, async (req, res) => {
    await berkas.updateFile(ctx, req.user!, String(req.params.id), req.body);
    res.json(await fileBody(req));
  });
  r.post('/archive/berkas/:id/records', requireUser, async (req, res) => {
    await berkas.addRecord(ctx, req.user!, String(req.params.id), String(req.body?.recordId ?? ''));
    res.status(201).json(await fileBody(req));
  });
  r.delete('/archive/berkas/:id/records/:recordId', requireUser, async (req, res) => {
    await berkas.removeRecord(ctx, req.user!, String(req.params.id), String(req.params.recordId));
    res.status(204).end();
  });

  r.get('/archive/disposals', requireUser, async (req, res) => {
    const p = paging(req);
    const out = await disposal.listDisposals(ctx, req.user!, str(req.query.state) || undefined, p);
    res.json({ total: out.total, page: p.page, size: p.size, items: out.items.map((d) => disposal.disposalJson(d)) });
  });
  r.post('/archive/disposals', requireUser, async (req, res) => {
    const id = await disposal.propose(ctx, req.user!, req.body);
    const out = await disposal.getDisposal(ctx, req.user!, id);
    res.status(201).location(`/api/v1/archive/disposals/${id}`).json(disposal.disposalJson(out.disposal, out.records));
  });
  const disposalBody = async (req: Request) => {
    const out = await disposal.getDisposal(ctx, req.user!, String(req.params.id));
    return disposal.disposalJson(out.disposal, out.records);
  };
  r.get('/archive/disposals/:id', requireUser, async (req, res) => {
    res.json(await disposalBody(req));
  });
  r.get('/archive/disposals/:id/berita-acara', requireUser, async (req, res) => {
    const out = await disposal.beritaAcara(ctx, req.user!, String(req.params.id));
    sendFile(res, out.filename, 'application/pdf', out.bytes);
  });
  r.post('/archive/disposals/:id/approve', requireUser, async (req, res) => {
    await disposal.approve(ctx, req.user!, String(req.params.id), req.body);
    res.json(await disposalBody(req));
  });
  r.post('/archive/disposals/:id/reject', requireUser, async (req, res) => {
    await disposal.reject(ctx, req.user!, String(req.params.id), req.body);
    res.json(await disposalBody(req));
  });
  r.post('/archive/disposals/:id/execute', requireUser, async (req, res) => {
    const out = await disposal.execute(ctx, req.user!, String(req.params.id), req.body);
    res.json({ ...(await disposalBody(req)), destroyed: out.destroyed, keptShared: out.keptShared });
  });
  return r;
}
