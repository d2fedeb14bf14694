// The dashboard page (/dasbor), its CSV exports (/dasbor/<figure>.csv, the
// same filters) and the JSON API (/api/v1/reports/dashboard). Thin: parse,
// call the service (which decides who may see what), shape for the view.
import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../platform/context.js';
import { requireUser, paging } from '../../platform/http/guards.js';
import { formErrors, formRefusal } from '../../platform/http/form.js';
import { NotFoundError, type AppError } from '../../platform/http/errors.js';
import type { Translate } from '../../platform/i18n/index.js';
import { toCsv } from '../numbering/service.js';
import * as reports from './service.js';
import { barChart, columnChart, durationLabel, monthLabel } from './charts.js';

type Dashboard = reports.Dashboard;
const minutes = (s: number | null) => (s === null ? null : Math.round(s / 60));
const stepLabel = (step: number, t: Translate) => (step === 0 ? t('reports.steps.signature') : t('reports.steps.paraf', { n: step }));
/** The filter as a query string, for the CSV links and the pager. */
const filterQuery = (f: reports.ReportFilter) => new URLSearchParams({ from: f.from, to: f.to, ...(f.unitId ? { unit: f.unitId } : {}) }).toString();

interface CsvTable {
  header: string[];
  rows: (string | number | null)[][];
}
/** A CSV export: runs only its figure's query, then lays out its table (Indonesian headers, the page's language). */
const csvOf =
  <K extends reports.FigureName>(figure: K, table: (d: reports.Figures[K], t: Translate, locale: string) => CsvTable) =>
  async (ctx: AppContext, req: Request) => {
    const { scope, data } = await reports.figure(ctx, req.user!, req.query, figure);
    return { ...table(data, req.t, req.locale), filter: scope.filter };
  };

const EXPORTS = {
  'surat-per-bulan': csvOf('letters', (d, t, locale) => ({
    header: [t('reports.unit_code'), t('reports.unit'), t('reports.month'), t('reports.csv.month_name'), t('reports.letters.created'), t('reports.letters.signed')],
    rows: d.rows.map((r) => [r.unitCode, r.unitName, r.month, monthLabel(r.month, locale), r.created, r.signed]),
  })),
  'waktu-tanda-tangan': csvOf('draftToSignature', (d, t) => ({
    header: [t('reports.unit_code'), t('reports.unit'), t('reports.durations.count'), t('reports.csv.minutes_mean'), t('reports.csv.minutes_median')],
    rows: [
      ...d.units.map((r) => [r.unitCode, r.unitName, r.count, minutes(r.meanSeconds), minutes(r.medianSeconds)]),
      ...(d.total ? [['', t('reports.total'), d.total.count, minutes(d.total.meanSeconds), minutes(d.total.medianSeconds)]] : []),
    ],
  })),
  'waktu-per-tahap': csvOf('steps', (d, t) => ({
    header: [t('reports.unit_code'), t('reports.unit'), t('reports.steps.step'), t('reports.steps.decisions'), t('reports.csv.minutes_mean'), t('reports.csv.minutes_median')],
    rows: [
      ...d.units.map((r) => [r.unitCode, r.unitName, stepLabel(r.step, t), r.count, minutes(r.meanSeconds), minutes(r.medianSeconds)]),
      ...d.total.map((r) => ['', t('reports.total'), stepLabel(r.step, t), r.count, minutes(r.meanSeconds), minutes(r.medianSeconds)]),
    ],
  })),
  tte: csvOf('electronic', (d, t) => ({
    header: [t('reports.unit_code'), t('reports.unit'), t('reports.tte.issued'), t('reports.tte.voided'), t('reports.tte.electronic'), t('reports.tte.imported'), t('reports.csv.percent')],
    rows: [...d.units, ...(d.total ? [{ unitCode: '', unitName: t('reports.total'), ...d.total }] : [])].map((r) => [r.unitCode, r.unitName, r.issued, r.voided, r.electronic, r.imported, r.share]),
  })),
  'disposisi-terlambat': csvOf('overdue', (d, t) => ({
    header: [t('reports.unit_code'), t('reports.unit'), t('reports.overdue.count')],
    rows: [...d.units.map((r) => [r.unitCode, r.unitName, r.count]), ...(d.total ? [['', t('reports.total'), d.total.count]] : [])],
  })),
};

