// SQL for letters, their versions, recipients and attachments.
import { sql, type Insertable, type Updateable } from 'kysely';
import type { Executor } from '../../platform/db/index.js';
import type { LetterTable, LetterContentJson } from '../../platform/db/schema.js';

export function listKinds(db: Executor) {
  return db.selectFrom('letter_kinds').selectAll().where('active', '=', true).orderBy('sort_order').execute();
}
export function getKind(db: Executor, code: string) {
  return db.selectFrom('letter_kinds').selectAll().where('code', '=', code).where('active', '=', true).executeTakeFirst();
}
export function getClassification(db: Executor, code: string) {
  return db.selectFrom('classification_codes').selectAll().where('code', '=', code).where('active', '=', true).executeTakeFirst();
}

export async function insertLetter(db: Executor, l: Insertable<LetterTable>) {
  const r = await db.insertInto('letters').values(l).returning('id').executeTakeFirstOrThrow();
  return String(r.id);
}

export function getLetter(db: Executor, id: string) {
  return db.selectFrom('letters').selectAll().where('id', '=', id).executeTakeFirst();
}

export function lockLetter(db: Executor, id: string) {
  return db.selectFrom('letters').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/** Moves a letter only if it is still in the expected state (see state.ts). */
export async function transitionLetter(db: Executor, id: string, from: string, set: Updateable<LetterTable>) {
  const r = await db.updateTable('letters').set({ ...set, updated_at: new Date() }).where('id', '=', id).where('state', '=', from).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function insertVersion(db: Executor, v: { letterId: string; version: number; sha256: string; content: LetterContentJson; createdBy: string }) {
  await db.insertInto('letter_versions').values({ letter_id: v.letterId, version: v.version, sha256: v.sha256, content: JSON.stringify(v.content), created_by: v.createdBy }).execute();
}

export function getVersion(db: Executor, letterId: string, version: number) {
  return db.selectFrom('letter_versions').selectAll().where('letter_id', '=', letterId).where('version', '=', version).executeTakeFirst();
}

export function listVersions(db: Executor, letterId: string) {
  return db
    .selectFrom('letter_versions as v')
    .innerJoin('users as u', 'u.id', 'v.created_by')
    .select(['v.version', 'v.sha256', 'v.created_at', 'u.name as author'])
    .where('v.letter_id', '=', letterId)
    .orderBy('v.version', 'desc')
    .execute();
}

export async function replaceRecipients(
  db: Executor,
  letterId: string,
  rows: { role: 'to' | 'cc'; userId?: string; unitId?: string; positionId?: string; peerId?: string; extName?: string; extEmail?: string | null }[],
) {
  await db.deleteFrom('letter_recipients').where('letter_id', '=', letterId).execute();
  if (!rows.length) return;
  await db
    .insertInto('letter_recipients')
    .values(rows.map((r, i) => ({ letter_id: letterId, role: r.role, ord: i + 1, user_id: r.userId ?? null, unit_id: r.unitId ?? null, position_id: r.positionId ?? null, peer_id: r.peerId ?? null, ext_name: r.extName ?? null, ext_email: r.extEmail ?? null })))
    .execute();
}

export function listRecipients(db: Executor, letterId: string) {
  return db
    .selectFrom('letter_recipients as r')
    .leftJoin('users as u', 'u.id', 'r.user_id')
    .leftJoin('positions as up', 'up.id', 'u.position_id')
    .leftJoin('units as n', 'n.id', 'r.unit_id')
    .leftJoin('positions as p', 'p.id', 'r.position_id')
    .leftJoin('peers as pe', 'pe.id', 'r.peer_id')
    .select(['r.role', 'r.ord', 'r.user_id', 'r.unit_id', 'r.position_id', 'r.ext_name', 'r.ext_email', 'r.peer_id', 'pe.code as peer_code', 'pe.name as peer_name', 'u.username', 'u.name as user_name', 'up.title as user_position_title', 'n.code as unit_code', 'n.name as unit_name', 'p.code as position_code', 'p.title as position_title'])
    .where('r.letter_id', '=', letterId)
    .orderBy('r.role', 'desc')
    .orderBy('r.ord')
    .execute();
}

export async function insertAttachment(db: Executor, a: { letterId: string; sha256: string; filename: string; contentType: string; size: number; uploadedBy: string; extractedText: string | null }) {
  const r = await db
    .insertInto('letter_attachments')
    .values({ letter_id: a.letterId, object_sha256: a.sha256, filename: a.filename, content_type: a.contentType, size: a.size, uploaded_by: a.uploadedBy, extracted_text: a.extractedText })
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(r.id);
}

export function listAttachments(db: Executor, letterId: string) {
  return db
    .selectFrom('letter_attachments')
    .select(['id', 'object_sha256', 'filename', 'content_type', 'size', 'created_at'])
    .where('letter_id', '=', letterId)
    .where('removed_at', 'is', null)
    .orderBy('id')
    .execute();
}

export function getAttachment(db: Executor, letterId: string, attachmentId: string) {
  return db.selectFrom('letter_attachments').selectAll().where('letter_id', '=', letterId).where('id', '=', attachmentId).executeTakeFirst();
}

export async function markAttachmentRemoved(db: Executor, letterId: string, attachmentId: string) {
  const r = await db.updateTable('letter_attachments').set({ removed_at: new Date() }).where('letter_id', '=', letterId).where('id', '=', attachmentId).where('removed_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Has this user taken part in the letter's approval chain (any round)? */
export async function isInvolvedReviewer(db: Executor, letterId: string, userId: string, positionIds: string[]) {
  const r = await db
    .selectFrom('approval_steps')
    .select('id')
    .where('letter_id', '=', letterId)
    .where((eb) => eb.or([eb('actor_id', '=', userId), ...(positionIds.length ? [eb('position_id', 'in', positionIds)] : [])]))
    .limit(1)
    .executeTakeFirst();
  return !!r;
}

export async function isRecipient(db: Executor, letterId: string, userId: string, unitId: string | null, positionId: string | null) {
  const r = await db
    .selectFrom('letter_recipients')
    .select('id')
    .where('letter_id', '=', letterId)
    .where((eb) =>
      eb.or([
        eb('user_id', '=', userId),
        ...(unitId ? [eb('unit_id', '=', unitId)] : []),
        ...(positionId ? [eb('position_id', '=', positionId)] : []),
      ]),
    )
    .limit(1)
    .executeTakeFirst();
  return !!r || (await receivedThroughDispatch(db, letterId, userId));
}

/** Delivered to the user (e.g. the agendaris of a unit without a head), or handed to them by disposisi. */
async function receivedThroughDispatch(db: Executor, letterId: string, userId: string) {
  const r = await db
    .selectFrom('deliveries')
    .select('id')
    .where('letter_id', '=', letterId)
    .where('user_id', '=', userId)
    .union(
      db
        .selectFrom('disposisi as d')
        .innerJoin('incoming_letters as i', 'i.id', 'd.incoming_letter_id')
        .select('d.id')
        .where('i.letter_id', '=', letterId)
        .where('d.to_user_id', '=', userId),
    )
    .limit(1)
    .executeTakeFirst();
  return !!r;
}

export async function insertNotifications(db: Executor, userIds: string[], letterId: string, kind: string, params: Record<string, unknown>) {
  const unique = [...new Set(userIds)];
  if (!unique.length) return;
  await db.insertInto('notifications').values(unique.map((u) => ({ user_id: u, letter_id: letterId, kind, params: JSON.stringify(params) }))).execute();
}

export type InboxBox = 'action' | 'drafts' | 'in_progress' | 'done';

export interface InboxFilter {
  q?: string;
  kind?: string;
  urgency?: string;
}

/** One query per box; each is served by an index on (who, updated_at). */
export function inboxQuery(db: Executor, box: InboxBox, userId: string, actingPositionIds: string[], f: InboxFilter) {
  let q = db
    .selectFrom('letters as l')
    .innerJoin('letter_kinds as k', 'k.code', 'l.kind_code')
    .innerJoin('users as d', 'd.id', 'l.drafter_id');
  let w = q.where((eb) => {
    switch (box) {
      case 'action':
        return eb.or([
          eb('l.awaiting_user_id', '=', userId),
          ...(actingPositionIds.length ? [eb('l.awaiting_position_id', 'in', actingPositionIds)] : []),
        ]);
      case 'drafts':
        return eb.and([eb('l.drafter_id', '=', userId), eb('l.state', 'in', ['draft', 'returned'])]);
      case 'in_progress':
        return eb.and([eb('l.drafter_id', '=', userId), eb('l.state', 'in', ['in_review', 'approved'])]);
      case 'done':
        return eb.and([
          eb('l.state', 'in', ['signed', 'dispatched', 'cancelled']),
          eb.or([
            eb('l.drafter_id', '=', userId),
            eb('l.signer_id', '=', userId),
            eb.exists(eb.selectFrom('approval_steps as s').select('s.id').whereRef('s.letter_id', '=', 'l.id').where('s.actor_id', '=', userId)),
          ]),
        ]);
    }
  });
  if (f.q) w = w.where(sql<boolean>`l.subject ILIKE ${'%' + f.q.replace(/[\\%_]/g, (c) => '\\' + c) + '%'}`);
  if (f.kind) w = w.where('l.kind_code', '=', f.kind);
  if (f.urgency) w = w.where('l.urgency', '=', f.urgency as 'biasa');
  return w;
}

export async function unreadNotificationCount(db: Executor, userId: string) {
  const r = await db.selectFrom('notifications').select((eb) => eb.fn.countAll<string>().as('n')).where('user_id', '=', userId).where('read_at', 'is', null).executeTakeFirstOrThrow();
  return Number(r.n);
}

export function listNotifications(db: Executor, userId: string, limit: number, offset: number) {
  return db
    .selectFrom('notifications as n')
    .leftJoin('letters as l', 'l.id', 'n.letter_id')
    .select(['n.id', 'n.kind', 'n.params', 'n.created_at', 'n.read_at', 'n.letter_id', 'l.subject'])
    .where('n.user_id', '=', userId)
    .orderBy('n.id', 'desc')
    .limit(limit)
    .offset(offset)
    .execute();
}

export async function markNotificationsRead(db: Executor, userId: string, letterId?: string) {
  let q = db.updateTable('notifications').set({ read_at: new Date() }).where('user_id', '=', userId).where('read_at', 'is', null);
  if (letterId) q = q.where('letter_id', '=', letterId);
  await q.execute();
}
