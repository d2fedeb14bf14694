// Dispatch: dispatchLetter (a signed letter reaches its readers), the start-up
// sweep, registerIncoming (paper, e-mail, exchange), Surat Masuk, read receipts,
// disposisi (forward, done, close) and the sender's "Terkirim" view.
// Every change runs in one transaction with its audit entry.
import { z } from 'zod';
import type { AppContext } from '../../platform/context.js';
import type { Executor } from '../../platform/db/index.js';
import { appendAudit, type Actor } from '../../platform/audit/index.js';
import { actorOf, type CurrentUser } from '../../platform/auth/current-user.js';
import { can } from '../../platform/auth/permissions.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../platform/http/errors.js';
import { parseInput, fieldError } from '../../platform/http/validate.js';
import { allocateNumber } from '../numbering/service.js';
import { findSeries } from '../numbering/repo.js';
import { findTransition } from '../letters/state.js';
import { auditRead } from '../archive/access.js';
import { ALLOWED_ATTACHMENTS } from '../letters/attachments.js';
import * as lettersRepo from '../letters/repo.js';
import { getLetterForRead, URGENCIES, SECURITY_CLASSES, type ReplyLink } from '../letters/service.js';
import { queueExchange } from '../exchange/queue.js';
import { jakartaDate } from '../org/hierarchy.js';
import { accessToIncoming, intakeUnits, unitRecipients } from './policy.js';
import { INSTRUCTIONS, nextIncomingState } from './state.js';
import * as repo from './repo.js';
import { extractSearchText, syncIncomingRecord, syncLetterRecord } from '../archive/records.js';
import { refuseDestroyed } from '../archive/disposal-gone.js';

const SYSTEM: Actor = { id: null, name: 'system' };
const ID = /^\d{1,18}$/;

// ---------- registering what arrived ----------

export interface IncomingInput {
  unitId: string;
  source: 'internal' | 'paper' | 'email' | 'exchange';
  letterId?: string | null;
  senderName: string;
  senderNumber?: string | null;
  senderDate?: string | null;
  subject: string;
  urgency: 'biasa' | 'segera' | 'sangat_segera';
  securityClass: 'biasa' | 'terbatas' | 'rahasia' | 'sangat_rahasia';
  classificationCode?: string | null;
  pdfSha256?: string | null;
  externalRef?: string | null;
  registeredBy?: string | null;
  /** Text of the scan, for archive search (archive/records.ts extractSearchText). */
  extractedText?: string | null;
}

/**
 * The row and its agenda number from the unit's incoming series (or the nearest
 * ancestor's). A unit without such a series still receives: no agenda number.
 */
async function createIncoming(trx: Executor, input: IncomingInput) {
  const now = new Date();
  const series = await findSeries(trx, input.unitId, 'incoming', null);
  const number = series
    ? await allocateNumber(trx, { scope: 'incoming', unitId: input.unitId, kindCode: null, classificationCode: input.classificationCode ?? '', securityClass: input.securityClass, positionCode: '', date: now, letterId: null, issuedBy: input.registeredBy ?? null })
    : null;
  const id = await repo.insertIncoming(trx, {
    unit_id: input.unitId,
    source: input.source,
    letter_id: input.letterId ?? null,
    sender_name: input.senderName,
    sender_number: input.senderNumber ?? null,
    sender_date: input.senderDate ?? null,
    subject: input.subject,
    urgency: input.urgency,
    security_class: input.securityClass,
    classification_code: input.classificationCode ?? null,
    pdf_sha256: input.pdfSha256 ?? null,
    agenda_number: number?.number ?? null,
    issued_number_id: number?.id ?? null,
    registered_by: input.registeredBy ?? null,
    registered_at: now,
    external_ref: input.externalRef ?? null,
    extracted_text: input.extractedText ?? null,
  });
  await syncIncomingRecord(trx, id);
  return (await repo.getIncoming(trx, id))!;
}

