// The printable lembar disposisi: the received letter's particulars, the
// standard instructions ticked where any disposisi gave them, and the tree.
// pdf-lib with the embedded Arimo font, like the letters (render-fonts.ts).
import { PDFDocument, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import { embedFonts, textWidth } from '../letters/render-fonts.js';
import { dispatchMessages } from './messages.js';
import { INSTRUCTIONS } from './state.js';
import type { IncomingRow, DisposisiRow } from './repo.js';

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 50;
const label = (k: keyof typeof dispatchMessages) => dispatchMessages[k].id;

export async function lembarDisposisiPdf(incoming: IncomingRow, tree: DisposisiRow[], when: (d: Date | null) => string): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(`Lembar Disposisi ${incoming.agenda_number ?? ''}`.trim());
  const fonts = await embedFonts(doc, ['regular', 'bold']);
  let page: PDFPage = doc.addPage(A4);
  let y = A4[1] - MARGIN;
  const width = A4[0] - 2 * MARGIN;

  const line = (text: string, o: { bold?: boolean; size?: number; indent?: number } = {}) => {
    const size = o.size ?? 10;
    const style = o.bold ? 'bold' : 'regular';
    const font = fonts[style] as PDFFont;
    const x = MARGIN + (o.indent ?? 0);
    for (const part of wrap(text, style, size, width - (o.indent ?? 0))) {
      if (y < MARGIN + size) {
        page = doc.addPage(A4);
        y = A4[1] - MARGIN;
      }
      page.drawText(part, { x, y: y - size, size, font, color: rgb(0, 0, 0) });
      y -= size * 1.4;
    }
  };

  line('LEMBAR DISPOSISI', { bold: true, size: 14 });
  line(incoming.unit_name, { size: 11 });
  y -= 6;
  const facts: [string, string][] = [
    [label('dispatch.field.agenda'), incoming.agenda_number ?? '-'],
    [label('dispatch.field.sender'), incoming.sender_name],
    [label('dispatch.field.sender_number'), incoming.sender_number ?? '-'],
    [label('dispatch.field.sender_date'), incoming.sender_date_text ?? '-'],
    [label('dispatch.field.subject'), incoming.subject],
    [label('dispatch.field.received'), when(incoming.registered_at)],
    [label('dispatch.field.urgency'), incoming.urgency],
  ];
  for (const [k, v] of facts) line(`${k}: ${v}`);
  y -= 6;
  line(label('dispatch.disposisi.instructions'), { bold: true });
  const given = new Set(tree.flatMap((x) => x.instructions));
  for (const code of INSTRUCTIONS) line(`[${given.has(code) ? 'X' : '  '}] ${label(`dispatch.instruction.${code}`)}`, { indent: 10 });
  y -= 6;
  line(label('dispatch.disposisi.tree'), { bold: true });
  if (!tree.length) line(label('dispatch.disposisi.none'), { indent: 10 });
  const children = (parent: string | null) => tree.filter((x) => (x.parent_id === null ? null : String(x.parent_id)) === parent);
  const walk = (parent: string | null, depth: number) => {
    for (const x of children(parent)) {
      const ins = x.instructions.map((c) => label(`dispatch.instruction.${c as (typeof INSTRUCTIONS)[number]}`)).join(', ');
      const state = label(`dispatch.disposisi.state.${x.state}`);
      line(`${x.from_name} -> ${x.to_name} (${when(x.created_at)})${x.due_date ? `, batas ${x.due_date}` : ''} [${state}]`, { indent: 10 + depth * 16 });
      if (ins) line(ins, { indent: 22 + depth * 16, size: 9 });
      if (x.note) line(x.note, { indent: 22 + depth * 16, size: 9 });
      if (x.done_note) line(`${label('dispatch.disposisi.done_note')}: ${x.done_note}`, { indent: 22 + depth * 16, size: 9 });
      walk(String(x.id), depth + 1);
    }
  };
  walk(null, 0);
  return doc.save();
}

/** Greedy word wrap by the font's advance widths; one over-long word is cut. Also used by archive/berkas-pdf.ts. */
export function wrap(text: string, style: 'regular' | 'bold', size: number, max: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const word of text.replace(/\s+/g, ' ').split(' ')) {
    const next = cur ? `${cur} ${word}` : word;
    if (textWidth(next, style, size) <= max) cur = next;
    else {
      if (cur) out.push(cur);
      cur = word;
      while (textWidth(cur, style, size) > max && cur.length > 1) {
        let n = cur.length - 1;
        while (n > 1 && textWidth(cur.slice(0, n), style, size) > max) n--;
        out.push(cur.slice(0, n));
        cur = cur.slice(n);
      }
    }
  }
  if (cur) out.push(cur);
  return out.length ? out : [''];
}
