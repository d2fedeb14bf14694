// A letter as a PDF in the official layout (Permendagri 1/2023): kop, the head
// of the kind's layout (surat: Nomor/Sifat/Lampiran/Hal with place and date;
// nota: title and a field table; naskah: title, NOMOR, TENTANG), the body, the
// signature block and the tembusan. Drafts carry a "KONSEP" watermark on every
// page; the signing step sets `final` to draw the QR code and the TTE statement.
// The same model gives the same bytes (dates come from the model, never the clock).
import QRCode from 'qrcode';
import { PDFDocument, degrees, grayscale, rgb, pushGraphicsState, popGraphicsState, rectangle, fill, setFillingGrayscaleColor } from 'pdf-lib';
import { bodyBlocks, drawBlocks } from './render-body.js';
import { embedFonts, textWidth, type FontStyle } from './render-fonts.js';
import { BLACK, Canvas, LINE_HEIGHT, wrapRuns, type Geometry, type Run } from './render-layout.js';

export { loadRenderModel } from './render-model.js';

export interface LetterRenderModel {
  paper: 'A4' | 'F4';
  /** Lines of the kop: government ("PEMERINTAH PROVINSI SUKAMAJU"), agency, and address lines (street, phone and e-mail, web). */
  letterhead: { government: string; agency: string; address: string[] };
  /** e.g. "Surat Dinas"; printed as a title only by kinds whose layout has one (Nota Dinas, Surat Edaran, ...). */
  kindName: string;
  kindCode: string;
  /** surat (default): Nomor/Sifat/Lampiran/Hal at the left, place and date at the right; nota: title and field table; naskah: title, NOMOR, TENTANG. */
  layout?: 'surat' | 'nota' | 'naskah';
  /** City printed before the date, e.g. "Sukamaju". */
  place: string;
  /** null in a draft: printed as a blank "........ 2026". */
  date: Date | null;
  /** null in a draft: printed as "......". */
  number: string | null;
  /** Display labels: "Segera", "Rahasia"; a security class other than Biasa is also marked at the top of every page. */
  urgency: string;
  securityClass: string;
  attachmentsCount: number;
  subject: string;
  /** Already formatted lines ("Kepala Dinas Pendidikan", "Sdr. Budi (budi@x.id)"). */
  to: string[];
  cc: string[];
  /** What follows "di" under the addressees: "Tempat" (default) or "-". */
  addresseePlace?: string;
  /** Canonical sanitised HTML (body.ts): p, strong, em, u, ol, ul, li, table/tr/td/th, br. */
  bodyHtml: string;
  /**
   * prefixLine: "a.n. Gubernur Sukamaju" / "Plh. Kepala Dinas ..."; positionTitle: the signer's own
   * position (empty for Plh./Plt., where the prefix line names the position).
   */
  signer: { prefixLine: string | null; positionTitle: string; name: string; nip: string | null };
  /** true: "KONSEP" watermark on every page. */
  draft: boolean;
  /** Set only by the signing step: QR code + e-signature statement in the signature block. */
  final?: { qrUrl: string; statement: string };
  /** PDF metadata dates, so the same model gives the same bytes. */
  producedAt: Date;
}

const MM = 72 / 25.4;
const PAPER: Record<LetterRenderModel['paper'], [number, number]> = { A4: [210 * MM, 297 * MM], F4: [215 * MM, 330 * MM] };
const SIZE = 12;
const LH = SIZE * LINE_HEIGHT;
const SMALL = 7.5;
const QR_SIZE = 64;

const MONTHS = ['Januari', 'Februari', 'Maret', 'April', 'Mei', 'Juni', 'Juli', 'Agustus', 'September', 'Oktober', 'November', 'Desember'];

function jakartaParts(d: Date) {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Jakarta', year: 'numeric', month: 'numeric', day: 'numeric' }).formatToParts(d);
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  return { year: get('year'), month: get('month'), day: get('day') };
}

/** "29 November 2026", the calendar day in Asia/Jakarta. */
export function formatDateId(d: Date): string {
  const p = jakartaParts(d);
  return `${p.day} ${MONTHS[p.month - 1]} ${p.year}`;
}

const ONES = ['nol', 'satu', 'dua', 'tiga', 'empat', 'lima', 'enam', 'tujuh', 'delapan', 'sembilan', 'sepuluh', 'sebelas'];

/** Indonesian number words (terbilang) for 0-999. */
export function terbilang(n: number): string {
  if (n < 12) return ONES[n];
  if (n < 20) return `${ONES[n - 10]} belas`;
  if (n < 100) return `${ONES[Math.floor(n / 10)]} puluh${n % 10 ? ` ${ONES[n % 10]}` : ''}`;
  const h = Math.floor(n / 100);
  return `${h === 1 ? 'seratus' : `${ONES[h]} ratus`}${n % 100 ? ` ${terbilang(n % 100)}` : ''}`;
}

