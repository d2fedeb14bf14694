// What the renderer needs, read from the database: the letter and one version
// of its content, the kind, the kop from the issuing unit and its ancestors,
// the recipients as printed lines, and the signer with the a.n./u.b./Plh./Plt.
// prefix. No access check here: callers have already decided the user may see it.
import type { Executor } from '../../platform/db/index.js';
import type { RecipientJson } from '../../platform/db/schema.js';
import { nearestAgency, unitLine, type UnitLineRow } from '../org/hierarchy.js';
import { NotFoundError } from '../../platform/http/errors.js';
import type { LetterRenderModel } from './render.js';

const URGENCY_LABELS: Record<string, string> = { biasa: 'Biasa', segera: 'Segera', sangat_segera: 'Sangat Segera' };
const SECURITY_LABELS: Record<string, string> = { biasa: 'Biasa', terbatas: 'Terbatas', rahasia: 'Rahasia', sangat_rahasia: 'Sangat Rahasia' };
const PREFIX_LABELS: Record<string, string> = { an: 'a.n.', ub: 'u.b.', plh: 'Plh.', plt: 'Plt.' };
/**
 * The kop: the top unit names the government, the nearest agency (dinas,
 * badan, ...) the second line; contact details from the nearest unit that has them.
 */
function letterhead(units: UnitLineRow[]) {
  const top = units[units.length - 1];
  const agency = nearestAgency(units);
  const withAddress = units.find((u) => u.address) ?? top;
  const place = top.name.replace(/^pemerintah\s+(provinsi|kabupaten|kota)\s+/i, '').trim() || top.name;
  const contact = [withAddress.phone && `Telepon ${withAddress.phone}`, withAddress.email && `Pos-el ${withAddress.email}`].filter(Boolean).join(', ');
  const web = withAddress.website?.replace(/^https?:\/\//, '').replace(/\/$/, '');
  return {
    place,
    letterhead: {
      government: top.name.toUpperCase(),
      agency: agency && agency !== top ? agency.name.toUpperCase() : '',
      address: [withAddress.address ?? place, contact, web ? `Laman ${web}` : ''].filter((l): l is string => !!l),
    },
  };
}

/** Recipients as printed: a person by name, a unit by its head's title, a position by its title. */
async function recipientLines(db: Executor, list: RecipientJson[]): Promise<string[]> {
  const ids = (key: 'userId' | 'unitId' | 'positionId') => list.flatMap((r) => (key in r ? [(r as unknown as Record<typeof key, string>)[key]] : []));
  const [users, units, heads, positions] = await Promise.all([
    ids('userId').length ? db.selectFrom('users').select(['id', 'name']).where('id', 'in', ids('userId')).execute() : [],
    ids('unitId').length ? db.selectFrom('units').select(['id', 'name']).where('id', 'in', ids('unitId')).execute() : [],
    ids('unitId').length ? db.selectFrom('positions').select(['unit_id', 'title']).where('unit_id', 'in', ids('unitId')).where('is_head', '=', true).where('active', '=', true).orderBy('id').execute() : [],
    ids('positionId').length ? db.selectFrom('positions').select(['id', 'title']).where('id', 'in', ids('positionId')).execute() : [],
  ]);
  const byId = <T extends { id: string | number }>(rows: T[]) => new Map(rows.map((r) => [String(r.id), r]));
  const u = byId(users);
  const n = byId(units);
  const p = byId(positions);
  const head = new Map<string, string>();
  for (const h of heads) if (!head.has(String(h.unit_id))) head.set(String(h.unit_id), h.title);
  return list.map((r) => {
    if ('userId' in r) return `Sdr. ${u.get(r.userId)?.name ?? r.user}`;
    if ('unitId' in r) return head.get(r.unitId) ?? `Kepala ${n.get(r.unitId)?.name ?? r.unit}`;
    if ('positionId' in r) return p.get(r.positionId)?.title ?? r.position;
    if ('peerId' in r) return r.name;
    return r.external.email ? `${r.external.name} (${r.external.email})` : r.external.name;
  });
}

/** The model of one version (the current one by default), as a draft unless the letter is signed. */
export async function loadRenderModel(db: Executor, letterId: string, version?: number): Promise<LetterRenderModel> {
  if (!/^\d{1,18}$/.test(letterId)) throw new NotFoundError();
  const letter = await db.selectFrom('letters').selectAll().where('id', '=', letterId).executeTakeFirst();
  if (!letter) throw new NotFoundError();
  const v = await db.selectFrom('letter_versions').select(['content', 'created_at']).where('letter_id', '=', letterId).where('version', '=', version ?? letter.version).executeTakeFirst();
  if (!v) throw new NotFoundError();
  const c = v.content;
  const [kind, units, signer, own, principal, to, cc] = await Promise.all([
    db.selectFrom('letter_kinds').select(['code', 'name', 'layout']).where('code', '=', c.kind).executeTakeFirstOrThrow(),
    unitLine(db, String(letter.unit_id)),
    db.selectFrom('users').select(['name', 'nip']).where('id', '=', c.signer.userId).executeTakeFirstOrThrow(),
    db.selectFrom('positions').select('title').where('id', '=', c.signer.positionId).executeTakeFirst(),
    c.signer.principalPositionId ? db.selectFrom('positions').select('title').where('id', '=', c.signer.principalPositionId).executeTakeFirst() : undefined,
    recipientLines(db, c.to),
    recipientLines(db, c.cc),
  ]);
  const prefix = c.signer.prefix ? PREFIX_LABELS[c.signer.prefix] : undefined;
  const acting = c.signer.prefix === 'plh' || c.signer.prefix === 'plt';
  return {
    paper: c.paper === 'F4' ? 'F4' : 'A4',
    ...letterhead(units),
    kindName: kind.name,
    kindCode: kind.code,
    layout: kind.layout,
    date: letter.signed_at,
    number: letter.number,
    urgency: URGENCY_LABELS[c.urgency] ?? c.urgency,
    securityClass: SECURITY_LABELS[c.securityClass] ?? c.securityClass,
    attachmentsCount: c.attachments.length,
    subject: c.subject,
    to,
    cc,
    // Someone outside the government is not "at the place" of the letter.
    addresseePlace: c.to.some((r) => 'external' in r || 'peerId' in r) ? '-' : 'Tempat',
    bodyHtml: c.body,
    signer: {
      prefixLine: prefix && principal ? `${prefix} ${principal.title}` : null,
      positionTitle: acting && principal ? '' : (own?.title ?? ''),
      name: signer.name,
      nip: signer.nip,
    },
    draft: letter.signed_at === null,
    producedAt: v.created_at,
  };
}
