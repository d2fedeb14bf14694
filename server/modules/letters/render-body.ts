// The letter body (canonical HTML from body.ts) laid out on the pages:
// paragraphs with bold/italic/underline runs, numbered and bulleted lists
// (nested), and tables with borders whose rows may continue on the next page.
import { Parser } from 'htmlparser2';
import { textWidth } from './render-fonts.js';
import { BLACK, LINE_HEIGHT, wrapRuns, type Canvas, type Run, type Style } from './render-layout.js';

interface HtmlNode {
  tag: string;
  attrs: Record<string, string>;
  children: (HtmlNode | string)[];
}

export type Block =
  | { kind: 'para'; runs: Run[] }
  | { kind: 'list'; ordered: boolean; items: Block[][] }
  | { kind: 'table'; rows: Cell[][] };

interface Cell {
  runs: Run[];
  header: boolean;
  span: number;
}

function parseHtml(html: string): HtmlNode {
  const root: HtmlNode = { tag: 'root', attrs: {}, children: [] };
  const stack = [root];
  const parser = new Parser(
    {
      onopentag(tag, attrs) {
        const node: HtmlNode = { tag, attrs, children: [] };
        stack[stack.length - 1].children.push(node);
        stack.push(node);
      },
      ontext(text) {
        stack[stack.length - 1].children.push(text);
      },
      onclosetag() {
        if (stack.length > 1) stack.pop();
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();
  return root;
}

const BLOCK_TAGS = new Set(['p', 'ol', 'ul', 'table', 'li', 'tr', 'thead', 'tbody']);

/** The runs of a node's text; blocks nested in it (a list in a table cell) become lines. */
function inlineRuns(node: HtmlNode, style: Style, out: Run[] = []): Run[] {
  for (const child of node.children) {
    if (typeof child === 'string') {
      out.push({ ...style, text: child.replace(/\s+/g, ' ') });
      continue;
    }
    const breakBefore = BLOCK_TAGS.has(child.tag) && out.length > 0 && !out[out.length - 1].text.endsWith('\n');
    if (breakBefore) out.push({ text: '\n' });
    if (child.tag === 'br') out.push({ text: '\n' });
    else if (child.tag === 'li') {
      out.push({ ...style, text: '• ' });
      inlineRuns(child, style, out);
    } else {
      const s = child.tag === 'strong' || child.tag === 'th' ? { ...style, bold: true } : child.tag === 'em' ? { ...style, italic: true } : child.tag === 'u' ? { ...style, underline: true } : style;
      inlineRuns(child, s, out);
    }
  }
  return out;
}

function rowsOf(node: HtmlNode): HtmlNode[] {
  return node.children.flatMap((c) => (typeof c === 'string' ? [] : c.tag === 'tr' ? [c] : c.tag === 'thead' || c.tag === 'tbody' ? rowsOf(c) : []));
}

/** The body's blocks, in order. */
export function bodyBlocks(html: string): Block[] {
  return blocksOf(parseHtml(html));
}

function blocksOf(node: HtmlNode): Block[] {
  const blocks: Block[] = [];
  let loose: Run[] = [];
  const flush = () => {
    if (loose.some((r) => r.text.trim())) blocks.push({ kind: 'para', runs: loose });
    loose = [];
  };
  for (const child of node.children) {
    if (typeof child === 'string' || !BLOCK_TAGS.has(child.tag)) {
      inlineRuns({ tag: 'span', attrs: {}, children: [child] }, {}, loose);
      continue;
    }
    flush();
    if (child.tag === 'p') blocks.push({ kind: 'para', runs: inlineRuns(child, {}) });
    else if (child.tag === 'ol' || child.tag === 'ul') {
      const items = child.children.filter((c): c is HtmlNode => typeof c !== 'string' && c.tag === 'li').map(blocksOf);
      if (items.length) blocks.push({ kind: 'list', ordered: child.tag === 'ol', items });
    } else if (child.tag === 'table') {
      const rows = rowsOf(child)
        .map((tr) => tr.children.filter((c): c is HtmlNode => typeof c !== 'string' && (c.tag === 'td' || c.tag === 'th')).map((c) => ({ runs: inlineRuns(c, c.tag === 'th' ? { bold: true } : {}), header: c.tag === 'th', span: Math.max(1, Math.min(20, Number(c.attrs.colspan) || 1)) })))
        .filter((r) => r.length);
      if (rows.length) blocks.push({ kind: 'table', rows });
    } else blocks.push(...blocksOf(child));
  }
  flush();
  return blocks;
}

const PARA_GAP = 0.5; // of a line
const LIST_INDENT = 20;
const CELL_PAD = 4;

function marker(ordered: boolean, depth: number, i: number): string {
  if (!ordered) return depth % 2 === 0 ? '•' : '–';
  return depth % 2 === 0 ? `${i + 1}.` : `${String.fromCharCode(97 + (i % 26))}.`;
}

/** Draws blocks from the cursor down, in the column [x, x + width]. */
export function drawBlocks(c: Canvas, blocks: Block[], x: number, width: number, size: number, depth = 0): void {
  blocks.forEach((b, bi) => {
    const last = bi === blocks.length - 1;
    if (b.kind === 'para') {
      c.paragraph(b.runs, x, width, size);
      if (!(last && depth > 0)) c.y -= size * LINE_HEIGHT * PARA_GAP;
    } else if (b.kind === 'list') {
      const indent = Math.max(LIST_INDENT, textWidth(marker(b.ordered, depth, b.items.length - 1), 'regular', size) + 6);
      b.items.forEach((item, i) => {
        c.ensure(size * LINE_HEIGHT);
        c.text(marker(b.ordered, depth, i), x, c.y - size, 'regular', size);
        drawBlocks(c, item.length ? item : [{ kind: 'para', runs: [] }], x + indent, width - indent, size, depth + 1);
      });
      if (depth === 0) c.y -= size * LINE_HEIGHT * PARA_GAP;
    } else {
      drawTable(c, b.rows, x, width, size);
      c.y -= size * LINE_HEIGHT * PARA_GAP;
    }
  });
}

/** Column widths from the cells' natural widths, damped so no column starves. */
function columnWidths(rows: Cell[][], width: number, size: number): number[] {
  const cols = Math.max(...rows.map((r) => r.reduce((n, cell) => n + cell.span, 0)));
  const natural = new Array<number>(cols).fill(0);
  for (const row of rows) {
    let col = 0;
    for (const cell of row) {
      if (cell.span === 1) {
        const text = cell.runs.map((r) => r.text).join('');
        const longest = Math.max(0, ...text.split('\n').map((l) => textWidth(l, cell.header ? 'bold' : 'regular', size)));
        natural[col] = Math.max(natural[col], longest + 2 * CELL_PAD);
      }
      col += cell.span;
    }
  }
  const weights = natural.map((n) => Math.sqrt(Math.max(n, 24)));
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => (width * w) / total);
}

function drawTable(c: Canvas, rows: Cell[][], x: number, width: number, size: number): void {
  const widths = columnWidths(rows, width, size);
  const lh = size * LINE_HEIGHT;
  for (const row of rows) {
    let col = 0;
    const cells = row.map((cell) => {
      const w = widths.slice(col, col + cell.span).reduce((a, b) => a + b, 0);
      const cx = x + widths.slice(0, col).reduce((a, b) => a + b, 0);
      col += cell.span;
      return { cx, w, lines: wrapRuns(cell.runs, Math.max(1, w - 2 * CELL_PAD), size) };
    });
    const done = cells.map(() => 0);
    // A row is kept on one page when it fits on one; a taller one continues on the next.
    for (;;) {
      const remaining = Math.max(1, ...cells.map((cell, i) => cell.lines.length - done[i]));
      const fits = Math.floor((c.room - 2 * CELL_PAD) / lh);
      const fitsOnFresh = Math.floor((c.pageCapacity - 2 * CELL_PAD) / lh);
      if (fits < 1 || (fits < remaining && remaining <= fitsOnFresh)) {
        c.newPage();
        continue;
      }
      const n = Math.min(remaining, fits);
      const top = c.y;
      const h = n * lh + 2 * CELL_PAD;
      cells.forEach((cell, i) => {
        c.y = top - CELL_PAD;
        for (const l of cell.lines.slice(done[i], done[i] + n)) c.line(l, cell.cx + CELL_PAD, size);
        done[i] += n;
        c.page.drawRectangle({ x: cell.cx, y: top - h, width: cell.w, height: h, borderWidth: 0.5, borderColor: BLACK });
      });
      c.y = top - h;
      if (cells.every((cell, i) => done[i] >= cell.lines.length)) break;
      c.newPage();
    }
  }
}
