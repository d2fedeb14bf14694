// SQL for incoming letters, deliveries, outbound messages and disposisi.
import { sql, type Insertable } from 'kysely';
import type { Executor } from '../../platform/db/index.js';
import type { IncomingLetterTable } from '../../platform/db/schema.js';
import { jakartaDate } from '../org/hierarchy.js';

const dateText = (col: string) => sql<string | null>`to_char(${sql.ref(col)}, 'YYYY-MM-DD')`;

// ---------- people ----------

/**
 * Who acts in these positions today: their active holders, and anyone standing in
 * as Plh./Plt. under a delegation in force (the post may be vacant, or its holder away).
 */
async function actingInPositions(db: Executor, positions: { unitId?: string; positionId?: string }): Promise<string[]> {
  const day = jakartaDate(new Date());
  const posFilter = positions.positionId
    ? sql`p.id = ${positions.positionId}`
    : sql`p.unit_id = ${positions.unitId} AND p.is_head`;
  const r = await sql<{ id: string }>`
    SELECT u.id FROM users u JOIN positions p ON p.id = u.position_id
      WHERE ${posFilter} AND p.active AND u.active
    UNION
    SELECT u.id FROM delegations d JOIN positions p ON p.id = d.principal_position_id JOIN users u ON u.id = d.delegate_user_id
      WHERE ${posFilter} AND p.active AND u.active AND d.kind IN ('plh', 'plt') AND d.revoked_at IS NULL
        AND d.starts_on <= ${day} AND d.ends_on >= ${day}
    ORDER BY id`.execute(db);
  return r.rows.map((x) => String(x.id));
}

/** Who acts as head of a unit today (holders of its head position, and its Plh./Plt.). */
export function unitHeadHolders(db: Executor, unitId: string): Promise<string[]> {
  return actingInPositions(db, { unitId });
}

/** Active agendaris whose unit lies in the unit's subtree (the registry of a Dinas sits in its Sekretariat). */
export async function unitAgendaris(db: Executor, unitId: string): Promise<string[]> {
  const r = await sql<{ id: string }>`
    WITH RECURSIVE down(id, depth) AS (
      SELECT id, 0 FROM units WHERE id = ${unitId}
      UNION ALL SELECT u.id, down.depth + 1 FROM units u JOIN down ON u.parent_id = down.id WHERE down.depth < 50
    )
    SELECT us.id FROM users us JOIN positions p ON p.id = us.position_id JOIN down ON down.id = p.unit_id
    WHERE us.active AND 'agendaris' = ANY(us.roles) ORDER BY us.id`.execute(db);
  return r.rows.map((x) => String(x.id));
}

/** Who acts in a position today (its holders, and its Plh./Plt.). */
export function positionHolderIds(db: Executor, positionId: string): Promise<string[]> {
  return actingInPositions(db, { positionId });
}

/** The unit a person works in (through their position), or undefined without one. */
export async function unitOfUser(db: Executor, userId: string): Promise<string | undefined> {
  const r = await db.selectFrom('users as u').innerJoin('positions as p', 'p.id', 'u.position_id').select('p.unit_id').where('u.id', '=', userId).where('u.active', '=', true).executeTakeFirst();
  return r ? String(r.unit_id) : undefined;
}

export async function unitOfPosition(db: Executor, positionId: string): Promise<string | undefined> {
  const r = await db.selectFrom('positions').select('unit_id').where('id', '=', positionId).executeTakeFirst();
  return r ? String(r.unit_id) : undefined;
}

/** The unit whose incoming series numbers this unit's intake (its own or the nearest ancestor's), and that unit's subtree. */
export async function agendaUnits(db: Executor, unitId: string): Promise<string[]> {
  const r = await sql<{ id: string }>`
    WITH RECURSIVE up(id, depth) AS (
      SELECT id, 0 FROM units WHERE id = ${unitId}
      UNION ALL SELECT u.parent_id, up.depth + 1 FROM units u JOIN up ON u.id = up.id WHERE u.parent_id IS NOT NULL AND up.depth < 50
    ), owner AS (
      SELECT s.unit_id AS id FROM number_series s JOIN up ON up.id = s.unit_id
      WHERE s.active AND s.scope = 'incoming' ORDER BY up.depth LIMIT 1
    ), down(id, depth) AS (
      SELECT id, 0 FROM owner
      UNION ALL SELECT u.id, down.depth + 1 FROM units u JOIN down ON u.parent_id = down.id WHERE down.depth < 50
    ) SELECT id FROM down`.execute(db);
  return r.rows.map((x) => String(x.id));
}

/** Positions below this one in the superior tree (cycle-safe), not the position itself. */
export async function subordinatePositionIds(db: Executor, positionId: string): Promise<string[]> {
  const r = await sql<{ id: string }>`
    WITH RECURSIVE down(id, path) AS (
      SELECT id, ARRAY[id] FROM positions WHERE superior_id = ${positionId} AND active
      UNION ALL
      SELECT p.id, down.path || p.id FROM positions p JOIN down ON p.superior_id = down.id
      WHERE p.active AND NOT p.id = ANY(down.path) AND array_length(down.path, 1) < 50
    ) SELECT DISTINCT id FROM down`.execute(db);
  return r.rows.map((x) => String(x.id)).filter((id) => id !== positionId);
}

