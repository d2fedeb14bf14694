// Numbering: allocateNumber (called inside the transaction that signs a letter
// or registers an incoming one), series administration, voiding, and the
// register (buku agenda) with its CSV export.
import { z } from 'zod';
import type { AppContext } from '../../platform/context.js';
import type { Executor } from '../../platform/db/index.js';
import { appendAudit } from '../../platform/audit/index.js';
import { actorOf, type CurrentUser } from '../../platform/auth/current-user.js';
import { can } from '../../platform/auth/permissions.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../platform/http/errors.js';
import { parseInput } from '../../platform/http/validate.js';
import { renderNumber, validateFormat, jakartaYearMonth, SECURITY_CODES } from './format.js';
import * as repo from './repo.js';

export interface AllocationRequest {
  scope: 'outgoing' | 'incoming';
  unitId: string;
  kindCode: string | null;
  classificationCode: string;
  securityClass: string;
  positionCode: string;
  date: Date;
  letterId: string | null;
  issuedBy: string | null;
}

export interface AllocatedNumber {
  id: string;
  seriesId: string;
  year: number;
  seq: number;
  number: string;
}

/** Must run inside the caller's transaction: the number exists iff that transaction commits. */
export async function allocateNumber(trx: Executor, req: AllocationRequest): Promise<AllocatedNumber> {
  const series = await repo.findSeries(trx, req.unitId, req.scope, req.kindCode);
  if (!series) throw new ValidationError('numbering.no_series');
  const { year } = jakartaYearMonth(req.date);
  const seq = await repo.nextValue(trx, String(series.id), year);
  const number = renderNumber(series.format, {
    nomor: seq,
    kode: req.classificationCode,
    unit: series.unit_token,
    jabatan: req.positionCode,
    jenis: req.kindCode ?? '',
    keamanan: SECURITY_CODES[req.securityClass] ?? 'B',
    date: req.date,
  });
  const id = await repo.insertIssued(trx, { seriesId: String(series.id), year, seq, number, letterId: req.letterId, issuedBy: req.issuedBy });
  return { id, seriesId: String(series.id), year, seq, number };
}

const seriesSchema = z.object({
  unit: z.string().trim().min(1).max(32),
  scope: z.enum(['outgoing', 'incoming']),
  kind: z.string().trim().max(16).optional().transform((v) => v || null),
  name: z.string().trim().min(1).max(200),
  format: z.string().trim().min(1).max(200),
  unitToken: z.string().trim().min(1).max(40),
}).strict();

function requireManage(user: CurrentUser) {
  if (!can(user, 'numbering.manage')) throw new ForbiddenError();
}

export async function createSeries(ctx: AppContext, user: CurrentUser, input: unknown) {
  requireManage(user);
  const d = parseInput(seriesSchema, input);
  validateFormat(d.format);
  return ctx.db.transaction().execute(async (trx) => {
    const unit = await trx.selectFrom('units').select('id').where('code', '=', d.unit).where('active', '=', true).executeTakeFirst();
    if (!unit) throw new ValidationError('numbering.unknown_unit');
    if (d.kind && !(await trx.selectFrom('letter_kinds').select('code').where('code', '=', d.kind).executeTakeFirst())) throw new ValidationError('letters.unknown_kind');
    try {
      const r = await trx
        .insertInto('number_series')
        .values({ unit_id: unit.id, scope: d.scope, kind_code: d.kind, name: d.name, format: d.format, unit_token: d.unitToken })
        .returning('id')
        .executeTakeFirstOrThrow();
      await appendAudit(trx, actorOf(user), { action: 'numbering.series_created', objectType: 'number_series', objectId: r.id, details: { unit: d.unit, scope: d.scope, kind: d.kind, format: d.format } });
      return String(r.id);
    } catch (e) {
      if ((e as { code?: string }).code === '23505') throw new ConflictError('numbering.series_exists');
      throw e;
    }
  });
}

const seriesUpdateSchema = z.object({ name: z.string().trim().min(1).max(200), format: z.string().trim().min(1).max(200), unitToken: z.string().trim().min(1).max(40), active: z.boolean() }).partial().strict();

