// Printable lists of the archive (daftar berkas, daftar isi berkas, the list in
// a berita acara pemusnahan): a heading, a few lines of particulars and a
// table whose cells wrap, on landscape A4 with the project's Arimo font
// (letters/render-fonts.ts; the word wrap is dispatch/lembar.ts's).
import { PDFDocument, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import { embedFonts, type FontStyle } from '../letters/render-fonts.js';
import { wrap } from '../dispatch/lembar.js';

export interface PdfColumn {
  header: string;
  /** Share of the table's width. */
  weight: number;
}

export interface TableDocument {
  title: string;
  lines: string[];
  columns: PdfColumn[];
  rows: string[][];
  /** Text after the table (e.g. the berita acara's closing statement). */
  closing?: string[];
  /** Empty space at the end, in points, e.g. for the signature appearance. */
  trailingSpace?: number;
  empty?: string;
}

const LANDSCAPE_A4: [number, number] = [841.89, 595.28];
const MARGIN = 40;
const SIZE = 9;
const LEADING = SIZE * 1.3;

/** Renders the document; saved with useObjectStreams:false so it can be signed afterwards (signing/pades.ts). */
export async function tablePdf(d: TableDocument): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(d.title);
  const fonts = await embedFonts(doc, ['regular', 'bold']);
  const [pageW, pageH] = LANDSCAPE_A4;
  const width = pageW - 2 * MARGIN;
  const total = d.columns.reduce((s, c) => s + c.weight, 0);
  const widths = d.columns.map((c) => (c.weight / total) * width);
  let page: PDFPage = doc.addPage(LANDSCAPE_A4);
  let y = pageH - MARGIN;

  const text = (s: string, x: number, style: FontStyle, size = SIZE) => page.drawText(s, { x, y: y - size, size, font: fonts[style] as PDFFont, color: rgb(0, 0, 0) });
  const newPage = () => {
    page = doc.addPage(LANDSCAPE_A4);
    y = pageH - MARGIN;
  };
  const paragraph = (s: string, style: FontStyle = 'regular', size = 10) => {
    for (const part of wrap(s, style === 'bold' ? 'bold' : 'regular', size, width)) {
      if (y < MARGIN + size) newPage();
      text(part, MARGIN, style, size);
      y -= size * 1.4;
    }
  };
  const row = (cells: string[], style: FontStyle) => {
    const wrapped = cells.map((c, i) => wrap(c, style === 'bold' ? 'bold' : 'regular', SIZE, widths[i] - 6));
    const height = Math.max(...wrapped.map((w) => w.length)) * LEADING + 4;
    if (y - height < MARGIN) {
      newPage();
      if (style !== 'bold') row(d.columns.map((c) => c.header), 'bold');
    }
    let x = MARGIN;
    wrapped.forEach((lines, i) => {
      lines.forEach((l, k) => page.drawText(l, { x: x + 3, y: y - 2 - SIZE - k * LEADING, size: SIZE, font: fonts[style] as PDFFont, color: rgb(0, 0, 0) }));
      page.drawRectangle({ x, y: y - height, width: widths[i], height, borderColor: rgb(0.4, 0.4, 0.4), borderWidth: 0.5 });
      x += widths[i];
    });
    y -= height;
  };

  paragraph(d.title, 'bold', 13);
  for (const l of d.lines) paragraph(l);
  y -= 6;
  row(d.columns.map((c) => c.header), 'bold');
  for (const r of d.rows) row(r, 'regular');
  if (!d.rows.length && d.empty) paragraph(d.empty);
  y -= 8;
  for (const l of d.closing ?? []) paragraph(l);
  if (d.trailingSpace && y - d.trailingSpace < MARGIN) newPage();
  return doc.save({ useObjectStreams: false });
}
