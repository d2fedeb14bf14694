// Case files (berkas): an archivist groups records into a file with a number
// unique within its unit, a title and usually a classification code; closes it
// when the matter is over (a closed berkas takes no more records) and reopens
// it if needed. The list of files and a file's contents export as CSV and PDF.
// Only records the archivist may see can be filed (recordScope / loadRecord).
import { z } from 'zod';
import type { AppContext } from '../../platform/context.js';
import type { Executor } from '../../platform/db/index.js';
import { appendAudit } from '../../platform/audit/index.js';
import { actorOf, type CurrentUser } from '../../platform/auth/current-user.js';
import { ConflictError, NotFoundError } from '../../platform/http/errors.js';
import { fieldError, parseInput } from '../../platform/http/validate.js';
import { formatWhen } from '../../platform/i18n/dates.js';
import { fieldChanges } from '../../platform/audit/changes.js';
import { toCsv } from '../numbering/service.js';
import { tablePdf } from './berkas-pdf.js';
import { loadRecord, recordScope, requireArchivist } from './service.js';
import * as repo from './repo.js';
import { lifecycleMessages } from './lifecycle-messages.js';

const ID_RE = /^\d{1,18}$/;
const optionalText = (max: number, key: string) =>
  z.string({ error: key }).trim().max(max, key).optional().transform((v) => v || null);

const createSchema = z.object({
  number: z.string({ error: 'archive.berkas.invalid_number' }).trim().min(1, 'archive.berkas.invalid_number').max(100, 'archive.berkas.invalid_number'),
  title: z.string({ error: 'archive.berkas.invalid_title' }).trim().min(1, 'archive.berkas.invalid_title').max(300, 'archive.berkas.invalid_title'),
  classificationCode: optionalText(40, 'archive.invalid.code'),
  description: optionalText(2000, 'archive.berkas.invalid_description'),
  /** The unit's code; the archivist's own unit when empty. */
  unit: optionalText(32, 'archive.retention.unknown_unit'),
});
/** Left out: kept; empty or null: cleared. */
const changedText = (max: number, key: string) =>
  z.string({ error: key }).trim().max(max, key).nullable().optional().transform((v) => (v === undefined ? undefined : v || null));
const updateSchema = z.object({
  title: createSchema.shape.title.optional(),
  classificationCode: changedText(40, 'archive.invalid.code'),
  description: changedText(2000, 'archive.berkas.invalid_description'),
  closed: z.preprocess((v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v), z.boolean().optional()),
});

async function checkCode(db: Executor, code: string | null) {
  if (code && !(await db.selectFrom('classification_codes').select('code').where('code', '=', code).executeTakeFirst())) throw fieldError('classificationCode', 'archive.berkas.unknown_code');
}

export async function createFile(ctx: Pick<AppContext, 'db'>, user: CurrentUser, input: unknown): Promise<string> {
  requireArchivist(user);
  const d = parseInput(createSchema, input);
  await checkCode(ctx.db, d.classificationCode);
  let unitId = user.unitId;
  if (d.unit) {
    const u = await ctx.db.selectFrom('units').select('id').where('code', '=', d.unit).where('active', '=', true).executeTakeFirst();
    if (!u) throw fieldError('unit', 'archive.retention.unknown_unit');
    unitId = String(u.id);
  }
  if (!unitId) throw fieldError('unit', 'archive.retention.unknown_unit');
  return ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('archive_files')
      .values({ unit_id: unitId, number: d.number, title: d.title, classification_code: d.classificationCode, description: d.description, created_by: user.id })
      .onConflict((oc) => oc.columns(['unit_id', 'number']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!row) throw new ConflictError('archive.berkas.number_taken', { number: d.number });
    await appendAudit(trx, actorOf(user), { action: 'berkas.created', objectType: 'berkas', objectId: String(row.id), details: { number: d.number, title: d.title, classificationCode: d.classificationCode } });
    return String(row.id);
  });
}

const FILE_COLUMNS = { title: 'title', classificationCode: 'classification_code', description: 'description' } as const;

async function loadFile(db: Executor, user: CurrentUser, fileId: string): Promise<repo.FileRow> {
  requireArchivist(user);
  const f = ID_RE.test(fileId) ? await repo.getFile(db, fileId) : undefined;
  if (!f) throw new NotFoundError();
  return f;
}