export async function updateSeries(ctx: AppContext, user: CurrentUser, id: string, input: unknown) {
  requireManage(user);
  const d = parseInput(seriesUpdateSchema, input);
  if (d.format) validateFormat(d.format);
  if (!/^\d{1,18}$/.test(id)) throw new NotFoundError();
  await ctx.db.transaction().execute(async (trx) => {
    if (!(await repo.getSeries(trx, id))) throw new NotFoundError();
    await trx.updateTable('number_series').set({ name: d.name, format: d.format, unit_token: d.unitToken, active: d.active }).where('id', '=', id).execute();
    await appendAudit(trx, actorOf(user), { action: 'numbering.series_updated', objectType: 'number_series', objectId: id, details: d });
  });
}

export async function listSeries(ctx: AppContext, user: CurrentUser) {
  if (!can(user, 'numbering.manage') && !can(user, 'numbering.view')) throw new ForbiddenError();
  return repo.listSeries(ctx.db);
}

/** A number once given is never given again: voiding keeps it, marked, with the reason. */
export async function voidNumber(ctx: AppContext, user: CurrentUser, issuedId: string, input: unknown) {
  requireManage(user);
  const { reason } = parseInput(z.object({ reason: z.string().trim().min(1).max(1000) }).strict(), input);
  if (!/^\d{1,18}$/.test(issuedId)) throw new NotFoundError();
  await ctx.db.transaction().execute(async (trx) => {
    const n = await repo.getIssued(trx, issuedId);
    if (!n) throw new NotFoundError();
    if (!(await repo.markVoided(trx, issuedId, reason, user.id))) throw new ConflictError('numbering.already_voided');
    await appendAudit(trx, actorOf(user), { action: 'number.voided', objectType: 'issued_number', objectId: issuedId, details: { number: n.number, reason } });
  });
}

export interface RegisterRow {
  id: string;
  seq: number;
  number: string;
  issuedAt: Date;
  kind: string | null;
  subject: string | null;
  classificationCode: string | null;
  signer: string | null;
  voided: boolean;
  voidReason: string | null;
  letterId: string | null;
}

/** The register (buku agenda) of a series for one year. Rahasia subjects are not shown. */
export async function register(ctx: AppContext, user: CurrentUser, seriesId: string, year: number, page?: { size: number; offset: number }) {
  if (!can(user, 'numbering.manage') && !can(user, 'numbering.view')) throw new ForbiddenError();
  if (!/^\d{1,18}$/.test(seriesId) || !Number.isInteger(year)) throw new NotFoundError();
  const series = await repo.getSeries(ctx.db, seriesId);
  if (!series) throw new NotFoundError();
  let q = repo.registerQuery(ctx.db, seriesId, year).orderBy('n.seq');
  if (page) q = q.limit(page.size).offset(page.offset);
  const [rows, total] = await Promise.all([
    q.execute(),
    repo.registerQuery(ctx.db, seriesId, year).clearSelect().select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  const items: RegisterRow[] = rows.map((r) => ({
    id: String(r.id),
    seq: r.seq,
    number: r.number,
    issuedAt: r.issued_at,
    kind: r.kind_name,
    subject: r.security_class === 'rahasia' || r.security_class === 'sangat_rahasia' ? null : r.subject,
    classificationCode: r.classification_code,
    signer: r.signer_name,
    voided: r.voided_at !== null,
    voidReason: r.void_reason,
    letterId: r.letter_id === null ? null : String(r.letter_id),
  }));
  return { series, items, total: Number(total.n) };
}

/** RFC 4180 CSV; cells that a spreadsheet would run as formulas are prefixed with '. */
export function toCsv(header: string[], rows: (string | number | null)[][]): string {
  const cell = (v: string | number | null) => {
    let s = v === null ? '' : String(v);
    if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

export async function registerCsv(ctx: AppContext, user: CurrentUser, seriesId: string, year: number) {
  const { series, items } = await register(ctx, user, seriesId, year);
  const csv = toCsv(
    ['No. Urut', 'Nomor', 'Tanggal', 'Jenis', 'Hal', 'Kode Klasifikasi', 'Penandatangan', 'Status', 'Alasan Pembatalan'],
    items.map((r) => [r.seq, r.number, r.issuedAt.toISOString(), r.kind, r.subject ?? '[terbatas]', r.classificationCode, r.signer, r.voided ? 'Dibatalkan' : 'Berlaku', r.voidReason]),
  );
  return { filename: `register-${series.unit_token}-${year}.csv`, csv };
}
