// Keeping archival records in step with their sources. Every service that
// creates or changes a letter or an incoming letter calls one of these in the
// same transaction, so search and the archive never see a stale record.
import type { Executor } from '../../platform/db/index.js';
import * as repo from './records-repo.js';

/** Creates or refreshes the record of a letter: state, number, hal, body text, recipients, attachment text. */
export function syncLetterRecord(trx: Executor, letterId: string): Promise<void> {
  return repo.upsertLetterRecord(trx, String(letterId));
}

/** Creates or refreshes the record of an incoming letter (none for copies of our own letters). */
export function syncIncomingRecord(trx: Executor, incomingId: string): Promise<void> {
  return repo.upsertIncomingRecord(trx, String(incomingId));
}

/** Extracted text is capped: search needs the words, not every page of a 500-page annex. */
export const EXTRACTED_TEXT_CAP = 200_000;
const MAX_PAGES = 200;

/**
 * The searchable text of an uploaded file, or null when none can be had
 * (images, office files, scanned PDFs without a text layer, broken PDFs).
 * unpdf ships its own PDF.js build: nothing is fetched at run time.
 */
export async function extractSearchText(bytes: Uint8Array, contentType: string): Promise<string | null> {
  if (contentType === 'text/plain') return clean(Buffer.from(bytes).toString('utf8'));
  if (contentType !== 'application/pdf') return null;
  try {
    const { getDocumentProxy } = await import('unpdf');
    // PDF.js takes ownership of the buffer it is given: hand it a copy.
    const pdf = await getDocumentProxy(new Uint8Array(bytes));
    try {
      const parts: string[] = [];
      let length = 0;
      for (let n = 1; n <= Math.min(pdf.numPages, MAX_PAGES) && length < EXTRACTED_TEXT_CAP; n++) {
        const content = await (await pdf.getPage(n)).getTextContent();
        const text = content.items.map((item) => ('str' in item ? item.str : '')).join(' ');
        parts.push(text);
        length += text.length;
      }
      return clean(parts.join('\n'));
    } finally {
      await pdf.loadingTask.destroy();
    }
  } catch {
    return null;
  }
}

function clean(text: string): string | null {
  // NUL cannot be stored in a text column; other control characters carry no words.
  const t = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ').replace(/[ \t]+/g, ' ').trim().slice(0, EXTRACTED_TEXT_CAP);
  return t || null;
}
