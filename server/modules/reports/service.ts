// The leaders' dashboard: who may see which units' figures, the period and
// unit filter, and the figures themselves (repo.ts does the arithmetic in SQL).
import { z } from 'zod';
import type { AppContext } from '../../platform/context.js';
import type { CurrentUser } from '../../platform/auth/current-user.js';
import { can } from '../../platform/auth/permissions.js';
import { ForbiddenError, NotFoundError } from '../../platform/http/errors.js';
import { fieldError } from '../../platform/http/validate.js';
import { flattenUnits, listUnitTree } from '../org/service.js';
import { incomingWithTree } from '../dispatch/service.js';
import { jakartaDate } from '../org/hierarchy.js';
import * as repo from './repo.js';

/** The longest period one request may ask for. */
export const MAX_MONTHS = 60;
const WIB_OFFSET_MS = 7 * 3600 * 1000;
const MONTH = /^(2\d{3})-(0[1-9]|1[0-2])$/;

const month = z
  .string('reports.invalid_month')
  .trim()
  .max(7, 'reports.invalid_month')
  .optional()
  .transform((v) => v || undefined)
  .refine((v) => v === undefined || MONTH.test(v), 'reports.invalid_month');

const filterSchema = z.object({
  from: month,
  to: month,
  unit: z
    .string('reports.invalid_unit')
    .trim()
    .max(18, 'reports.invalid_unit')
    .optional()
    .transform((v) => v || undefined)
    .refine((v) => v === undefined || /^[1-9]\d{0,17}$/.test(v), 'reports.invalid_unit'),
});

