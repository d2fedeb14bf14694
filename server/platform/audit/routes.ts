// The auditor's view of the audit trail: the filtered, paged list (/audit), its
// CSV export, the chain verification, and the same through the JSON API
// (/api/v1/audit, /api/v1/audit/verify). Who may is the service's question.
import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../context.js';
import { can, type Permission } from '../auth/permissions.js';
import { requireUser, paging } from '../http/guards.js';
import { formErrors, formRefusal } from '../http/form.js';
import type { AppError } from '../http/errors.js';
import type { AuditEntry } from '../db/schema.js';
import { AUDIT_ACTIONS } from './index.js';
import * as trail from './service.js';

/** Where an entry's object can be opened, and who may open it (no link for the others: it would only be refused). */
const OBJECT_PAGES: Record<string, { href: (id: string) => string; anyOf?: Permission[] }> = {
  user: { href: (id) => `/admin/users/${id}`, anyOf: ['org.manage'] },
  unit: { href: (id) => `/admin/units/${id}`, anyOf: ['org.manage'] },
  position: { href: (id) => `/admin/positions/${id}`, anyOf: ['org.manage'] },
  delegation: { href: () => '/admin/delegations?status=all', anyOf: ['org.manage'] },
  letter: { href: (id) => `/surat/${id}` },
  letter_kind: { href: (id) => `/admin/jenis-naskah/${encodeURIComponent(id)}`, anyOf: ['org.manage'] },
  classification_code: { href: (id) => `/admin/klasifikasi/${encodeURIComponent(id)}`, anyOf: ['org.manage', 'archive.manage'] },
  approval_template: { href: (id) => `/admin/alur-persetujuan/${id}`, anyOf: ['org.manage'] },
  certificate: { href: () => '/admin/sertifikat', anyOf: ['cert.manage'] },
  trust_anchor: { href: () => '/admin/sertifikat/trust-anchor', anyOf: ['cert.manage'] },
};

const FILTER_KEYS = ['actor', 'action', 'objectType', 'objectId', 'from', 'to', 'ip'] as const;
type FilterForm = Record<(typeof FILTER_KEYS)[number], string>;

/** The filter form as typed (kept for re-display, always escaped by the view). */
function filterForm(query: Request['query']): FilterForm {
  return Object.fromEntries(FILTER_KEYS.map((k) => [k, typeof query[k] === 'string' ? (query[k] as string).slice(0, 200) : ''])) as FilterForm;
}

function formatAt(at: string, locale: string): string {
  return new Date(at).toLocaleString(locale === 'id' ? 'id-ID' : 'en-GB', { timeZone: 'Asia/Jakarta', dateStyle: 'medium', timeStyle: 'medium' });
}

// ---------- CSV ----------

/** One CSV field. A leading =, +, -, @ or control character is neutralised so a spreadsheet never runs it as a formula. */
function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvOf(entries: AuditEntry[], label: (a: string) => string): string {
  const header = ['seq', 'at_utc', 'actor_id', 'actor', 'action', 'action_label', 'object_type', 'object_id', 'ip', 'doc_sha256', 'details', 'hash', 'prev_hash'];
  const rows = entries.map((e) =>
    [e.seq, e.at, e.actor_id, e.actor_name, e.action, label(e.action), e.object_type, e.object_id, e.ip, e.doc_sha256, e.details, e.hash, e.prev_hash].map(csvField).join(','),
  );
  // The BOM makes spreadsheet programs read the file as UTF-8.
  return '\ufeff' + [header.join(','), ...rows].join('\r\n') + '\r\n';
}

// ---------- pages ----------

export function auditPages(ctx: AppContext): Router {
  const r = Router();

  const actionLabel = (req: Request) => (a: string) => {
    const key = `audit.action.${a}`;
    const text = req.t(key);
    return text === key ? a : text;
  };
  const objectLink = (req: Request) => (type: string | null, id: string | null) => {
    const page = type && id ? OBJECT_PAGES[type] : undefined;
    if (!page || (page.anyOf && !page.anyOf.some((p) => can(req.user, p)))) return null;
    return page.href(id!);
  };

  r.get('/audit', requireUser, async (req: Request, res: Response) => {
    const form = filterForm(req.query);
    const p = paging(req);
    let out: { items: AuditEntry[]; total: number } = { items: [], total: 0 };
    let refusal: AppError | undefined;
    try {
      out = await trail.searchTrail(ctx, req.user!, req.query, { limit: p.size, offset: p.offset });
    } catch (e) {
      refusal = formRefusal(e);
    }
    const baseQuery = new URLSearchParams(Object.entries({ ...form, size: req.query.size ? String(p.size) : '' }).filter(([, v]) => v !== '')).toString();
    res.status(refusal?.status ?? 200).render('audit/index', {
      title: req.t('audit.title'),
      ...(refusal ? formErrors(refusal, req.t) : { error: null, errors: {} }),
      items: out.items,
      total: out.total,
      page: p.page,
      pages: Math.ceil(out.total / p.size),
      baseQuery,
      form,
      actions: Object.keys(AUDIT_ACTIONS),
      objectTypes: Object.keys(OBJECT_PAGES),
      exportMax: trail.EXPORT_MAX,
      actionLabel: actionLabel(req),
      objectLink: objectLink(req),
      at: (at: string) => formatAt(at, req.locale),
      pretty: (v: unknown) => JSON.stringify(v, null, 2),
    });
  });

  r.get('/audit/export.csv', requireUser, async (req, res) => {
    const out = await trail.exportTrail(ctx, req.user!, req.query);
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
    res
      .status(200)
      .set('Content-Type', 'text/csv; charset=utf-8')
      .set('Content-Disposition', `attachment; filename="jejak-audit-${stamp}.csv"`)
      .set('X-Export-Truncated', out.truncated ? 'true' : 'false')
      .send(csvOf(out.items, actionLabel(req)));
  });

  // A POST: the walk reads the whole chain, so a prefetch or a crawler must not start it.
  r.post('/audit/verifikasi', requireUser, async (req, res) => {
    const verdict = await trail.verifyTrail(ctx, req.user!);
    res.render('audit/verify', { title: req.t('audit.verify'), verdict });
  });

  return r;
}

// ---------- JSON API ----------

export function auditApi(ctx: AppContext): Router {
  const r = Router();

  r.get('/audit', requireUser, async (req, res) => {
    const out = await trail.searchTrail(ctx, req.user!, req.query, { limit: Number.parseInt(String(req.query.limit ?? '50'), 10) || 50, offset: Number.parseInt(String(req.query.offset ?? '0'), 10) || 0 });
    res.json({ items: out.items.map(trail.entryView), total: out.total, limit: out.limit, offset: out.offset });
  });

  r.get('/audit/verify', requireUser, async (req, res) => {
    const v = await trail.verifyTrail(ctx, req.user!);
    res.json({ intact: v.ok, count: v.count, headSeq: v.headSeq, headHash: v.headHash, ...(v.firstBad ? { firstBad: v.firstBad } : {}) });
  });

  return r;
}
