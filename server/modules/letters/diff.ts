// What changed between two versions of a letter: its metadata as rows
// (changed or not) and its body as plain text with inserted and deleted runs.
// A word-level LCS after trimming the common head and tail, which is where
// drafts usually differ; when the differing middle is too large for the table,
// it falls back to lines, then to "all removed, all added".
import type { LetterContentJson } from '../../platform/db/schema.js';
import { bodyText } from './body.js';
import { recipientLines } from './recipient-lines.js';

export interface DiffRun {
  op: 'same' | 'ins' | 'del';
  text: string;
}

/** Cells of the LCS table at most (Uint32: 16 MB). */
const MAX_CELLS = 4_000_000;

/**
 * Words (keeping "09.00", "Bapak/Ibu", "000.1.5" whole), single punctuation marks
 * and whitespace, so joining the tokens gives the text back.
 */
export function wordTokens(text: string): string[] {
  return text.match(/\s+|[\p{L}\p{N}]+(?:[.,:/-][\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]/gu) ?? [];
}

function lineTokens(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function push(out: DiffRun[], op: DiffRun['op'], tokens: string[]) {
  if (!tokens.length) return;
  const text = tokens.join('');
  const last = out[out.length - 1];
  if (last && last.op === op) last.text += text;
  else out.push({ op, text });
}

/** The runs turning `a` into `b`, or undefined when the differing middle is too large. */
export function diffTokens(a: string[], b: string[], maxCells = MAX_CELLS): DiffRun[] | undefined {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let endA = a.length;
  let endB = b.length;
  while (endA > head && endB > head && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const midA = a.slice(head, endA);
  const midB = b.slice(head, endB);
  const n = midA.length;
  const m = midB.length;
  if ((n + 1) * (m + 1) > maxCells) return undefined;

  // lcs[i * (m + 1) + j] = length of the LCS of midA[i..] and midB[j..].
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = midA[i] === midB[j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
    }
  }
  const out: DiffRun[] = [];
  push(out, 'same', a.slice(0, head));
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && midA[i] === midB[j]) {
      push(out, 'same', [midA[i++]]);
      j++;
    } else if (j >= m || (i < n && lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) {
      push(out, 'del', [midA[i++]]);
    } else {
      push(out, 'ins', [midB[j++]]);
    }
  }
  push(out, 'same', a.slice(endA));
  return out;
}

/** A word-level diff of two texts (lines, then whole texts, when the change is huge). */
export function diffText(a: string, b: string, maxCells = MAX_CELLS): DiffRun[] {
  const byWords = diffTokens(wordTokens(a), wordTokens(b), maxCells);
  if (byWords) return byWords;
  const byLines = diffTokens(lineTokens(a), lineTokens(b), maxCells);
  if (byLines) return byLines;
  const out: DiffRun[] = [];
  push(out, 'del', [a]);
  push(out, 'ins', [b]);
  return out;
}

export const DIFF_FIELDS = ['kind', 'subject', 'urgency', 'securityClass', 'classificationCode', 'to', 'cc', 'signer', 'paper', 'attachments'] as const;
export type DiffField = (typeof DIFF_FIELDS)[number];

export interface FieldRow {
  field: DiffField;
  before: string;
  after: string;
  changed: boolean;
}

export interface VersionDiff {
  fields: FieldRow[];
  body: DiffRun[];
  bodyChanged: boolean;
}

type Signer = LetterContentJson['signer'];

/** Each field as [what is compared, what is shown]. */
function fieldValues(c: LetterContentJson, signerLabel: (s: Signer) => string): Record<DiffField, [string, string]> {
  const same = (v: string): [string, string] => [v, v];
  return {
    kind: same(c.kind),
    subject: same(c.subject),
    urgency: same(c.urgency),
    securityClass: same(c.securityClass),
    classificationCode: same(c.classificationCode),
    to: same(recipientLines(c.to)),
    cc: same(recipientLines(c.cc)),
    signer: [JSON.stringify([c.signer.userId, c.signer.positionId, c.signer.prefix, c.signer.principalPositionId]), signerLabel(c.signer)],
    paper: same(c.paper),
    attachments: [
      c.attachments.map((a) => `${a.filename} ${a.sha256}`).join('\n'),
      c.attachments.map((a) => `${a.filename} (sha256 ${a.sha256.slice(0, 12)})`).join('\n'),
    ],
  };
}

export function diffVersions(a: LetterContentJson, b: LetterContentJson, signerLabel: (s: Signer) => string): VersionDiff {
  const va = fieldValues(a, signerLabel);
  const vb = fieldValues(b, signerLabel);
  const fields = DIFF_FIELDS.map((field) => ({ field, before: va[field][1], after: vb[field][1], changed: va[field][0] !== vb[field][0] }));
  return { fields, body: diffText(bodyText(a.body), bodyText(b.body)), bodyChanged: a.body !== b.body };
}
