// Reads the archival classification codes (Permendagri 83/2022, with one
// regional JRA's retention) shipped in ./data; see data/README.md for how far
// the retention values can be trusted.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ClassificationSeedRow {
  code: string;
  name: string;
  parent_code: string | null;
  retention_active_years: number | null;
  retention_inactive_years: number | null;
  final_fate: 'musnah' | 'permanen' | 'dinilai_kembali' | null;
}

const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'data', 'klasifikasi-arsip.csv');

/** RFC 4180 CSV: quoted fields may hold commas and doubled quotes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field), rows.push(row), (row = []), (field = '');
    } else field += c;
  }
  if (field || row.length) row.push(field), rows.push(row);
  return rows.filter((r) => r.some((f) => f !== ''));
}

export function loadClassificationSeed(): ClassificationSeedRow[] {
  const [header, ...rows] = parseCsv(fs.readFileSync(file, 'utf8'));
  const col = (name: string) => header.indexOf(name);
  const num = (s: string) => (s === '' ? null : Number(s));
  return rows.map((r) => ({
    code: r[col('code')],
    name: r[col('name')],
    parent_code: r[col('parent_code')] || null,
    retention_active_years: num(r[col('retention_active_years')]),
    retention_inactive_years: num(r[col('retention_inactive_years')]),
    final_fate: (r[col('final_fate')] || null) as ClassificationSeedRow['final_fate'],
  }));
}