/** Changes the title, code or description, closes or reopens; one audit entry naming each change. */
export async function updateFile(ctx: Pick<AppContext, 'db'>, user: CurrentUser, fileId: string, input: unknown, now = new Date()): Promise<boolean> {
  const d = parseInput(updateSchema, input);
  const f = await loadFile(ctx.db, user, fileId);
  if (d.classificationCode) await checkCode(ctx.db, d.classificationCode);
  const { changes, patch } = fieldChanges(FILE_COLUMNS, { title: d.title, classificationCode: d.classificationCode, description: d.description }, f);
  const wasClosed = f.closed_at !== null;
  if (d.closed !== undefined && d.closed !== wasClosed) {
    changes.closed = { from: wasClosed, to: d.closed };
    patch.closed_at = d.closed ? now : null;
  }
  if (!Object.keys(changes).length) return false;
  await ctx.db.transaction().execute(async (trx) => {
    await trx.updateTable('archive_files').set(patch).where('id', '=', fileId).execute();
    await appendAudit(trx, actorOf(user), { action: 'berkas.updated', objectType: 'berkas', objectId: fileId, details: { changes } });
  });
  return true;
}

/** Files a record (from its letter page, a due list or search results). */
export async function addRecord(ctx: Pick<AppContext, 'db'>, user: CurrentUser, fileId: string, recordId: string): Promise<void> {
  const f = await loadFile(ctx.db, user, fileId);
  const rec = await loadRecord(ctx.db, user, recordId);
  if (f.closed_at) throw new ConflictError('archive.berkas.closed', { number: f.number });
  if (rec.destroyed_at) throw new ConflictError('archive.berkas.destroyed');
  await ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('archive_file_records')
      .values({ file_id: fileId, record_id: recordId, added_by: user.id })
      .onConflict((oc) => oc.columns(['file_id', 'record_id']).doNothing())
      .returning('record_id')
      .executeTakeFirst();
    if (!row) throw new ConflictError('archive.berkas.already', { number: f.number });
    await appendAudit(trx, actorOf(user), { action: 'berkas.record_added', objectType: 'berkas', objectId: fileId, details: { recordId, number: rec.number, subject: rec.subject } });
  });
}

export async function removeRecord(ctx: Pick<AppContext, 'db'>, user: CurrentUser, fileId: string, recordId: string): Promise<void> {
  const f = await loadFile(ctx.db, user, fileId);
  await loadRecord(ctx.db, user, recordId);
  if (f.closed_at) throw new ConflictError('archive.berkas.closed', { number: f.number });
  await ctx.db.transaction().execute(async (trx) => {
    const gone = await trx.deleteFrom('archive_file_records').where('file_id', '=', fileId).where('record_id', '=', recordId).returning('record_id').executeTakeFirst();
    if (!gone) throw new NotFoundError();
    await appendAudit(trx, actorOf(user), { action: 'berkas.record_removed', objectType: 'berkas', objectId: fileId, details: { recordId } });
  });
}

const listSchema = z.object({
  q: z.string().trim().max(100).optional().transform((v) => v || undefined),
  status: z.enum(['open', 'closed', '']).optional().transform((v) => v || undefined),
});