/** "1 (satu) berkas", or "-" when there is none. */
export function lampiranText(count: number): string {
  return count > 0 ? `${count} (${terbilang(count)}) berkas` : '-';
}

/** An 18-digit NIP in its printed groups: birth date, appointment month, sex, sequence. */
export function formatNip(nip: string): string {
  const m = /^(\d{8})(\d{6})(\d)(\d{3})$/.exec(nip);
  return m ? `${m[1]} ${m[2]} ${m[3]} ${m[4]}` : nip;
}

// ---------- parts of the page ----------

/** A simple vector emblem (shield, star, band) in place of an agency's logo. */
function drawEmblem(c: Canvas, x: number, top: number, height: number) {
  const scale = height / 120;
  const green = rgb(0.09, 0.36, 0.2);
  const gold = rgb(0.86, 0.68, 0.16);
  c.page.drawSvgPath('M50 2 L96 16 L96 58 C96 92 74 110 50 118 C26 110 4 92 4 58 L4 16 Z', { x, y: top, scale, color: green, borderColor: gold, borderWidth: 3 });
  const star = Array.from({ length: 10 }, (_, i) => {
    const r = i % 2 ? 9 : 22;
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    return `${i ? 'L' : 'M'}${(50 + r * Math.cos(a)).toFixed(2)} ${(50 + r * Math.sin(a)).toFixed(2)}`;
  }).join(' ');
  c.page.drawSvgPath(`${star} Z`, { x, y: top, scale, color: gold });
  c.page.drawSvgPath('M20 82 L80 82 L76 92 L24 92 Z', { x, y: top, scale, color: gold });
}

function drawKop(c: Canvas, m: LetterRenderModel) {
  const top = c.g.height - 15 * MM;
  const logoH = 24 * MM;
  const logoW = logoH * (100 / 120);
  drawEmblem(c, c.left, top, logoH);
  const x = c.left + logoW + 8;
  const width = c.right - x;
  c.y = top + 2;
  if (m.letterhead.government) c.paragraph([{ text: m.letterhead.government, bold: true }], x, width, 14, 'center');
  if (m.letterhead.agency) {
    // The agency's name on one line when a smaller size allows, as kop surat usually have it.
    const size = Math.max(12, Math.min(16, (16 * width) / textWidth(m.letterhead.agency, 'bold', 16)));
    c.paragraph([{ text: m.letterhead.agency, bold: true }], x, width, size, 'center');
  }
  for (const line of m.letterhead.address) c.paragraph([{ text: line }], x, width, 9.5, 'center');
  const ruleY = Math.min(c.y, top - logoH) - 4;
  c.page.drawLine({ start: { x: c.left, y: ruleY }, end: { x: c.right, y: ruleY }, thickness: 2.25, color: BLACK });
  c.page.drawLine({ start: { x: c.left, y: ruleY - 3.5 }, end: { x: c.right, y: ruleY - 3.5 }, thickness: 0.75, color: BLACK });
  c.y = ruleY - 3.5 - LH;
}

type Field = [label: string, value: string];

/** Label : value rows, values wrapped in their column. */
function drawFields(c: Canvas, fields: Field[], valueX: number, valueWidth: number) {
  for (const [label, value] of fields) {
    c.ensure(LH);
    c.text(label, c.left, c.y - SIZE, 'regular', SIZE);
    c.text(':', valueX - 8, c.y - SIZE, 'regular', SIZE);
    c.paragraph([{ text: value || '-' }], valueX, valueWidth, SIZE);
  }
}

function numberText(m: LetterRenderModel) {
  return m.number ?? '......';
}

function dateText(m: LetterRenderModel) {
  return m.date ? formatDateId(m.date) : `........ ${jakartaParts(m.producedAt).year}`;
}

function signatureX(c: Canvas) {
  return c.left + c.textWidth * 0.55;
}

function drawAddressees(c: Canvas, m: LetterRenderModel, width: number) {
  if (!m.to.length) return;
  const yth = 'Yth. ';
  const x = c.left + textWidth(yth, 'regular', SIZE);
  c.ensure(LH);
  c.text(yth, c.left, c.y - SIZE, 'regular', SIZE);
  if (m.to.length === 1) c.paragraph([{ text: m.to[0] }], x, width - (x - c.left), SIZE);
  else drawNumbered(c, m.to, x, width - (x - c.left));
  c.ensure(LH);
  c.text(`di ${m.addresseePlace ?? 'Tempat'}`, c.left, c.y - SIZE, 'regular', SIZE);
  c.y -= LH;
}