/** A received letter changes state; its archival record follows in the same transaction. */
async function transitionIncoming(trx: Executor, id: string, from: string, to: string): Promise<boolean> {
  const moved = await repo.transitionIncoming(trx, id, from, to);
  if (moved) await syncIncomingRecord(trx, id);
  return moved;
}

/**
 * Registers a letter that came from outside (paper, e-mail, exchange) and sends
 * it to the unit head (a delivery and a notification). Idempotent on
 * (source, externalRef): the same message twice gives the first row back.
 * Runs in the caller's transaction (the exchange receiver calls it too).
 */
export async function registerIncoming(trx: Executor, input: IncomingInput) {
  if (input.externalRef) {
    const existing = await repo.findByExternalRef(trx, input.source, input.externalRef);
    if (existing) return (await repo.getIncoming(trx, String(existing.id)))!;
  }
  const row = await createIncoming(trx, input);
  const people = await unitRecipients(trx, input.unitId);
  await repo.insertDeliveries(trx, people.map((userId) => ({ letterId: null, role: 'to' as const, userId, incomingId: String(row.id) })));
  await insertIncomingNotifications(trx, people, null, { subject: input.subject, agenda: row.agenda_number });
  const actor = input.registeredBy ? await actorById(trx, input.registeredBy) : SYSTEM;
  await appendAudit(trx, actor, { action: 'incoming.registered', objectType: 'incoming_letter', objectId: String(row.id), docSha256: input.pdfSha256 ?? undefined, details: { source: input.source, agendaNumber: row.agenda_number, externalRef: input.externalRef ?? null, deliveredTo: people } });
  return row;
}

async function actorById(db: Executor, userId: string): Promise<Actor> {
  const u = await db.selectFrom('users').select('username').where('id', '=', userId).executeTakeFirst();
  return { id: userId, name: u?.username ?? null };
}

async function insertIncomingNotifications(db: Executor, userIds: string[], letterId: string | null, params: Record<string, unknown>) {
  const unique = [...new Set(userIds)];
  if (!unique.length) return;
  await db.insertInto('notifications').values(unique.map((u) => ({ user_id: u, letter_id: letterId, kind: 'incoming', params: JSON.stringify(params) }))).execute();
}

const registerSchema = z.object({
  senderName: z.string().trim().min(1).max(300),
  senderNumber: z.string().trim().max(200).optional().transform((v) => v || null),
  senderDate: z.string().trim().regex(/^\d{4}-\d{2}-\d{2}$/).optional().or(z.literal('').transform(() => undefined)),
  subject: z.string().trim().min(1).max(500),
  urgency: z.enum(URGENCIES),
  securityClass: z.enum(SECURITY_CLASSES),
  classificationCode: z.string().trim().max(40).optional().transform((v) => v || null),
  source: z.enum(['paper', 'email']).default('paper'),
});

/** The agendaris registers a paper or e-mail letter with its scan; it goes to the head of the agendaris's agency. */
export async function registerByAgendaris(ctx: AppContext, user: CurrentUser, input: unknown, scan: { bytes: Buffer; contentType: string } | undefined) {
  if (!can(user, 'incoming.register')) throw new ForbiddenError('dispatch.not_agendaris');
  const d = parseInput(registerSchema, input);
  if (!scan) throw fieldError('file', 'dispatch.no_scan');
  if (!['application/pdf', 'image/jpeg', 'image/png'].includes(scan.contentType)) throw fieldError('file', 'dispatch.scan_type');
  if (!user.unitId) throw new ValidationError('dispatch.no_incoming_series');
  const extractedText = await extractSearchText(scan.bytes, scan.contentType);
  return ctx.db.transaction().execute(async (trx) => {
    // The agency whose agenda the clerk keeps: the unit owning the series that numbers their intake.
    const series = await findSeries(trx, user.unitId!, 'incoming', null);
    if (!series) throw new ValidationError('dispatch.no_incoming_series');
    const owner = await trx.selectFrom('number_series').select('unit_id').where('id', '=', series.id).executeTakeFirstOrThrow();
    if (d.classificationCode && !(await lettersRepo.getClassification(trx, d.classificationCode))) throw fieldError('classificationCode', 'letters.unknown_classification');
    const stored = await ctx.store.put(trx, scan.bytes, scan.contentType, user.id);
    return registerIncoming(trx, { ...d, senderDate: d.senderDate ?? null, unitId: String(owner.unit_id), pdfSha256: stored.sha256, registeredBy: user.id, extractedText });
  });
}

