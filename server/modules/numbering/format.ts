// Number formats are data: a template of tokens an administrator configures per
// series. Presets cover the regional (Permendagri 83/2022) and ministry
// (KemenPANRB) styles and the agencies' common Roman-numeral months.
import { ValidationError } from '../../platform/http/errors.js';

export const FORMAT_TOKENS = {
  kode: 'archival classification code, e.g. 000.8.3.3',
  nomor: 'sequence number; {nomor:3} pads it to 3 digits',
  unit: "the series' unit token, e.g. DKIS",
  jabatan: "the signer's position code",
  jenis: 'kind code, e.g. SD, ND',
  keamanan: 'security code B / T / R / SR',
  tahun: 'four-digit year',
  bulan: 'two-digit month',
  bulan_romawi: 'month in Roman numerals (I..XII)',
} as const;

export const FORMAT_PRESETS = {
  permendagri: '{kode}/{nomor}/{unit}/{tahun}',
  permendagri_tanpa_tahun: '{kode}/{nomor}/{unit}',
  kemenpanrb: '{keamanan}-{nomor}/{unit}/{jabatan}/{kode}/{bulan}/{tahun}',
  kemenpanrb_nota_dinas: '{nomor}/{jabatan}/{kode}/{bulan}/{tahun}',
  bulan_romawi: '{kode}/{nomor}/{unit}/{bulan_romawi}/{tahun}',
  peraturan: 'NOMOR {nomor} TAHUN {tahun}',
  agenda_surat_masuk: '{nomor}/{unit}/{tahun}',
} as const;

export interface NumberTokens {
  kode: string;
  nomor: number;
  unit: string;
  jabatan: string;
  jenis: string;
  keamanan: 'B' | 'T' | 'R' | 'SR';
  date: Date;
}

export const SECURITY_CODES: Record<string, NumberTokens['keamanan']> = { biasa: 'B', terbatas: 'T', rahasia: 'R', sangat_rahasia: 'SR' };

const ROMAN = ['I', 'II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII', 'IX', 'X', 'XI', 'XII'];
const TOKEN = /\{([a-z_]+)(?::(\d))?\}/g;

/** Refuses a format with unknown tokens or without the sequence number. */
export function validateFormat(format: string): void {
  if (!/\{nomor(?::\d)?\}/.test(format)) throw new ValidationError('numbering.format_needs_nomor');
  for (const m of format.matchAll(TOKEN)) {
    if (!(m[1] in FORMAT_TOKENS)) throw new ValidationError('numbering.format_unknown_token', { token: m[0] });
    if (m[2] && m[1] !== 'nomor') throw new ValidationError('numbering.format_unknown_token', { token: m[0] });
  }
  if (/[{}]/.test(format.replace(TOKEN, ''))) throw new ValidationError('numbering.format_unbalanced');
}

/** Year and month in Indonesian western time, where the letters are dated. */
export function jakartaYearMonth(d: Date): { year: number; month: number } {
  const j = new Date(d.getTime() + 7 * 3600 * 1000);
  return { year: j.getUTCFullYear(), month: j.getUTCMonth() + 1 };
}

export function renderNumber(format: string, t: NumberTokens): string {
  const { year, month } = jakartaYearMonth(t.date);
  return format.replace(TOKEN, (_m, name: string, width?: string) => {
    switch (name) {
      case 'nomor': return width ? String(t.nomor).padStart(Number(width), '0') : String(t.nomor);
      case 'kode': return t.kode;
      case 'unit': return t.unit;
      case 'jabatan': return t.jabatan;
      case 'jenis': return t.jenis;
      case 'keamanan': return t.keamanan;
      case 'tahun': return String(year);
      case 'bulan': return String(month).padStart(2, '0');
      case 'bulan_romawi': return ROMAN[month - 1];
      default: return _m;
    }
  });
}
