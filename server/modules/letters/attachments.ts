// What an attachment may be: the file's bytes are sniffed by their magic
// numbers, and the name's extension must agree with what the bytes are.
import path from 'node:path';
import { fileTypeFromBuffer } from 'file-type';
import { ValidationError } from '../../platform/http/errors.js';

/** Allowed extensions and the types their content must sniff as. */
export const ALLOWED_ATTACHMENTS: Record<string, { mime: string; sniffed: string[] }> = {
  pdf: { mime: 'application/pdf', sniffed: ['pdf'] },
  png: { mime: 'image/png', sniffed: ['png'] },
  jpg: { mime: 'image/jpeg', sniffed: ['jpg'] },
  jpeg: { mime: 'image/jpeg', sniffed: ['jpg'] },
  docx: { mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', sniffed: ['docx'] },
  xlsx: { mime: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', sniffed: ['xlsx'] },
  pptx: { mime: 'application/vnd.openxmlformats-officedocument.presentationml.presentation', sniffed: ['pptx'] },
  doc: { mime: 'application/msword', sniffed: ['cfb'] },
  xls: { mime: 'application/vnd.ms-excel', sniffed: ['cfb'] },
  ppt: { mime: 'application/vnd.ms-powerpoint', sniffed: ['cfb'] },
  odt: { mime: 'application/vnd.oasis.opendocument.text', sniffed: ['odt'] },
  ods: { mime: 'application/vnd.oasis.opendocument.spreadsheet', sniffed: ['ods'] },
};

/** A display name safe to store and to send back in Content-Disposition. */
export function cleanFilename(name: string): string {
  const base = path.basename(name.replace(/\\/g, '/'))
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f"<>|:*?]/g, '_')
    .trim();
  return base.slice(-200) || 'lampiran';
}

export async function checkAttachment(bytes: Buffer, originalName: string): Promise<{ filename: string; contentType: string }> {
  const filename = cleanFilename(originalName);
  const ext = path.extname(filename).slice(1).toLowerCase();
  const rule = ALLOWED_ATTACHMENTS[ext];
  if (!rule) throw new ValidationError('letters.attachment_type_not_allowed', { ext: ext || '-' });
  if (bytes.length === 0) throw new ValidationError('letters.attachment_empty');
  const sniffed = await fileTypeFromBuffer(bytes);
  if (!sniffed || !rule.sniffed.includes(sniffed.ext)) throw new ValidationError('letters.attachment_mismatch', { ext });
  return { filename, contentType: rule.mime };
}
