// The letter body: a safe rich-text subset (paragraphs, bold/italic/underline,
// numbered and bulleted lists, simple tables, line breaks), sanitised with
// sanitize-html and stored in one canonical form, so two saves of the same
// content hash the same and a diff between versions shows only real changes.
import sanitizeHtml from 'sanitize-html';

export const BODY_MAX_CHARS = 200_000;

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'strong', 'em', 'u', 'ol', 'ul', 'li', 'table', 'thead', 'tbody', 'tr', 'th', 'td'],
  allowedAttributes: { td: ['colspan', 'rowspan'], th: ['colspan', 'rowspan'] },
  allowedSchemes: [],
  disallowedTagsMode: 'discard',
  // Equivalent tags are folded into one spelling.
  transformTags: {
    b: 'strong',
    i: 'em',
    div: 'p',
    h1: 'p', h2: 'p', h3: 'p', h4: 'p',
  },
  // Text inside these is dropped entirely, not shown as text.
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'title', 'head'],
  exclusiveFilter: (frame) => frame.tag === 'p' && !frame.text.trim() && !frame.mediaChildren?.length,
};

/** Sanitises and canonicalises a body. Plain text (no tags) becomes paragraphs. */
export function canonicalBody(input: string): string {
  let html = input.replace(/\r\n?/g, '\n');
  if (!/<[a-z][\s\S]*>/i.test(html)) {
    html = html
      .split(/\n{2,}/)
      .map((para) => para.trim())
      .filter(Boolean)
      .map((para) => `<p>${escapeText(para).replace(/\n/g, '<br>')}</p>`)
      .join('');
  }
  let clean = sanitizeHtml(html, OPTIONS);
  // Whitespace between block tags carries no meaning; inside text it is folded to one space.
  clean = clean
    .replace(/\s+/g, ' ')
    .replace(/\s*(<\/?(?:p|ol|ul|li|table|thead|tbody|tr|th|td)(?: [^>]*)?>)\s*/g, '$1')
    .replace(/<br \/>/g, '<br>')
    .trim();
  // Colspan/rowspan only as small positive integers.
  clean = clean.replace(/ (colspan|rowspan)="([^"]*)"/g, (_m, a: string, v: string) => (/^[1-9]\d?$/.test(v) ? ` ${a}="${v}"` : ''));
  return clean;
}

/** The body as plain text: for search, previews and diffs. */
export function bodyText(canonical: string): string {
  return sanitizeHtml(
    canonical.replace(/<\/(p|li|tr)>/g, '\n').replace(/<br>/g, '\n').replace(/<\/t[dh]>/g, '\t'),
    { allowedTags: [], allowedAttributes: {} },
  )
    .replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'")
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