/** "1. ...", "2. ..." with hanging indent. */
function drawNumbered(c: Canvas, items: string[], x: number, width: number) {
  const indent = textWidth(`${items.length}. `, 'regular', SIZE);
  items.forEach((item, i) => {
    c.ensure(LH);
    c.text(`${i + 1}.`, x, c.y - SIZE, 'regular', SIZE);
    c.paragraph([{ text: item }], x + indent, width - indent, SIZE);
  });
}

function headSurat(c: Canvas, m: LetterRenderModel) {
  const sigX = signatureX(c);
  const valueX = c.left + 70;
  // Place and date stand at the right on the line of the nomor.
  c.text(`${m.place}, ${dateText(m)}`, sigX, c.y - SIZE, 'regular', SIZE);
  drawFields(c, [['Nomor', numberText(m)], ['Sifat', m.urgency], ['Lampiran', lampiranText(m.attachmentsCount)], ['Hal', m.subject]], valueX, sigX - 12 - valueX);
  c.y -= LH;
  drawAddressees(c, m, c.textWidth * 0.6);
  c.y -= LH * 0.5;
}

function headNota(c: Canvas, m: LetterRenderModel) {
  c.paragraph([{ text: m.kindName.toUpperCase(), bold: true }], c.left, c.textWidth, 14, 'center');
  c.paragraph([{ text: `NOMOR ${numberText(m)}` }], c.left, c.textWidth, SIZE, 'center');
  c.y -= LH;
  const valueX = c.left + 80;
  const width = c.right - valueX;
  const numbered = (list: string[]) => (list.length > 1 ? list.map((t, i) => `${i + 1}. ${t}`).join('\n') : list[0] ?? '-');
  const fields: Field[] = [['Yth.', numbered(m.to)], ['Dari', m.signer.prefixLine ?? m.signer.positionTitle]];
  if (m.cc.length) fields.push(['Tembusan', numbered(m.cc)]);
  fields.push(['Tanggal', dateText(m)], ['Sifat', m.urgency], ['Lampiran', lampiranText(m.attachmentsCount)], ['Hal', m.subject]);
  drawFields(c, fields, valueX, width);
  c.y -= 4;
  c.page.drawLine({ start: { x: c.left, y: c.y }, end: { x: c.right, y: c.y }, thickness: 0.75, color: BLACK });
  c.y -= LH;
}

function headNaskah(c: Canvas, m: LetterRenderModel) {
  const block = (runs: Run[], size = SIZE) => c.paragraph(runs, c.left + 20, c.textWidth - 40, size, 'center');
  block([{ text: m.kindName.toUpperCase(), bold: true }], 14);
  block([{ text: `NOMOR ${numberText(m)}` }]);
  c.y -= LH * 0.5;
  block([{ text: 'TENTANG' }]);
  block([{ text: m.subject.toUpperCase() }]);
  c.y -= LH;
  if (m.to.length) {
    drawAddressees(c, m, c.textWidth * 0.6);
    c.y -= LH * 0.5;
  }
}

/** The QR code as filled squares, one rectangle per horizontal run of dark modules. */
function drawQr(c: Canvas, text: string, x: number, top: number, size: number) {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const cell = size / n;
  const ops = [pushGraphicsState(), setFillingGrayscaleColor(0)];
  for (let r = 0; r < n; r++) {
    for (let col = 0; col < n; ) {
      if (!qr.modules.get(r, col)) {
        col++;
        continue;
      }
      let end = col;
      while (end < n && qr.modules.get(r, end)) end++;
      ops.push(rectangle(x + col * cell, top - (r + 1) * cell, (end - col) * cell, cell));
      col = end;
    }
  }
  ops.push(fill(), popGraphicsState());
  c.page.pushOperators(...ops);
}

function drawSignature(c: Canvas, m: LetterRenderModel) {
  const x = signatureX(c);
  const width = c.right - x;
  const titleRuns: Run[] = [];
  if (m.layout === 'naskah') titleRuns.push({ text: `${m.place}, ${dateText(m)}\n` });
  const titles = [m.signer.prefixLine, m.signer.positionTitle].filter((t): t is string => !!t);
  titles.forEach((t, i) => titleRuns.push({ text: `${t}${i === titles.length - 1 ? ',' : ''}${i < titles.length - 1 ? '\n' : ''}` }));
  const titleLines = wrapRuns(titleRuns, width, SIZE);
  const statement = m.final ? wrapRuns([{ text: m.final.statement }], width - QR_SIZE - 6, SMALL) : [];
  const mark = m.final ? Math.max(QR_SIZE, statement.length * SMALL * LINE_HEIGHT) + 8 : LH * 4;
  const nameLines = wrapRuns([{ text: m.signer.name, bold: true, underline: true }], width, SIZE);
  const height = LH + titleLines.length * LH + mark + nameLines.length * LH + (m.signer.nip ? LH : 0);
  // The block stays together: it moves to a new page rather than split.
  c.y -= LH;
  c.ensure(height - LH);
  for (const l of titleLines) c.line(l, x, SIZE);
  const markTop = c.y;
  if (m.final) {
    drawQr(c, m.final.qrUrl, x, markTop - 4, QR_SIZE);
    c.y = markTop - 4;
    for (const l of statement) c.line(l, x + QR_SIZE + 6, SMALL);
  }
  c.y = markTop - mark;
  for (const l of nameLines) c.line(l, x, SIZE);
  if (m.signer.nip) c.paragraph([{ text: `NIP. ${formatNip(m.signer.nip)}` }], x, width, SIZE);
}

