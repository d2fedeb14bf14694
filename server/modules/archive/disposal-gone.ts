// What a download of destroyed bytes answers: 410 Gone with the date of the
// destruction, instead of a storage error. Called by every read path of a
// record's objects (the signed PDF, attachments, scans) before it reads the store.
import type { Executor } from '../../platform/db/index.js';
import { AppError } from '../../platform/http/errors.js';
import { formatWhen } from '../../platform/i18n/dates.js';

export async function refuseDestroyed(db: Executor, sha256: string): Promise<void> {
  const o = await db.selectFrom('objects').select('destroyed_at').where('sha256', '=', sha256).executeTakeFirst();
  if (o?.destroyed_at) throw new AppError(410, 'gone', 'archive.disposal.gone', { date: formatWhen(o.destroyed_at, 'id', false) });
}