export function subordinateUsers(db: Executor, positionIds: string[]) {
  if (!positionIds.length) return Promise.resolve([]);
  return db
    .selectFrom('users as u')
    .innerJoin('positions as p', 'p.id', 'u.position_id')
    .select(['u.id', 'u.username', 'u.name', 'p.title as position_title'])
    .where('u.position_id', 'in', positionIds)
    .where('u.active', '=', true)
    .orderBy('u.name')
    .execute();
}

export function usersByUsername(db: Executor, usernames: string[]) {
  return db.selectFrom('users').select(['id', 'username', 'name', 'position_id']).where('username', 'in', usernames).where('active', '=', true).execute();
}

// ---------- letters being dispatched ----------

export function recipientsOf(db: Executor, letterId: string) {
  return db.selectFrom('letter_recipients').select(['id', 'role', 'user_id', 'unit_id', 'position_id', 'ext_name', 'ext_email']).where('letter_id', '=', letterId).orderBy('role', 'desc').orderBy('ord').execute();
}

export function signedLetterIds(db: Executor) {
  return db.selectFrom('letters').select('id').where('state', '=', 'signed').orderBy('id').execute();
}

// ---------- incoming letters ----------

export async function insertIncoming(db: Executor, row: Insertable<IncomingLetterTable>) {
  const r = await db.insertInto('incoming_letters').values(row).returning('id').executeTakeFirstOrThrow();
  return String(r.id);
}

export function findByExternalRef(db: Executor, source: string, externalRef: string) {
  return db.selectFrom('incoming_letters').select('id').where('source', '=', source as 'paper').where('external_ref', '=', externalRef).executeTakeFirst();
}

export function getIncoming(db: Executor, id: string) {
  return db
    .selectFrom('incoming_letters as i')
    .innerJoin('units as n', 'n.id', 'i.unit_id')
    .leftJoin('users as r', 'r.id', 'i.registered_by')
    .selectAll('i')
    .select([dateText('i.sender_date').as('sender_date_text'), 'n.name as unit_name', 'n.code as unit_code', 'r.name as registered_by_name'])
    .where('i.id', '=', id)
    .executeTakeFirst();
}
export type IncomingRow = NonNullable<Awaited<ReturnType<typeof getIncoming>>>;