/** The charts and the letters table of the page, from the figures. */
function pageModel(d: Dashboard, req: Request) {
  const { t, locale } = req;
  const { months } = d.scope;
  const period = { from: monthLabel(d.scope.filter.from, locale), to: monthLabel(d.scope.filter.to, locale) };
  const lettersChart = columnChart({
    id: 'chart-letters', locale, title: t('reports.letters.title'), desc: t('reports.letters.chart_desc', period),
    categories: months.map((m, i) => ({ label: monthLabel(m, locale, 'short'), sub: i === 0 || m.endsWith('-01') ? m.slice(0, 4) : undefined, long: monthLabel(m, locale) })),
    series: [{ name: t('reports.letters.created'), values: d.letters.perMonth.map((x) => x.created) }, { name: t('reports.letters.signed'), values: d.letters.perMonth.map((x) => x.signed) }],
  });
  const unitRows = <R extends reports.UnitRef>(rows: R[], value: (r: R) => number, text: (r: R) => string) =>
    rows.map((r) => ({ label: r.unitCode, long: r.unitName, value: value(r), text: text(r) }));
  const durationsChart = barChart({
    id: 'chart-durations', locale, title: t('reports.durations.title'), desc: t('reports.durations.chart_desc'), axis: t('reports.axis.days'),
    rows: unitRows(d.draftToSignature.units, (r) => (r.meanSeconds ?? 0) / 86400, (r) => durationLabel(r.meanSeconds, t)),
  });
  const tteChart = barChart({
    id: 'chart-tte', locale, title: t('reports.tte.title'), desc: t('reports.tte.chart_desc'), max: 100, axis: '%',
    rows: unitRows(d.electronic.units, (r) => r.share ?? 0, (r) => (r.share === null ? '-' : `${r.share.toLocaleString(locale === 'id' ? 'id-ID' : 'en-GB')}%`)),
  });
  const overdueChart = barChart({
    id: 'chart-overdue', locale, title: t('reports.overdue.title'), desc: t('reports.overdue.chart_desc'),
    rows: unitRows(d.overdue.units, (r) => r.count, (r) => String(r.count)),
  });
  // The letters table: one row per unit, a "created / signed" cell per month.
  const units = new Map<string, { code: string; name: string; cells: Map<string, { created: number; signed: number }> }>();
  for (const r of d.letters.rows) {
    const u = units.get(r.unitId) ?? { code: r.unitCode, name: r.unitName, cells: new Map() };
    u.cells.set(r.month, { created: r.created, signed: r.signed });
    units.set(r.unitId, u);
  }
  return { period, lettersChart, durationsChart, tteChart, overdueChart, letterUnits: [...units.values()] };
}

export function reportPages(ctx: AppContext): Router {
  const r = Router();

  r.get('/dasbor', requireUser, async (req: Request, res: Response) => {
    const form = reports.filterForm(req.query);
    const p = paging(req);
    let refusal: AppError | undefined;
    let d: Dashboard | undefined;
    try {
      d = await reports.dashboard(ctx, req.user!, req.query);
    } catch (e) {
      refusal = formRefusal(e);
    }
    const overdue = d ? await reports.overdueDisposisi(ctx, req.user!, d.scope, p) : [];
    const overdueTotal = d?.overdue.total?.count ?? 0;
    res.status(refusal?.status ?? 200).render('reports/dashboard', {
      title: req.t('reports.title'),
      ...(refusal ? formErrors(refusal, req.t) : { error: null, errors: {} }),
      form: d ? { from: d.scope.filter.from, to: d.scope.filter.to, unit: d.scope.filter.unitId ?? '' } : form,
      d,
      model: d ? pageModel(d, req) : null,
      choices: d ? d.scope.choices : await reports.unitChoices(ctx, req.user!),
      overdue,
      baseQuery: d ? filterQuery(d.scope.filter) : '',
      page: p.page,
      pages: Math.ceil(overdueTotal / p.size),
      total: overdueTotal,
      month: (m: string) => monthLabel(m, req.locale),
      duration: (s: number | null) => durationLabel(s, req.t),
      stepLabel: (s: number) => stepLabel(s, req.t),
      day: (s: string) => new Date(s + 'T00:00:00Z').toLocaleDateString(req.locale === 'id' ? 'id-ID' : 'en-GB', { timeZone: 'UTC', dateStyle: 'medium' }),
      num: (n: number) => n.toLocaleString(req.locale === 'id' ? 'id-ID' : 'en-GB'),
    });
  });

  r.get('/dasbor/:figure.csv', requireUser, async (req, res) => {
    const name = String(req.params.figure);
    if (!Object.hasOwn(EXPORTS, name)) throw new NotFoundError();
    const { header, rows, filter: f } = await EXPORTS[name as keyof typeof EXPORTS](ctx, req);
    res
      .status(200)
      .set('Content-Type', 'text/csv; charset=utf-8')
      .set('Content-Disposition', `attachment; filename="dasbor-${name}-${f.from}-${f.to}${f.unitId ? '-unit' + f.unitId : ''}.csv"`)
      // The BOM makes spreadsheet programs (Excel) read the file as UTF-8.
      .send('\ufeff' + toCsv(header, rows));
  });

  return r;
}

export function reportApi(ctx: AppContext): Router {
  const r = Router();
  r.get('/reports/dashboard', requireUser, async (req, res) => {
    const p = paging(req);
    const d = await reports.dashboard(ctx, req.user!, req.query);
    const { scope, ...figures } = d;
    res.json({
      period: { from: scope.filter.from, to: scope.filter.to, months: scope.months },
      unit: scope.unit,
      ...figures,
      overdue: { ...figures.overdue, items: await reports.overdueDisposisi(ctx, req.user!, scope, p), page: p.page, size: p.size },
    });
  });
  return r;
}