function drawTembusan(c: Canvas, m: LetterRenderModel) {
  if (!m.cc.length) return;
  c.y -= LH;
  c.ensure(LH * 2);
  c.text('Tembusan:', c.left, c.y - SIZE, 'regular', SIZE);
  c.y -= LH;
  drawNumbered(c, m.cc, c.left, c.textWidth * 0.7);
}

/**
 * "KONSEP" across the middle of the page, light enough to read the letter
 * through, and boxed at the top right, where it also survives a faint print
 * (and reads as one word to text extraction, which splits diagonal text).
 */
function drawWatermark(c: Canvas, pageIndex: number) {
  const page = c.pages[pageIndex];
  const { width, height } = page.getSize();
  const label = 'KONSEP';
  const lw = textWidth(label, 'bold', 10);
  const top = height - 9 * MM;
  page.drawRectangle({ x: c.right - lw - 8, y: top - 16, width: lw + 8, height: 16, borderWidth: 1, borderColor: BLACK });
  page.drawText(label, { x: c.right - lw - 4, y: top - 12, size: 10, font: c.font('bold'), color: BLACK });
  const size = Math.min(width, height) * 0.2;
  const tw = textWidth(label, 'bold', size);
  const th = size * 0.7;
  const a = Math.PI / 4;
  const x = width / 2 - ((tw / 2) * Math.cos(a) - (th / 2) * Math.sin(a));
  const y = height / 2 - ((tw / 2) * Math.sin(a) + (th / 2) * Math.cos(a));
  page.drawText(label, { x, y, size, font: c.font('bold'), color: grayscale(0.55), opacity: 0.25, rotate: degrees(45) });
}

function geometry(paper: LetterRenderModel['paper']): Geometry {
  const [width, height] = PAPER[paper] ?? PAPER.A4;
  return { width, height, marginLeft: 30 * MM, marginRight: 20 * MM, marginTop: 25 * MM, marginBottom: 25 * MM };
}

export async function renderLetterPdf(model: LetterRenderModel): Promise<Uint8Array> {
  const m: LetterRenderModel = { ...model, layout: model.layout ?? 'surat' };
  const doc = await PDFDocument.create({ updateMetadata: false });
  doc.setTitle(m.number ? `${m.kindName} ${m.number}: ${m.subject}` : `${m.kindName}: ${m.subject}`);
  doc.setAuthor(m.letterhead.agency || m.letterhead.government);
  doc.setSubject(m.subject);
  doc.setCreator('TNDE');
  doc.setProducer('TNDE (pdf-lib)');
  doc.setLanguage('id-ID');
  doc.setCreationDate(m.producedAt);
  doc.setModificationDate(m.producedAt);

  const styles: FontStyle[] = ['regular', 'bold'];
  if (/<em>/.test(m.bodyHtml)) styles.push('italic', 'boldItalic');
  const fonts = await embedFonts(doc, styles);
  const restricted = m.securityClass.trim().toLowerCase() !== 'biasa';
  const c: Canvas = new Canvas(doc, fonts, geometry(m.paper), (_page, index) => {
    // Security class at the top left of every page; page numbers from the second page on.
    if (restricted) c.text(m.securityClass.toUpperCase(), c.left, c.g.height - 12 * MM, 'bold', 10);
    if (index > 0) {
      const label = `- ${index + 1} -`;
      c.text(label, c.g.width / 2 - textWidth(label, 'regular', 10) / 2, c.g.height - 15 * MM, 'regular', 10);
    }
  });
  c.newPage();
  drawKop(c, m);
  if (m.layout === 'nota') headNota(c, m);
  else if (m.layout === 'naskah') headNaskah(c, m);
  else headSurat(c, m);
  drawBlocks(c, bodyBlocks(m.bodyHtml), c.left, c.textWidth, SIZE);
  drawSignature(c, m);
  if (m.layout !== 'nota') drawTembusan(c, m);
  if (m.draft) c.pages.forEach((_, i) => drawWatermark(c, i));
  // Without object streams: a PAdES signature is added to this file afterwards.
  // objectsPerTick: pdf-lib otherwise yields a timer tick (~1 ms) every 50 objects.
  return doc.save({ useObjectStreams: false, objectsPerTick: Infinity });
}