export async function transitionIncoming(db: Executor, id: string, from: string, to: string) {
  const r = await db.updateTable('incoming_letters').set({ state: to as 'done' }).where('id', '=', id).where('state', '=', from as 'done').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function insertDeliveries(db: Executor, rows: { letterId: string | null; role: 'to' | 'cc'; userId: string; incomingId: string }[]) {
  if (!rows.length) return;
  await db
    .insertInto('deliveries')
    .values(rows.map((d) => ({ letter_id: d.letterId, role: d.role, user_id: d.userId, incoming_letter_id: d.incomingId })))
    .onConflict((oc) => oc.columns(['incoming_letter_id', 'user_id']).doNothing())
    .execute();
}

export function deliveryOf(db: Executor, incomingId: string, userId: string) {
  return db.selectFrom('deliveries').selectAll().where('incoming_letter_id', '=', incomingId).where('user_id', '=', userId).executeTakeFirst();
}

/** First opening only: returns whether this call recorded the read receipt. */
export async function markRead(db: Executor, incomingId: string, userId: string) {
  const now = new Date();
  const d = await db.updateTable('deliveries').set({ read_at: now }).where('incoming_letter_id', '=', incomingId).where('user_id', '=', userId).where('read_at', 'is', null).executeTakeFirst();
  await db.updateTable('disposisi').set({ read_at: now }).where('incoming_letter_id', '=', incomingId).where('to_user_id', '=', userId).where('read_at', 'is', null).execute();
  return Number(d.numUpdatedRows) > 0;
}

export interface IncomingScope {
  userId: string;
  /** Units whose whole intake this user sees (as head or agendaris). */
  unitIds: string[];
}

export interface IncomingFilter {
  q?: string;
  state?: string;
  unread?: boolean;
}

export function incomingQuery(db: Executor, s: IncomingScope, f: IncomingFilter) {
  const unread = sql<boolean>`(EXISTS (SELECT 1 FROM deliveries d WHERE d.incoming_letter_id = i.id AND d.user_id = ${s.userId} AND d.read_at IS NULL)
    OR EXISTS (SELECT 1 FROM disposisi x WHERE x.incoming_letter_id = i.id AND x.to_user_id = ${s.userId} AND x.read_at IS NULL))`;
  let q = db
    .selectFrom('incoming_letters as i')
    .where((eb) =>
      eb.or([
        ...(s.unitIds.length ? [eb('i.unit_id', 'in', s.unitIds)] : []),
        eb.exists(eb.selectFrom('deliveries as d').select('d.id').whereRef('d.incoming_letter_id', '=', 'i.id').where('d.user_id', '=', s.userId)),
        eb.exists(eb.selectFrom('disposisi as x').select('x.id').whereRef('x.incoming_letter_id', '=', 'i.id').where('x.to_user_id', '=', s.userId)),
      ]),
    );
  if (f.q) {
    const like = '%' + f.q.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
    q = q.where(sql<boolean>`(i.subject ILIKE ${like} OR i.sender_name ILIKE ${like} OR i.agenda_number ILIKE ${like})`);
  }
  if (f.state) q = q.where('i.state', '=', f.state as 'done');
  if (f.unread) q = q.where(unread);
  return { q, unread };
}

// ---------- sender's view ----------

export function deliveriesOfLetter(db: Executor, letterId: string) {
  return db
    .selectFrom('deliveries as d')
    .innerJoin('users as u', 'u.id', 'd.user_id')
    .innerJoin('incoming_letters as i', 'i.id', 'd.incoming_letter_id')
    .innerJoin('units as n', 'n.id', 'i.unit_id')
    .select(['d.role', 'd.delivered_at', 'd.read_at', 'u.username', 'u.name', 'n.name as unit_name', 'i.agenda_number'])
    .where('d.letter_id', '=', letterId)
    .orderBy('d.id')
    .execute();
}

export function outboundOfLetter(db: Executor, letterId: string) {
  return db
    .selectFrom('outbound_messages as o')
    .innerJoin('letter_recipients as r', 'r.id', 'o.recipient_id')
    .leftJoin('peers as p', 'p.id', 'o.peer_id')
    // An exchange addressee is a peer agency: its registered name.
    .select((eb) => [eb.fn.coalesce('r.ext_name', 'p.name').as('ext_name')])
    .select(['o.id', 'o.channel', 'o.address', 'o.status', 'o.attempts', 'o.last_error', 'o.sent_at', 'o.created_at', 'r.role'])
    .where('o.letter_id', '=', letterId)
    .orderBy('o.id')
    .execute();
}

export async function insertOutbound(db: Executor, rows: { letterId: string; recipientId: string; address: string }[]) {
  if (!rows.length) return;
  await db
    .insertInto('outbound_messages')
    .values(rows.map((r) => ({ letter_id: r.letterId, recipient_id: r.recipientId, channel: 'email' as const, address: r.address })))
    .onConflict((oc) => oc.columns(['recipient_id', 'channel']).doNothing())
    .execute();
}

// ---------- disposisi ----------

export function disposisiOf(db: Executor, incomingId: string) {
  return db
    .selectFrom('disposisi as x')
    .innerJoin('users as f', 'f.id', 'x.from_user_id')
    .innerJoin('users as t', 't.id', 'x.to_user_id')
    .select([
      'x.id', 'x.parent_id', 'x.from_user_id', 'x.to_user_id', 'x.instructions', 'x.note', 'x.state', 'x.done_note', 'x.done_attachment_sha256',
      'x.created_at', 'x.read_at', 'x.done_at', dateText('x.due_date').as('due_date'), 'f.name as from_name', 't.name as to_name', 't.username as to_username',
      sql<boolean>`x.state = 'open' AND x.due_date < (now() AT TIME ZONE 'Asia/Jakarta')::date`.as('overdue'),
    ])
    .where('x.incoming_letter_id', '=', incomingId)
    .orderBy('x.id')
    .execute();
}
export type DisposisiRow = Awaited<ReturnType<typeof disposisiOf>>[number];

export function lockDisposisi(db: Executor, id: string) {
  return db.selectFrom('disposisi').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function insertDisposisi(db: Executor, rows: { incomingId: string; parentId: string | null; fromUserId: string; toUserId: string; instructions: string[]; note: string | null; dueDate: string | null }[]) {
  const r = await db
    .insertInto('disposisi')
    .values(rows.map((d) => ({ incoming_letter_id: d.incomingId, parent_id: d.parentId, from_user_id: d.fromUserId, to_user_id: d.toUserId, instructions: d.instructions, note: d.note, due_date: d.dueDate })))
    .returning('id')
    .execute();
  return r.map((x) => String(x.id));
}

export async function markDisposisiDone(db: Executor, id: string, note: string, attachment: string | null) {
  const r = await db.updateTable('disposisi').set({ state: 'done', done_note: note, done_attachment_sha256: attachment, done_at: new Date() }).where('id', '=', id).where('state', '=', 'open').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function openDisposisiCount(db: Executor, incomingId: string) {
  const r = await db.selectFrom('disposisi').select((eb) => eb.fn.countAll<string>().as('n')).where('incoming_letter_id', '=', incomingId).where('state', '=', 'open').executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function insertReply(db: Executor, disposisiId: string, userId: string, note: string) {
  await db.insertInto('disposisi_replies').values({ disposisi_id: disposisiId, user_id: userId, note }).execute();
}

export function repliesOf(db: Executor, incomingId: string) {
  return db
    .selectFrom('disposisi_replies as r')
    .innerJoin('disposisi as x', 'x.id', 'r.disposisi_id')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select(['r.id', 'r.disposisi_id', 'r.note', 'r.created_at', 'u.name as user_name'])
    .where('x.incoming_letter_id', '=', incomingId)
    .orderBy('r.id')
    .execute();
}
