// The preview (pratinjau) of any version of a letter: its draft rendering, with
// the "KONSEP" watermark and without number or date, for anyone who may see
// the letter. Pages and the API both call previewPdf.
import type { AppContext } from '../../platform/context.js';
import type { CurrentUser } from '../../platform/auth/current-user.js';
import { auditRead } from '../archive/access.js';
import { loadRenderModel, renderLetterPdf } from './render.js';
import * as letters from './service.js';

export interface Preview {
  version: number;
  filename: string;
  bytes: Uint8Array;
}

/** The draft rendering of `version` (the current one when omitted); 404 for a letter the user may not see or a version it does not have. */
export async function previewPdf(ctx: AppContext, user: CurrentUser, id: string, version?: number): Promise<Preview> {
  const { letter } = version === undefined ? await letters.getLetterForRead(ctx, user, id) : await letters.getVersionContent(ctx, user, id, version);
  const n = version ?? letter.version;
  const model = await loadRenderModel(ctx.db, id, n);
  await auditRead(ctx.db, user, { objectType: 'letter', objectId: id, securityClass: letter.security_class, what: 'preview', details: { preview: n } });
  // A konsep, even of a signed letter: no number or date (the signed PDF has them).
  const bytes = await renderLetterPdf({ ...model, draft: true, number: null, date: null });
  return { version: n, filename: `konsep-${id}-v${n}.pdf`, bytes };
}
