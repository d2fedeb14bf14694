// Charts as plain geometry: these functions place bars, ticks and labels in an
// SVG coordinate space; views/reports/chart.ejs draws any layout, escaping
// every text. No script and no outside resource (the CSP allows only 'self'),
// and a viewBox so the chart scales to a phone's width. Also the Indonesian
// month and duration labels the page, the charts and the CSV share.

export interface ChartBar {
  x: number;
  y: number;
  w: number;
  h: number;
  series: number;
  /** The bar's tooltip and accessible text, e.g. "Mei 2026 · Dibuat: 4". */
  title: string;
  /** Printed at the end of the bar (horizontal charts). */
  value?: string;
}

export interface ChartLayout {
  id: string;
  title: string;
  desc: string;
  width: number;
  height: number;
  /** The plot area. */
  plot: { x: number; y: number; w: number; h: number };
  bars: ChartBar[];
  labels: { x: number; y: number; text: string; anchor: 'start' | 'middle' | 'end' }[];
  ticks: { x1: number; y1: number; x2: number; y2: number; label: { x: number; y: number; text: string; anchor: 'start' | 'middle' | 'end' } }[];
  legend: { series: number; text: string }[];
}

/** A round upper bound and step for an axis (1, 2 or 5 times a power of ten). */
export function niceScale(max: number, steps = 4): { top: number; step: number } {
  if (!(max > 0)) return { top: steps, step: 1 };
  const raw = max / steps;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
  return { top: step * Math.ceil(max / step), step };
}

const fmt = (n: number, locale: string) => n.toLocaleString(locale === 'id' ? 'id-ID' : 'en-GB', { maximumFractionDigits: 1 });

/** Vertical grouped bars: one group per category (month), one bar per series. */
export function columnChart(o: { id: string; title: string; desc: string; locale: string; categories: { label: string; sub?: string; long: string }[]; series: { name: string; values: number[] }[] }): ChartLayout {
  const width = 480;
  const height = 260;
  const plot = { x: 44, y: 12, w: width - 56, h: 190 };
  const { top, step } = niceScale(Math.max(0, ...o.series.flatMap((s) => s.values)));
  const group = plot.w / Math.max(1, o.categories.length);
  const barW = Math.min(28, (group * 0.8) / o.series.length);
  const bars: ChartBar[] = [];
  const labels: ChartLayout['labels'] = [];
  o.categories.forEach((c, i) => {
    const gx = plot.x + i * group + (group - barW * o.series.length) / 2;
    o.series.forEach((s, k) => {
      const h = (s.values[i] / top) * plot.h;
      bars.push({ x: r(gx + k * barW), y: r(plot.y + plot.h - h), w: r(barW - 1), h: r(h), series: k, title: `${c.long} · ${s.name}: ${fmt(s.values[i], o.locale)}` });
    });
    const cx = r(plot.x + i * group + group / 2);
    labels.push({ x: cx, y: plot.y + plot.h + 16, text: c.label, anchor: 'middle' });
    if (c.sub) labels.push({ x: cx, y: plot.y + plot.h + 30, text: c.sub, anchor: 'middle' });
  });
  const ticks: ChartLayout['ticks'] = [];
  for (let v = 0; v <= top; v += step) {
    const y = r(plot.y + plot.h - (v / top) * plot.h);
    ticks.push({ x1: plot.x, y1: y, x2: plot.x + plot.w, y2: y, label: { x: plot.x - 6, y: y + 4, text: fmt(v, o.locale), anchor: 'end' } });
  }
  return { id: o.id, title: o.title, desc: o.desc, width, height, plot, bars, labels, ticks, legend: o.series.map((s, k) => ({ series: k, text: s.name })) };
}

/** Horizontal bars, one per row (unit): the label on the left, the value at the bar's end. */
export function barChart(o: { id: string; title: string; desc: string; locale: string; rows: { label: string; long: string; value: number; text: string }[]; max?: number; axis?: string }): ChartLayout {
  const width = 480;
  const rowH = 26;
  const plot = { x: 150, y: 8, w: width - 150 - 80, h: Math.max(1, o.rows.length) * rowH };
  const height = plot.y + plot.h + 24;
  const { top, step } = o.max ? { top: o.max, step: o.max / 4 } : niceScale(Math.max(0, ...o.rows.map((x) => x.value)));
  const bars: ChartBar[] = [];
  const labels: ChartLayout['labels'] = [];
  o.rows.forEach((row, i) => {
    const y = plot.y + i * rowH;
    const w = (Math.max(0, row.value) / top) * plot.w;
    bars.push({ x: plot.x, y: y + 4, w: r(w), h: rowH - 8, series: 0, title: `${row.long}: ${row.text}`, value: row.text });
    labels.push({ x: plot.x - 6, y: y + rowH / 2 + 4, text: row.label.length > 22 ? row.label.slice(0, 21) + '…' : row.label, anchor: 'end' });
  });
  const ticks: ChartLayout['ticks'] = [];
  for (let v = 0; v <= top + 1e-9; v += step) {
    const x = r(plot.x + (v / top) * plot.w);
    ticks.push({ x1: x, y1: plot.y, x2: x, y2: plot.y + plot.h, label: { x, y: plot.y + plot.h + 16, text: fmt(v, o.locale), anchor: 'middle' } });
  }
  // The axis' unit ("hari", "%"), right of the last tick.
  if (o.axis) labels.push({ x: width - 4, y: plot.y + plot.h + 16, text: o.axis, anchor: 'end' });
  return { id: o.id, title: o.title, desc: o.desc, width, height, plot, bars, labels, ticks, legend: [] };
}

const r = (n: number) => Math.round(n * 10) / 10;

// ---------- labels ----------

const monthFormat = (locale: string, month: 'short' | 'long') => new Intl.DateTimeFormat(locale === 'id' ? 'id-ID' : 'en-GB', { month, year: 'numeric', timeZone: 'UTC' });

/** '2026-05' as "Mei 2026" (long) or "Mei" (short), in the page's language. */
export function monthLabel(ym: string, locale: string, style: 'short' | 'long' = 'long'): string {
  const d = new Date(Date.UTC(Number(ym.slice(0, 4)), Number(ym.slice(5, 7)) - 1, 1));
  if (style === 'long') return monthFormat(locale, 'long').format(d);
  return d.toLocaleDateString(locale === 'id' ? 'id-ID' : 'en-GB', { month: 'short', timeZone: 'UTC' }).replace(/\.$/, '');
}

/** A duration for people: "2 hari 5 jam", "3 jam 10 menit", "12 menit". */
export function durationLabel(seconds: number | null, t: (key: string, params?: Record<string, string | number>) => string): string {
  if (seconds === null || !Number.isFinite(seconds)) return '-';
  const minutes = Math.max(0, Math.round(seconds / 60));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days) return [t('reports.dur.days', { n: days }), hours ? t('reports.dur.hours', { n: hours }) : ''].filter(Boolean).join(' ');
  if (hours) return [t('reports.dur.hours', { n: hours }), mins ? t('reports.dur.minutes', { n: mins }) : ''].filter(Boolean).join(' ');
  return t('reports.dur.minutes', { n: mins });
}