// ---------- dispatching our own signed letters ----------

interface Reached {
  userId: string;
  role: 'to' | 'cc';
  unitId: string;
}

/**
 * The people a letter's internal addressees reach, grouped by the unit that
 * receives it for them. A unit or position addressee receives it (and numbers it
 * in its agenda) even with nobody in office: whoever takes the post finds it.
 */
async function resolveInternal(db: Executor, recipients: Awaited<ReturnType<typeof repo.recipientsOf>>): Promise<Map<string, Reached[]>> {
  const out = new Map<string, Reached>();
  const units = new Set<string>();
  const add = (userId: string, role: 'to' | 'cc', unitId: string | undefined) => {
    if (!unitId) return;
    const had = out.get(userId);
    // Addressed and copied: the stronger role wins.
    if (!had || (had.role === 'cc' && role === 'to')) out.set(userId, { userId, role, unitId });
  };
  for (const r of recipients) {
    if (r.user_id) add(String(r.user_id), r.role, await repo.unitOfUser(db, String(r.user_id)));
    else if (r.position_id) {
      const unit = await repo.unitOfPosition(db, String(r.position_id));
      if (unit) units.add(unit);
      for (const u of await repo.positionHolderIds(db, String(r.position_id))) add(u, r.role, unit);
    } else if (r.unit_id) {
      units.add(String(r.unit_id));
      for (const u of await unitRecipients(db, String(r.unit_id))) add(u, r.role, String(r.unit_id));
    }
  }
  const byUnit = new Map<string, Reached[]>([...units].map((u) => [u, []]));
  for (const r of out.values()) byUnit.set(r.unitId, [...(byUnit.get(r.unitId) ?? []), r]);
  return byUnit;
}

/**
 * Sends a signed letter to its readers in one transaction: an incoming letter
 * with an agenda number per receiving unit, a delivery per person, an outbound
 * message per external addressee (e-mail, or a peer agency over the exchange),
 * notifications, `signed -> dispatched`, audit. A letter not (or no longer)
 * `signed` is left alone: calling twice is harmless.
 */
export async function dispatchLetter(ctx: AppContext, letterId: string): Promise<{ dispatched: boolean }> {
  return ctx.db.transaction().execute(async (trx) => {
    const letter = await lettersRepo.lockLetter(trx, letterId);
    const t = letter && findTransition(letter.state, 'dispatch');
    if (!letter || !t) return { dispatched: false };
    const sender = await trx.selectFrom('units').select('name').where('id', '=', letter.unit_id).executeTakeFirstOrThrow();
    const pdf = (await trx.selectFrom('letter_signatures').select('pdf_sha256').where('letter_id', '=', letterId).executeTakeFirst())?.pdf_sha256 ?? null;
    const recipients = await repo.recipientsOf(trx, letterId);
    const byUnit = await resolveInternal(trx, recipients);
    const reached = [...byUnit.values()].flat();
    const incoming: { unitId: string; agendaNumber: string | null }[] = [];
    for (const [unitId, people] of byUnit) {
      const row = await createIncoming(trx, {
        unitId,
        source: 'internal',
        letterId,
        senderName: sender.name,
        senderNumber: letter.number,
        senderDate: letter.signed_at ? jakartaDate(letter.signed_at) : null,
        subject: letter.subject,
        urgency: letter.urgency,
        securityClass: letter.security_class,
        classificationCode: letter.classification_code,
        pdfSha256: pdf,
      });
      await repo.insertDeliveries(trx, people.map((p) => ({ letterId, role: p.role, userId: p.userId, incomingId: String(row.id) })));
      incoming.push({ unitId, agendaNumber: row.agenda_number });
    }
    const external = recipients.filter((r) => r.ext_name && r.ext_email);
    await repo.insertOutbound(trx, external.map((r) => ({ letterId, recipientId: String(r.id), address: r.ext_email! })));
    const exchanged = await queueExchange(trx, letterId);
    await insertIncomingNotifications(trx, reached.map((r) => r.userId), letterId, { subject: letter.subject, number: letter.number });
    if (!(await lettersRepo.transitionLetter(trx, letterId, letter.state, { state: t.to }))) throw new ConflictError('letters.changed_meanwhile');
    await syncLetterRecord(trx, letterId);
    await appendAudit(trx, SYSTEM, {
      action: 'letter.dispatched',
      objectType: 'letter',
      objectId: letterId,
      docSha256: pdf ?? undefined,
      details: { number: letter.number, incoming, deliveries: reached.length, email: external.length, exchange: exchanged },
    });
    return { dispatched: true };
  });
}