export async function listFiles(ctx: Pick<AppContext, 'db'>, user: CurrentUser, input: unknown, page: { size: number; offset: number }) {
  requireArchivist(user);
  const f = parseInput(listSchema, input ?? {});
  const [items, total] = await Promise.all([
    repo.filesQuery(ctx.db, f).select([...repo.fileColumns]).orderBy('f.created_at', 'desc').orderBy('f.id', 'desc').limit(page.size).offset(page.offset).execute(),
    repo.filesQuery(ctx.db, f).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items, total: Number(total.n), filter: { q: f.q ?? '', status: f.status ?? '' } };
}

/** A berkas and the records in it that the archivist may see, oldest first. */
export async function getFile(ctx: Pick<AppContext, 'db'>, user: CurrentUser, fileId: string) {
  const file = await loadFile(ctx.db, user, fileId);
  const visible = new Set(
    (await ctx.db.selectFrom('archive_file_records as x').innerJoin('records as r', 'r.id', 'x.record_id').select('r.id').where('x.file_id', '=', fileId).where(await recordScope(ctx.db, user)).execute()).map((r) => String(r.id)),
  );
  const records = (await repo.fileRecords(ctx.db, fileId)).filter((r) => visible.has(String(r.id)));
  return { file, records };
}

// ---------- exports ----------

const L = (k: keyof typeof lifecycleMessages) => lifecycleMessages[k].id;
const FILES_HEADER = ['Nomor Berkas', 'Judul', 'Kode Klasifikasi', 'Unit', 'Jumlah Arsip', 'Dibuat', 'Ditutup'];
const CONTENT_HEADER = ['No.', 'Nomor Naskah', 'Tanggal', 'Hal', 'Kode Klasifikasi', 'Klasifikasi Keamanan', 'Status'];
const date = (d: Date | string | null) => (d ? formatWhen(d, 'id', false) : '');

async function allFiles(ctx: Pick<AppContext, 'db'>, user: CurrentUser, input: unknown) {
  const out = await listFiles(ctx, user, input, { size: 10_000, offset: 0 });
  return out.items.map((f) => [f.number, f.title, f.classification_code ?? '', f.unit_name, String(f.record_count), date(f.created_at), date(f.closed_at)]);
}

function contentRows(records: Awaited<ReturnType<typeof getFile>>['records']) {
  return records.map((r, i) => [String(i + 1), r.number ?? '-', r.record_date ?? '-', r.subject, r.classification_code ?? '-', r.security_class, r.destroyed_at ? `Dimusnahkan ${date(r.destroyed_at)}` : '']);
}

export async function filesCsv(ctx: Pick<AppContext, 'db'>, user: CurrentUser, input: unknown) {
  return { filename: 'daftar-berkas.csv', csv: toCsv(FILES_HEADER, await allFiles(ctx, user, input)) };
}

export async function filesPdf(ctx: Pick<AppContext, 'db'>, user: CurrentUser, input: unknown) {
  const rows = await allFiles(ctx, user, input);
  const bytes = await tablePdf({
    title: L('archive.berkas.pdf_list_title'),
    lines: [`${L('archive.berkas.pdf_printed')}: ${formatWhen(new Date(), 'id')}`],
    columns: FILES_HEADER.map((header, i) => ({ header, weight: [2, 5, 2, 3, 1, 2, 2][i] })),
    rows,
    empty: L('archive.berkas.empty'),
  });
  return { filename: 'daftar-berkas.pdf', bytes };
}

const fileName = (f: repo.FileRow, ext: string) => `berkas-${f.number.replace(/[^A-Za-z0-9.-]+/g, '_')}.${ext}`;

export async function fileCsv(ctx: Pick<AppContext, 'db'>, user: CurrentUser, fileId: string) {
  const { file, records } = await getFile(ctx, user, fileId);
  return { filename: fileName(file, 'csv'), csv: toCsv(CONTENT_HEADER, contentRows(records)) };
}

export async function filePdf(ctx: Pick<AppContext, 'db'>, user: CurrentUser, fileId: string) {
  const { file, records } = await getFile(ctx, user, fileId);
  const bytes = await tablePdf({
    title: `${L('archive.berkas.pdf_content_title')} ${file.number}`,
    lines: [
      `${L('archive.berkas.field.title')}: ${file.title}`,
      `${L('archive.berkas.field.code')}: ${file.classification_code ?? '-'}`,
      `${L('archive.berkas.field.unit')}: ${file.unit_name}`,
      `${L('archive.berkas.field.status')}: ${file.closed_at ? `${L('archive.berkas.closed_on')} ${date(file.closed_at)}` : L('archive.berkas.open')}`,
      ...(file.description ? [file.description] : []),
    ],
    columns: CONTENT_HEADER.map((header, i) => ({ header, weight: [0.6, 3, 1.5, 6, 1.5, 1.5, 2][i] })),
    rows: contentRows(records),
    empty: L('archive.berkas.no_records'),
  });
  return { filename: fileName(file, 'pdf'), bytes };
}

export function fileJson(f: Omit<repo.FileRow, 'created_by_name'>) {
  return {
    id: String(f.id), number: f.number, title: f.title, classificationCode: f.classification_code, description: f.description,
    unit: f.unit_name, recordCount: f.record_count, createdAt: f.created_at, closedAt: f.closed_at,
  };
}
