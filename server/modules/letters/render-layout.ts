// The page machinery under the letter renderer: line wrapping of styled runs,
// and a cursor that walks down the pages and starts a new one when the text
// area is full.
import { rgb, type PDFDocument, type PDFFont, type PDFPage } from 'pdf-lib';
import { textWidth, type FontStyle } from './render-fonts.js';

export interface Style {
  bold?: boolean;
  italic?: boolean;
  underline?: boolean;
}

/** A piece of text in one style; '\n' inside is a hard line break. */
export interface Run extends Style {
  text: string;
}

export interface Piece {
  text: string;
  font: FontStyle;
  underline: boolean;
  x: number;
  width: number;
}

export interface Line {
  pieces: Piece[];
  width: number;
}

export function fontStyleOf(s: Style): FontStyle {
  return s.bold ? (s.italic ? 'boldItalic' : 'bold') : s.italic ? 'italic' : 'regular';
}

/** Text as it may be drawn: NFC, control characters and odd spaces made plain spaces. */
export function plainText(s: string): string {
  return s.normalize('NFC').replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u00a0\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]/g, ' ');
}

/** Breaks styled runs into lines no wider than `width` (words longer than a line are cut). */
export function wrapRuns(runs: Run[], width: number, size: number): Line[] {
  const lines: Line[] = [];
  let cur: Piece[] = [];
  let curW = 0;
  let pendingSpace: Piece | null = null;
  let word: Piece[] = [];
  let wordW = 0;

  const append = (p: Piece) => {
    const last = cur[cur.length - 1];
    if (last && last.font === p.font && last.underline === p.underline) {
      last.text += p.text;
      last.width += p.width;
    } else cur.push({ ...p, x: curW });
    curW += p.width;
  };
  const pushLine = () => {
    lines.push({ pieces: cur, width: curW });
    cur = [];
    curW = 0;
  };
  const flushWord = () => {
    if (!word.length) return;
    const spaceW = pendingSpace && cur.length ? pendingSpace.width : 0;
    if (cur.length && curW + spaceW + wordW > width) pushLine();
    else if (spaceW) append(pendingSpace!);
    pendingSpace = null;
    if (wordW > width) {
      for (const p of word) {
        for (const ch of p.text) {
          const w = textWidth(ch, p.font, size);
          if (cur.length && curW + w > width) pushLine();
          append({ ...p, text: ch, width: w });
        }
      }
    } else word.forEach(append);
    word = [];
    wordW = 0;
  };

  for (const run of runs) {
    const font = fontStyleOf(run);
    const underline = !!run.underline;
    for (const token of plainText(run.text).split(/(\n| +)/)) {
      if (!token) continue;
      if (token === '\n') {
        flushWord();
        pushLine();
        pendingSpace = null;
      } else if (token[0] === ' ') {
        flushWord();
        pendingSpace = { text: ' ', font, underline, x: 0, width: textWidth(' ', font, size) };
      } else {
        const w = textWidth(token, font, size);
        word.push({ text: token, font, underline, x: 0, width: w });
        wordW += w;
      }
    }
  }
  flushWord();
  if (cur.length || !lines.length) pushLine();
  return lines;
}

export interface Geometry {
  width: number;
  height: number;
  marginLeft: number;
  marginRight: number;
  marginTop: number;
  marginBottom: number;
}

export const BLACK = rgb(0, 0, 0);
export const LINE_HEIGHT = 1.2;

/** Pages and a cursor: `y` is the top of the next line on the current page. */
export class Canvas {
  readonly pages: PDFPage[] = [];
  page!: PDFPage;
  y = 0;

  constructor(
    readonly doc: PDFDocument,
    readonly fonts: Partial<Record<FontStyle, PDFFont>>,
    readonly g: Geometry,
    private readonly onNewPage: (page: PDFPage, index: number) => void,
  ) {}

  get left() {
    return this.g.marginLeft;
  }
  get right() {
    return this.g.width - this.g.marginRight;
  }
  get textWidth() {
    return this.right - this.left;
  }
  /** The height of the text area of a page after the first. */
  get pageCapacity() {
    return this.g.height - this.g.marginTop - this.g.marginBottom;
  }
  get room() {
    return this.y - this.g.marginBottom;
  }

  newPage(): void {
    this.page = this.doc.addPage([this.g.width, this.g.height]);
    this.pages.push(this.page);
    this.y = this.g.height - this.g.marginTop;
    this.onNewPage(this.page, this.pages.length - 1);
  }

  /** Starts a new page unless `h` more points fit on this one. */
  ensure(h: number): void {
    if (this.y - h < this.g.marginBottom) this.newPage();
  }

  font(style: FontStyle): PDFFont {
    const f = this.fonts[style] ?? this.fonts.regular;
    if (!f) throw new Error(`font ${style} not embedded`);
    return f;
  }

  text(text: string, x: number, baseline: number, style: FontStyle, size: number): void {
    if (text) this.page.drawText(text, { x, y: baseline, size, font: this.font(style), color: BLACK });
  }

  /** Draws one wrapped line at the cursor and moves it down. */
  line(line: Line, x: number, size: number, opts: { width?: number; align?: 'left' | 'center' | 'right' } = {}): void {
    const lh = size * LINE_HEIGHT;
    this.ensure(lh);
    const free = (opts.width ?? 0) - line.width;
    const x0 = opts.align === 'center' ? x + free / 2 : opts.align === 'right' ? x + free : x;
    const baseline = this.y - size;
    for (const p of line.pieces) {
      this.text(p.text, x0 + p.x, baseline, p.font, size);
      if (p.underline) {
        this.page.drawLine({ start: { x: x0 + p.x, y: baseline - size * 0.12 }, end: { x: x0 + p.x + p.width, y: baseline - size * 0.12 }, thickness: size * 0.06, color: BLACK });
      }
    }
    this.y -= lh;
  }

  /** Wraps runs to `width` and draws them from the cursor down. */
  paragraph(runs: Run[], x: number, width: number, size: number, align: 'left' | 'center' | 'right' = 'left'): void {
    for (const l of wrapRuns(runs, width, size)) this.line(l, x, size, { width, align });
  }
}