/** At start-up: letters left `signed` (a crash between signing and dispatch) are dispatched now. */
export async function dispatchPending(ctx: AppContext): Promise<number> {
  let n = 0;
  for (const { id } of await repo.signedLetterIds(ctx.db)) {
    try {
      if ((await dispatchLetter(ctx, String(id))).dispatched) n++;
    } catch (err) {
      ctx.logger.error({ err, letterId: String(id) }, 'dispatch sweep: letter failed');
    }
  }
  return n;
}

/** After signing: the letter is signed whatever happens here; a failure is logged and the start-up sweep retries. */
export async function dispatchAfterSigning(ctx: AppContext, letterId: string): Promise<void> {
  try {
    await dispatchLetter(ctx, letterId);
  } catch (err) {
    ctx.logger.error({ err, letterId }, 'dispatch after signing failed; the start-up sweep will retry');
  }
}

// ---------- Surat Masuk ----------

export async function listIncoming(ctx: AppContext, user: CurrentUser, page: { size: number; offset: number }, filter: repo.IncomingFilter) {
  const scope = { userId: user.id, unitIds: await intakeUnits(ctx.db, user) };
  const { q, unread } = repo.incomingQuery(ctx.db, scope, filter);
  const [items, total] = await Promise.all([
    q
      .innerJoin('units as n', 'n.id', 'i.unit_id')
      .select(['i.id', 'i.agenda_number', 'i.source', 'i.sender_name', 'i.sender_number', 'i.subject', 'i.urgency', 'i.security_class', 'i.state', 'i.registered_at', 'i.letter_id', 'n.name as unit_name', unread.as('unread')])
      .orderBy('i.registered_at', 'desc')
      .orderBy('i.id', 'desc')
      .limit(page.size)
      .offset(page.offset)
      .execute(),
    q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items, total: Number(total.n) };
}

export async function unreadCount(ctx: AppContext, user: CurrentUser): Promise<number> {
  const { q } = repo.incomingQuery(ctx.db, { userId: user.id, unitIds: [] }, { unread: true });
  return Number((await q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
}

async function loadVisible(db: Executor, user: CurrentUser, id: string) {
  if (!ID.test(id)) throw new NotFoundError();
  const incoming = await repo.getIncoming(db, id);
  if (!incoming) throw new NotFoundError();
  const tree = await repo.disposisiOf(db, id);
  const access = await accessToIncoming(db, user, incoming, tree);
  if (!access.canView) throw new NotFoundError();
  return { incoming, tree, access };
}

/** The received letter as its page shows it; opening it records the read receipt (once). */
export async function openIncoming(ctx: AppContext, user: CurrentUser, id: string) {
  const v = await loadVisible(ctx.db, user, id);
  await ctx.db.transaction().execute(async (trx) => {
    if (await repo.markRead(trx, id, user.id)) {
      await appendAudit(trx, actorOf(user), { action: 'incoming.read', objectType: 'incoming_letter', objectId: id, details: { letterId: v.incoming.letter_id } });
    }
  });
  await auditRead(ctx.db, user, { objectType: 'incoming_letter', objectId: id, securityClass: v.incoming.security_class, what: 'page' });
  const [subordinates, replies] = await Promise.all([
    v.access.canDispose && user.positionId ? repo.subordinatePositionIds(ctx.db, user.positionId).then((ids) => repo.subordinateUsers(ctx.db, ids)) : [],
    repo.repliesOf(ctx.db, id),
  ]);
  return { ...v, subordinates, replies };
}

/** The signed PDF or the scan; opening a Rahasia or Sangat Rahasia one is recorded, as for letters. */
export async function incomingPdf(ctx: AppContext, user: CurrentUser, id: string) {
  const { incoming } = await loadVisible(ctx.db, user, id);
  if (!incoming.pdf_sha256) throw new NotFoundError();
  await auditRead(ctx.db, user, { objectType: 'incoming_letter', objectId: id, securityClass: incoming.security_class, what: 'scan', docSha256: incoming.pdf_sha256 });
  return storedFile(ctx, incoming.pdf_sha256, `surat-masuk-${id}`);
}

/** The attachment of a disposisi's completion report, for anyone who may see the received letter. */
export async function disposisiAttachment(ctx: AppContext, user: CurrentUser, disposisiId: string) {
  if (!ID.test(disposisiId)) throw new NotFoundError();
  const x = await ctx.db.selectFrom('disposisi').select(['incoming_letter_id', 'done_attachment_sha256']).where('id', '=', disposisiId).executeTakeFirst();
  if (!x) throw new NotFoundError();
  const { incoming } = await loadVisible(ctx.db, user, String(x.incoming_letter_id));
  if (!x.done_attachment_sha256) throw new NotFoundError();
  await auditRead(ctx.db, user, { objectType: 'incoming_letter', objectId: String(incoming.id), securityClass: incoming.security_class, what: 'disposisi_attachment', docSha256: x.done_attachment_sha256, details: { disposisiId } });
  return storedFile(ctx, x.done_attachment_sha256, `disposisi-${disposisiId}`);
}

const EXTENSIONS: Record<string, string> = Object.fromEntries(Object.entries(ALLOWED_ATTACHMENTS).map(([ext, r]) => [r.mime, ext]));

async function storedFile(ctx: AppContext, sha256: string, base: string) {
  const meta = await ctx.db.selectFrom('objects').select('content_type').where('sha256', '=', sha256).executeTakeFirstOrThrow();
  await refuseDestroyed(ctx.db, sha256);
  return { bytes: await ctx.store.get(sha256), contentType: meta.content_type, filename: `${base}.${EXTENSIONS[meta.content_type] ?? 'bin'}` };
}

/** For the lembar disposisi and the API: the received letter and its tree, for anyone who may see it. */
export async function incomingWithTree(ctx: AppContext, user: CurrentUser, id: string) {
  return loadVisible(ctx.db, user, id);
}

// ---------- disposisi ----------

const disposeSchema = z.object({
  to: z.array(z.string().trim().min(1).max(50)).min(1).max(50),
  instructions: z.array(z.enum(INSTRUCTIONS)).max(INSTRUCTIONS.length).default([]),
  note: z.string().trim().max(2000).optional().transform((v) => v || null),
  dueDate: z.string().trim().regex(/^\d{4}-\d{2}-\d{2}$/).optional().or(z.literal('').transform(() => undefined)),
}).strict();

/** Forwards a received letter to subordinates (positions below the user's); anyone else is refused as a whole. */
export async function dispose(ctx: AppContext, user: CurrentUser, incomingId: string, input: unknown) {
  const d = parseInput(disposeSchema, input);
  return ctx.db.transaction().execute(async (trx) => {
    const { incoming, access } = await loadVisible(trx, user, incomingId);
    if (!access.canDispose || !user.positionId) throw new ForbiddenError('dispatch.may_not_dispose');
    const names = [...new Set(d.to.map((n) => n.toLowerCase()))];
    const targets = await repo.usersByUsername(trx, names);
    const unknown = names.find((n) => !targets.some((t) => t.username === n));
    if (unknown) throw fieldError('to', 'dispatch.unknown_user', { name: unknown });
    const below = new Set(await repo.subordinatePositionIds(trx, user.positionId));
    if (targets.some((t) => !t.position_id || !below.has(String(t.position_id)))) throw new ForbiddenError('dispatch.not_subordinate');
    const next = nextIncomingState(incoming.state, 'dispose');
    if (!next) throw new ConflictError('letters.wrong_state', { state: incoming.state });
    const ids = await repo.insertDisposisi(trx, targets.map((t) => ({ incomingId, parentId: access.openToMe, fromUserId: user.id, toUserId: String(t.id), instructions: d.instructions, note: d.note, dueDate: d.dueDate ?? null })));
    if (next !== incoming.state && !(await transitionIncoming(trx, incomingId, incoming.state, next))) throw new ConflictError('letters.changed_meanwhile');
    await trx.insertInto('notifications').values(targets.map((t) => ({ user_id: t.id, letter_id: incoming.letter_id, kind: 'disposisi', params: JSON.stringify({ subject: incoming.subject, by: user.name, incomingId }) }))).execute();
    await appendAudit(trx, actorOf(user), { action: 'disposisi.created', objectType: 'incoming_letter', objectId: incomingId, details: { disposisi: ids, to: names, instructions: d.instructions, dueDate: d.dueDate ?? null, parentId: access.openToMe } });
    return ids;
  });
}

const doneSchema = z.object({ note: z.string().trim().min(1).max(2000) }).strict();

/** The holder of a disposisi reports it done; when none is left open, the received letter is done too. */
export async function completeDisposisi(ctx: AppContext, user: CurrentUser, disposisiId: string, input: unknown, file?: { bytes: Buffer; contentType: string }) {
  const d = parseInput(doneSchema, input);
  if (!ID.test(disposisiId)) throw new NotFoundError();
  return ctx.db.transaction().execute(async (trx) => {
    const x = await repo.lockDisposisi(trx, disposisiId);
    if (!x) throw new NotFoundError();
    await loadVisible(trx, user, String(x.incoming_letter_id));
    if (String(x.to_user_id) !== user.id) throw new ForbiddenError();
    if (x.state !== 'open') throw new ConflictError('dispatch.already_done');
    const stored = file ? await ctx.store.put(trx, file.bytes, file.contentType, user.id) : null;
    if (!(await repo.markDisposisiDone(trx, disposisiId, d.note, stored?.sha256 ?? null))) throw new ConflictError('dispatch.already_done');
    const incomingId = String(x.incoming_letter_id);
    let incomingDone = false;
    if ((await repo.openDisposisiCount(trx, incomingId)) === 0) {
      const inc = (await repo.getIncoming(trx, incomingId))!;
      const next = nextIncomingState(inc.state, 'all_done');
      if (next) incomingDone = await transitionIncoming(trx, incomingId, inc.state, next);
    }
    await appendAudit(trx, actorOf(user), { action: 'disposisi.done', objectType: 'disposisi', objectId: disposisiId, docSha256: stored?.sha256, details: { incomingId, incomingDone } });
    return { incomingId, incomingDone };
  });
}

const replySchema = z.object({ note: z.string().trim().min(1).max(2000) }).strict();

/** A note on a disposisi between its sender and its holder (a question, an interim report); it stays open. */
export async function replyToDisposisi(ctx: AppContext, user: CurrentUser, disposisiId: string, input: unknown) {
  const d = parseInput(replySchema, input);
  if (!ID.test(disposisiId)) throw new NotFoundError();
  return ctx.db.transaction().execute(async (trx) => {
    const x = await repo.lockDisposisi(trx, disposisiId);
    if (!x) throw new NotFoundError();
    const { incoming } = await loadVisible(trx, user, String(x.incoming_letter_id));
    const other = String(x.to_user_id) === user.id ? String(x.from_user_id) : String(x.from_user_id) === user.id ? String(x.to_user_id) : null;
    if (!other) throw new ForbiddenError();
    await repo.insertReply(trx, disposisiId, user.id, d.note);
    await trx.insertInto('notifications').values({ user_id: other, letter_id: incoming.letter_id, kind: 'disposisi_reply', params: JSON.stringify({ subject: incoming.subject, by: user.name, incomingId: String(incoming.id) }) }).execute();
    await appendAudit(trx, actorOf(user), { action: 'disposisi.replied', objectType: 'disposisi', objectId: disposisiId, details: { incomingId: String(incoming.id) } });
    return { incomingId: String(incoming.id) };
  });
}

/** The unit head (or whoever received it) closes the received letter, open disposisi or not. */
export async function closeIncoming(ctx: AppContext, user: CurrentUser, incomingId: string) {
  await ctx.db.transaction().execute(async (trx) => {
    const { incoming, access } = await loadVisible(trx, user, incomingId);
    if (!access.isHead && !(await repo.deliveryOf(trx, incomingId, user.id))) throw new ForbiddenError('dispatch.may_not_dispose');
    const next = nextIncomingState(incoming.state, 'close');
    if (!next || !(await transitionIncoming(trx, incomingId, incoming.state, next))) throw new ConflictError('letters.wrong_state', { state: incoming.state });
    await appendAudit(trx, actorOf(user), { action: 'incoming.closed', objectType: 'incoming_letter', objectId: incomingId, details: { from: incoming.state } });
  });
}

// ---------- the sender's view ----------

/** Per internal recipient delivered/read, per external addressee the outbound status: for the drafter and the signer. */
export async function sentReport(ctx: AppContext, user: CurrentUser, letterId: string) {
  const { letter, access } = await getLetterForRead(ctx, user, letterId);
  if (!access.capacities.has('drafter') && !access.capacities.has('signer')) throw new ForbiddenError();
  const [deliveries, outbound] = await Promise.all([repo.deliveriesOfLetter(ctx.db, letterId), repo.outboundOfLetter(ctx.db, letterId)]);
  return { letter, deliveries, outbound };
}

// ---------- "Balas": a reply to a received letter ----------

/**
 * What the drafting form starts with when replying: "Balasan: <hal>", addressed
 * to the sender (their unit when it was our own letter), same classification.
 */
export async function replyPrefill(ctx: AppContext, user: CurrentUser, incomingId: string) {
  const { incoming } = await loadVisible(ctx.db, user, incomingId);
  const origin = incoming.letter_id ? await ctx.db.selectFrom('letters as l').innerJoin('units as n', 'n.id', 'l.unit_id').select('n.code').where('l.id', '=', incoming.letter_id).executeTakeFirst() : undefined;
  return {
    incomingId: String(incoming.id),
    subject: `Balasan: ${incoming.subject}`.slice(0, 500),
    to: origin ? `unit:${origin.code}` : incoming.sender_name,
    classificationCode: incoming.classification_code ?? '',
  };
}

/** The received letter a reply answers: checked before the draft is created (404 for one the user cannot see). */
export async function replyTarget(ctx: AppContext, user: CurrentUser, incomingId: string): Promise<ReplyLink> {
  const { incoming } = await loadVisible(ctx.db, user, incomingId);
  return { incomingId: String(incoming.id), letterId: incoming.letter_id === null ? null : String(incoming.letter_id) };
}