/** Months as an index (year * 12 + month - 1), to step through them. */
const monthIndex = (ym: string) => Number(ym.slice(0, 4)) * 12 + Number(ym.slice(5, 7)) - 1;
const monthOf = (i: number) => `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
/** The first instant of a WIB month. */
const wibMonthStart = (i: number) => new Date(Date.UTC(Math.floor(i / 12), i % 12, 1) - WIB_OFFSET_MS);

export interface ReportFilter {
  from: string;
  to: string;
  unitId: string | null;
}

export interface ReportScope {
  filter: ReportFilter;
  months: string[];
  period: repo.Period;
  /** The units counted; null: the whole organisation. */
  units: string[] | null;
  unit: { id: string; code: string; name: string } | null;
  /** The units this user may pick, in tree order, for the filter form. */
  choices: { id: string; code: string; name: string; depth: number }[];
}

/** The filter as typed, kept for the form (trimmed and cut short, always escaped by the view). */
export function filterForm(query: Record<string, unknown>): Record<'from' | 'to' | 'unit', string> {
  const v = (k: string) => (typeof query[k] === 'string' ? (query[k] as string).slice(0, 20) : '');
  return { from: v('from'), to: v('to'), unit: v('unit') };
}

/**
 * Who may see what: `report.all` the whole organisation and any unit in it;
 * `report.view` alone the user's own unit and its sub-units, and a unit outside
 * that is refused (403), not silently narrowed, so a leader never reads a
 * figure believing it covers a unit it does not.
 */
export async function resolveScope(ctx: AppContext, user: CurrentUser, query: unknown): Promise<ReportScope> {
  if (!can(user, 'report.view')) throw new ForbiddenError();
  const all = can(user, 'report.all');
  if (!all && !user.unitId) throw new ForbiddenError('reports.no_unit');
  const picked = (q: unknown) => (q && typeof q === 'object' ? Object.fromEntries(['from', 'to', 'unit'].map((k) => [k, (q as Record<string, unknown>)[k]]).filter(([, v]) => v !== undefined)) : {});
  // One clear message about the first bad field, rather than the generic "data not valid".
  const parsed = filterSchema.safeParse(picked(query));
  if (!parsed.success) throw fieldError(String(parsed.error.issues[0].path[0] ?? 'from'), parsed.error.issues[0].message);
  const f = parsed.data;
  const thisMonth = monthIndex(jakartaDate(new Date()).slice(0, 7));
  const toI = f.to ? monthIndex(f.to) : f.from ? monthIndex(f.from) + 11 : thisMonth;
  const fromI = f.from ? monthIndex(f.from) : toI - 11;
  if (fromI > toI) throw fieldError('from', 'reports.invalid_range');
  if (toI - fromI + 1 > MAX_MONTHS) throw fieldError('to', 'reports.invalid_range');

  const mine = all ? null : await repo.subtree(ctx.db, user.unitId!);
  let units: string[] | null = mine;
  let unit: ReportScope['unit'] = null;
  if (f.unit) {
    const row = await repo.getUnit(ctx.db, f.unit);
    if (!row) throw fieldError('unit', 'reports.invalid_unit');
    if (mine && !mine.includes(String(row.id))) throw new ForbiddenError('reports.unit_outside_scope');
    unit = { id: String(row.id), code: row.code, name: row.name };
    units = await repo.subtree(ctx.db, unit.id);
  } else if (!all) {
    const own = await repo.getUnit(ctx.db, user.unitId!);
    unit = own ? { id: String(own.id), code: own.code, name: own.name } : null;
  }
  const choices = await unitChoices(ctx, user, mine);
  const months = Array.from({ length: toI - fromI + 1 }, (_, i) => monthOf(fromI + i));
  return {
    filter: { from: monthOf(fromI), to: monthOf(toI), unitId: unit?.id ?? null },
    months,
    period: { start: wibMonthStart(fromI), end: wibMonthStart(toI + 1) },
    units,
    unit,
    choices,
  };
}

/** The units this user may report on, in tree order, for the filter form (also shown again after a refused filter). */
export async function unitChoices(ctx: AppContext, user: CurrentUser, mine?: string[] | null) {
  if (!can(user, 'report.view')) throw new ForbiddenError();
  const own = mine !== undefined ? mine : can(user, 'report.all') ? null : user.unitId ? await repo.subtree(ctx.db, user.unitId) : [];
  const allowed = own ? new Set(own) : null;
  return flattenUnits(await listUnitTree(ctx, user))
    .filter((u) => !allowed || allowed.has(u.id))
    .map((u) => ({ id: u.id, code: u.code, name: u.name, depth: u.depth }));
}

export interface UnitRef {
  unitId: string;
  unitCode: string;
  unitName: string;
}
export interface Duration {
  count: number;
  meanSeconds: number | null;
  medianSeconds: number | null;
}
export interface Electronic {
  issued: number;
  voided: number;
  electronic: number;
  imported: number;
  /** Percent, one decimal; null when nothing was issued. */
  share: number | null;
}

const ref = (r: { unit_id: string | null; unit_code: string | null; unit_name: string | null }): UnitRef => ({ unitId: r.unit_id!, unitCode: r.unit_code ?? '', unitName: r.unit_name ?? '' });
const duration = (r: repo.DurationRow): Duration => ({ count: r.n, meanSeconds: r.mean_s, medianSeconds: r.median_s });
const electronic = (r: repo.ElectronicRow): Electronic => ({
  issued: r.issued, voided: r.voided, electronic: r.electronic, imported: r.imported,
  share: r.issued ? Math.round((1000 * r.electronic) / r.issued) / 10 : null,
});
/** Splits grouping-set rows into per-unit rows and the total row. */
function split<R extends { unit_id: string | null; unit_code: string | null; unit_name: string | null }, T>(rows: R[], map: (r: R) => T) {
  return { units: rows.filter((r) => r.unit_id !== null).map((r) => ({ ...ref(r), ...map(r) })), total: rows.filter((r) => r.unit_id === null).map(map)[0] ?? null };
}

/** Each figure from its one query, for a resolved scope. */
export const FIGURES = {
  letters: async (ctx: AppContext, scope: ReportScope) => {
    const rows = await repo.lettersPerUnitMonth(ctx.db, scope.period, scope.units);
    const perMonth = scope.months.map((m) => {
      const inMonth = rows.filter((r) => r.month === m);
      return { month: m, created: inMonth.reduce((a, r) => a + r.created, 0), signed: inMonth.reduce((a, r) => a + r.signed, 0) };
    });
    return {
      rows: rows.map((r) => ({ unitId: r.unit_id, unitCode: r.unit_code, unitName: r.unit_name, month: r.month, created: r.created, signed: r.signed })),
      perMonth,
      total: { created: perMonth.reduce((a, r) => a + r.created, 0), signed: perMonth.reduce((a, r) => a + r.signed, 0) },
    };
  },
  draftToSignature: async (ctx: AppContext, scope: ReportScope) => split(await repo.draftToSignature(ctx.db, scope.period, scope.units), duration),
  steps: async (ctx: AppContext, scope: ReportScope) => {
    const rows = await repo.stepDurations(ctx.db, scope.period, scope.units);
    return {
      units: rows.filter((r) => r.unit_id !== null).map((r) => ({ ...ref(r), step: r.step, ...duration(r) })),
      total: rows.filter((r) => r.unit_id === null).map((r) => ({ step: r.step, ...duration(r) })),
    };
  },
  electronic: async (ctx: AppContext, scope: ReportScope) => split(await repo.electronicShare(ctx.db, scope.period, scope.units), electronic),
  overdue: async (ctx: AppContext, scope: ReportScope) => ({ ...split(await repo.overdueCounts(ctx.db, scope.units), (r) => ({ count: r.n })), today: jakartaDate(new Date()) }),
};
export type FigureName = keyof typeof FIGURES;
export type Figures = { [K in FigureName]: Awaited<ReturnType<(typeof FIGURES)[K]>> };

/** Every figure, for the page and the API. */
export async function dashboard(ctx: AppContext, user: CurrentUser, query: unknown): Promise<Figures & { scope: ReportScope }> {
  const scope = await resolveScope(ctx, user, query);
  const [letters, draftToSignature, steps, electronic, overdue] = await Promise.all([
    FIGURES.letters(ctx, scope), FIGURES.draftToSignature(ctx, scope), FIGURES.steps(ctx, scope), FIGURES.electronic(ctx, scope), FIGURES.overdue(ctx, scope),
  ]);
  return { scope, letters, draftToSignature, steps, electronic, overdue };
}
export type Dashboard = Awaited<ReturnType<typeof dashboard>>;

/** One figure only (a CSV export runs its own query, not all five). */
export async function figure<K extends FigureName>(ctx: AppContext, user: CurrentUser, query: unknown, name: K): Promise<{ scope: ReportScope; data: Figures[K] }> {
  const scope = await resolveScope(ctx, user, query);
  return { scope, data: (await FIGURES[name](ctx, scope)) as Figures[K] };
}

/**
 * The overdue disposisi, a page at a time. Whether the viewer may open the
 * received letter is dispatch's policy, asked per letter: only then are its
 * subject and a link shown.
 */
export async function overdueDisposisi(ctx: AppContext, user: CurrentUser, scope: ReportScope, page: { size: number; offset: number }) {
  const items = await repo.overdueList(ctx.db, scope.units, page);
  const visible = new Map<string, boolean>();
  for (const id of new Set(items.map((i) => i.incoming_id))) {
    visible.set(id, await incomingWithTree(ctx, user, id).then(() => true, (e) => (e instanceof NotFoundError ? false : Promise.reject(e))));
  }
  return items.map((i) => {
    const mayOpen = visible.get(i.incoming_id)!;
    return {
      id: i.id, incomingId: mayOpen ? i.incoming_id : null, agendaNumber: i.agenda_number, subject: mayOpen ? i.subject : null,
      holder: i.holder_name, unitCode: i.unit_code, unitName: i.unit_name, dueDate: i.due_date, daysLate: i.days_late,
    };
  });
}
