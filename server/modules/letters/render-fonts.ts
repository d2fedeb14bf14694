// The Arimo fonts (metric-compatible with Arial) for the letter renderer:
// bytes, parsed fonts and glyph advances loaded once per process, embedded as
// subsets, with workarounds for @pdf-lib/fontkit 1.1.1 (see fontData).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import fontkit from '@pdf-lib/fontkit';
import type { PDFDocument, PDFFont } from 'pdf-lib';

export type FontStyle = 'regular' | 'bold' | 'italic' | 'boldItalic';

const FONT_FILES: Record<FontStyle, string> = {
  regular: '400Regular/Arimo_400Regular.ttf',
  bold: '700Bold/Arimo_700Bold.ttf',
  italic: '400Regular_Italic/Arimo_400Regular_Italic.ttf',
  boldItalic: '700Bold_Italic/Arimo_700Bold_Italic.ttf',
};

interface FontData {
  bytes: Uint8Array;
  font: fontkit.Font;
  unitsPerEm: number;
  glyphAdvance: (codePoint: number) => number;
}

let fontCache: Record<FontStyle, FontData> | undefined;

interface Subset {
  glyf: Uint8Array[];
  offset: number;
  _addGlyph(gid: number): number;
  encode(stream: EncodeStream): void;
}
type EncodeStream = { push(chunk: Uint8Array | null): boolean; end(): void };

/**
 * Glyph records padded to an even length. The subset's loca table takes the
 * short format, which stores offsets halved; Arimo's long-format glyf has
 * odd-length records, and one of them shifts every later glyph by a byte
 * (blank letters in poppler, text still extractable). Fixed upstream in
 * fontkit 1.8 (foliojs/fontkit#191), not in the @pdf-lib fork.
 */
function padGlyphRecords(subset: Subset) {
  const addGlyph = subset._addGlyph.bind(subset);
  subset._addGlyph = (gid) => {
    const index = addGlyph(gid);
    const record = subset.glyf[index];
    if (record.length % 2) {
      const padded = new Uint8Array(record.length + 1);
      padded.set(record);
      subset.glyf[index] = padded;
      subset.offset += 1;
    }
    return index;
  };
}

/**
 * fontkit's browser bundle runs `subset.encodeStream()` through a process.nextTick
 * shim built on setTimeout(0), about 1 ms of idle time per tick, several ticks a
 * font. This encodes the subset synchronously into the same stream class and
 * replays it to pdf-lib's `.on('data').on('end')` listeners.
 */
function synchronousEncoder(subset: Subset, Stream: new () => EncodeStream) {
  return () => {
    const chunks: Uint8Array[] = [];
    const s = new Stream();
    s.push = (chunk) => {
      if (chunk) chunks.push(chunk);
      return true;
    };
    subset.encode(s);
    s.end();
    const replay = {
      on(event: string, cb: (chunk?: Uint8Array) => void) {
        if (event === 'data') chunks.forEach((c) => cb(c));
        else if (event === 'end') cb();
        return replay;
      },
    };
    return replay;
  };
}

/**
 * The fonts, parsed once per process, as pdf-lib will use them, with three
 * changes to @pdf-lib/fontkit 1.1.1's behaviour: glyph records padded (see
 * padGlyphRecords), subsets encoded without timer ticks (synchronousEncoder),
 * and no OpenType shaping: pdf-lib asks fontkit for `layout(text)` on every
 * drawText, ~0.2 ms a call; with ligatures off, Latin text needs no shaping, so
 * one glyph per (NFC) character from the cmap gives the same glyphs.
 */
function fontData(): Record<FontStyle, FontData> {
  if (fontCache) return fontCache;
  const dir = path.dirname(createRequire(import.meta.url).resolve('@expo-google-fonts/arimo/package.json'));
  const load = (file: string): FontData => {
    const bytes = new Uint8Array(fs.readFileSync(path.join(dir, file)));
    const parsed = fontkit.create(bytes);
    const Stream = (parsed.createSubset().encodeStream() as unknown as { constructor: new () => EncodeStream }).constructor;
    const layout = (text: string) => ({ glyphs: Array.from(text, (ch) => parsed.glyphForCodePoint(ch.codePointAt(0)!)) });
    const createSubset = () => {
      const subset = parsed.createSubset() as unknown as Subset;
      padGlyphRecords(subset);
      return Object.assign(subset, { encodeStream: synchronousEncoder(subset, Stream) });
    };
    const font = new Proxy(parsed, {
      get(target, prop) {
        if (prop === 'layout') return layout;
        if (prop === 'createSubset') return createSubset;
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const advances = new Map<number, number>();
    return {
      bytes,
      font,
      unitsPerEm: parsed.unitsPerEm,
      glyphAdvance: (cp) => {
        let w = advances.get(cp);
        if (w === undefined) advances.set(cp, (w = parsed.glyphForCodePoint(cp).advanceWidth));
        return w;
      },
    };
  };
  fontCache = { regular: load(FONT_FILES.regular), bold: load(FONT_FILES.bold), italic: load(FONT_FILES.italic), boldItalic: load(FONT_FILES.boldItalic) };
  return fontCache;
}

/** Embeds the styles a letter needs as subsets (every character is one glyph: see fontData). */
export async function embedFonts(doc: PDFDocument, styles: FontStyle[]): Promise<Partial<Record<FontStyle, PDFFont>>> {
  const data = fontData();
  const out: Partial<Record<FontStyle, PDFFont>> = {};
  for (const s of styles) {
    // pdf-lib hands the bytes to fontkit.create; give it the parsed font instead of parsing again.
    doc.registerFontkit({ create: () => data[s].font } as unknown as Parameters<PDFDocument['registerFontkit']>[0]);
    out[s] = await doc.embedFont(data[s].bytes, { subset: true });
  }
  return out;
}

export function textWidth(text: string, font: FontStyle, size: number): number {
  const d = fontData()[font];
  let units = 0;
  for (const ch of text) units += d.glyphAdvance(ch.codePointAt(0)!);
  return (units * size) / d.unitsPerEm;
}

