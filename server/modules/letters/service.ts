// The letter's life: createDraft, saveVersion, addAttachment, submitForReview,
// approve (paraf), returnToDrafter, withdraw, cancel, and the inboxes.
// Each action looks its transition up in state.ts, runs in one transaction with
// its audit entry, and binds paraf to the SHA-256 of the approved version.
import crypto from 'node:crypto';
import canonicalize from 'canonicalize';
import { z } from 'zod';
import type { AppContext } from '../../platform/context.js';
import type { Executor } from '../../platform/db/index.js';
import type { Letter, LetterContentJson, RecipientJson } from '../../platform/db/schema.js';
import { appendAudit } from '../../platform/audit/index.js';
import { actorOf, type CurrentUser } from '../../platform/auth/current-user.js';
import { can } from '../../platform/auth/permissions.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../platform/http/errors.js';
import { parseInput } from '../../platform/http/validate.js';
import { getPosition, activeDelegationsOf, positionHolders, jakartaDate } from '../org/hierarchy.js';
import * as approvals from '../approvals/service.js';
import * as approvalsRepo from '../approvals/repo.js';
import { canonicalBody, BODY_MAX_CHARS } from './body.js';
import { findTransition, type LetterAction } from './state.js';
import { accessTo } from './policy.js';
import { auditRead } from '../archive/access.js';
import * as repo from './repo.js';
import { extractSearchText, syncLetterRecord } from '../archive/records.js';
import { refuseDestroyed } from '../archive/disposal-gone.js';

export const URGENCIES = ['biasa', 'segera', 'sangat_segera'] as const;
export const SECURITY_CLASSES = ['biasa', 'terbatas', 'rahasia', 'sangat_rahasia'] as const;

const recipientSchema = z.union([
  z.object({ user: z.string().trim().min(1).max(50) }).strict(),
  z.object({ unit: z.string().trim().min(1).max(32) }).strict(),
  z.object({ position: z.string().trim().min(1).max(32) }).strict(),
  z.object({ external: z.object({ name: z.string().trim().min(1).max(200), email: z.string().trim().email().max(254).nullish() }).strict() }).strict(),
  z.object({ peer: z.string().trim().min(1).max(64) }).strict(),
]);

const contentFields = {
  kind: z.string().trim().min(1).max(16),
  subject: z.string().trim().min(1).max(500),
  urgency: z.enum(URGENCIES),
  securityClass: z.enum(SECURITY_CLASSES),
  classificationCode: z.string().trim().min(1).max(40),
  to: z.array(recipientSchema).max(200),
  cc: z.array(recipientSchema).max(200),
  signer: z.string().trim().min(1).max(50),
  body: z.string().max(BODY_MAX_CHARS),
  paper: z.enum(['A4', 'F4']),
};
const createSchema = z.object({ ...contentFields, to: contentFields.to.default([]), cc: contentFields.cc.default([]), body: contentFields.body.default(''), paper: contentFields.paper.default('A4') }).strict();
const updateSchema = z.object({ ...contentFields, version: z.coerce.number().int().positive() }).partial().required({ version: true }).strict();
export type DraftInput = z.input<typeof createSchema>;

export function contentSha256(content: LetterContentJson): string {
  return crypto.createHash('sha256').update(canonicalize(content) ?? '').digest('hex');
}

// ---------- resolving what the user typed into ids ----------

async function resolveRecipients(db: Executor, list: z.infer<typeof recipientSchema>[]): Promise<RecipientJson[]> {
  const out: RecipientJson[] = [];
  for (const r of list) {
    if ('user' in r) {
      const u = await db.selectFrom('users').select(['id', 'username']).where('username', '=', r.user.toLowerCase()).where('active', '=', true).executeTakeFirst();
      if (!u) throw new ValidationError('letters.unknown_recipient', { name: r.user });
      out.push({ user: u.username, userId: String(u.id) });
    } else if ('unit' in r) {
      const u = await db.selectFrom('units').select(['id', 'code']).where('code', '=', r.unit).where('active', '=', true).executeTakeFirst();
      if (!u) throw new ValidationError('letters.unknown_recipient', { name: r.unit });
      out.push({ unit: u.code, unitId: String(u.id) });
    } else if ('position' in r) {
      const p = await db.selectFrom('positions').select(['id', 'code']).where('code', '=', r.position).where('active', '=', true).executeTakeFirst();
      if (!p) throw new ValidationError('letters.unknown_recipient', { name: r.position });
      out.push({ position: p.code, positionId: String(p.id) });
    } else if ('peer' in r) {
      const p = await db.selectFrom('peers').select(['id', 'code', 'name']).where('code', '=', r.peer).where('active', '=', true).executeTakeFirst();
      if (!p) throw new ValidationError('letters.unknown_recipient', { name: r.peer });
      out.push({ peer: p.code, peerId: String(p.id), name: p.name });
    } else {
      out.push({ external: { name: r.external.name, email: r.external.email ?? null } });
    }
  }
  return out;
}

const UNIT_KINDS_OF_AGENCY_HEADS = ['pemda', 'sekretariat_daerah', 'dinas', 'badan', 'inspektorat'];

function positionMeetsRule(rule: string, p: { is_head: boolean; unit_kind: string }): boolean {
  if (!p.is_head) return false;
  if (rule === 'pejabat') return true;
  if (rule === 'kepala_pd') return UNIT_KINDS_OF_AGENCY_HEADS.includes(p.unit_kind);
  return p.unit_kind === 'pemda';
}

/**
 * The signer and in what capacity: in their own right when their position may
 * sign this kind, otherwise a.n./u.b./Plh./Plt. of a position that may, through
 * a delegation in force.
 */
async function resolveSigner(db: Executor, kind: { code: string; signer_rule: string }, username: string): Promise<LetterContentJson['signer']> {
  const u = await db.selectFrom('users').select(['id', 'roles', 'position_id']).where('username', '=', username.toLowerCase()).where('active', '=', true).executeTakeFirst();
  if (!u || !u.position_id || !can({ roles: u.roles }, 'letter.sign')) throw new ValidationError('letters.signer_not_allowed');
  const own = await getPosition(db, String(u.position_id));
  if (own && positionMeetsRule(kind.signer_rule, own)) return { userId: String(u.id), positionId: String(u.position_id), prefix: null, principalPositionId: null };
  for (const d of await activeDelegationsOf(db, String(u.id), ['plt', 'plh', 'an', 'ub'])) {
    const principal = await getPosition(db, d.principalPositionId);
    if (principal && positionMeetsRule(kind.signer_rule, principal)) {
      return { userId: String(u.id), positionId: String(u.position_id), prefix: d.kind, principalPositionId: d.principalPositionId };
    }
  }
  throw new ValidationError('letters.signer_not_allowed');
}

async function buildContent(db: Executor, input: z.infer<typeof createSchema>, attachments: LetterContentJson['attachments']): Promise<LetterContentJson> {
  const kind = await repo.getKind(db, input.kind);
  if (!kind) throw new ValidationError('letters.unknown_kind');
  const cls = await repo.getClassification(db, input.classificationCode);
  if (!cls) throw new ValidationError('letters.unknown_classification');
  return {
    kind: kind.code,
    subject: input.subject,
    urgency: input.urgency,
    securityClass: input.securityClass,
    classificationCode: cls.code,
    paper: input.paper,
    to: await resolveRecipients(db, input.to),
    cc: await resolveRecipients(db, input.cc),
    signer: await resolveSigner(db, kind, input.signer),
    body: canonicalBody(input.body),
    attachments,
  };
}

function recipientRows(content: LetterContentJson) {
  const row = (role: 'to' | 'cc') => (r: RecipientJson) =>
    'userId' in r ? { role, userId: r.userId } : 'unitId' in r ? { role, unitId: r.unitId } : 'positionId' in r ? { role, positionId: r.positionId } : 'peerId' in r ? { role, peerId: r.peerId } : { role, extName: r.external.name, extEmail: r.external.email };
  return [...content.to.map(row('to')), ...content.cc.map(row('cc'))];
}

function letterColumns(c: LetterContentJson) {
  return {
    kind_code: c.kind,
    subject: c.subject,
    urgency: c.urgency as 'biasa',
    security_class: c.securityClass as 'biasa',
    classification_code: c.classificationCode,
    paper: c.paper as 'A4',
    signer_id: c.signer.userId,
    signer_position_id: c.signer.positionId,
    signer_prefix: c.signer.prefix as 'an' | null,
    signer_principal_position_id: c.signer.principalPositionId,
  };
}

// ---------- loading with access checks ----------

/** Loads and locks a letter the user may see, or 404. */
async function loadForAction(trx: Executor, user: CurrentUser, id: string) {
  if (!/^\d{1,18}$/.test(id)) throw new NotFoundError();
  const letter = await repo.lockLetter(trx, id);
  if (!letter) throw new NotFoundError();
  const access = await accessTo(trx, user, letter);
  if (!access.canView) throw new NotFoundError();
  return { letter, access };
}

/** The transition for this action, or the reason it is refused. */
function requireTransition(letter: Letter, action: LetterAction, capacities: Set<string>) {
  const t = findTransition(letter.state, action);
  if (!t) throw new ConflictError(action === 'edit' ? 'letters.not_editable' : 'letters.wrong_state', { state: letter.state });
  if (!capacities.has(t.who)) throw new ForbiddenError(action === 'approve' || action === 'approve_last' || action === 'return' ? 'letters.not_your_turn' : 'letters.not_allowed');
  return t;
}

async function moveLetter(trx: Executor, letter: Letter, to: string, set: Parameters<typeof repo.transitionLetter>[3]) {
  if (!(await repo.transitionLetter(trx, String(letter.id), letter.state, { ...set, state: to }))) throw new ConflictError('letters.changed_meanwhile');
  await syncLetterRecord(trx, String(letter.id));
}

async function notifyPosition(trx: Executor, positionId: string, letterId: string, kind: string, params: Record<string, unknown>) {
  const holders = (await positionHolders(trx, positionId)).map((h) => h.id);
  const actingRows = await trx
    .selectFrom('delegations')
    .select('delegate_user_id')
    .where('principal_position_id', '=', positionId)
    .where('kind', 'in', ['plh', 'plt'])
    .where('revoked_at', 'is', null)
    .where('starts_on', '<=', jakartaDate(new Date()))
    .where('ends_on', '>=', jakartaDate(new Date()))
    .execute();
  await repo.insertNotifications(trx, [...holders, ...actingRows.map((r) => String(r.delegate_user_id))], letterId, kind, params);
}

// ---------- commands ----------

/** What a reply answers: a received letter, and our own letter behind it when it was internal. Checked by the caller. */
export interface ReplyLink {
  incomingId: string;
  letterId: string | null;
}

export async function createDraft(ctx: AppContext, user: CurrentUser, input: unknown, reply?: ReplyLink): Promise<string> {
  if (!can(user, 'letter.draft')) throw new ForbiddenError();
  if (!user.unitId || !user.positionId) throw new ValidationError('letters.drafter_without_position');
  const data = parseInput(createSchema, input);
  return ctx.db.transaction().execute(async (trx) => {
    const content = await buildContent(trx, data, []);
    const sha256 = contentSha256(content);
    const id = await repo.insertLetter(trx, {
      ...letterColumns(content), unit_id: user.unitId!, drafter_id: user.id, drafter_position_id: user.positionId, state: 'draft', version: 1, version_sha256: sha256, awaiting_user_id: null,
      reply_to_incoming_id: reply?.incomingId ?? null, reply_to_letter_id: reply?.letterId ?? null,
    });
    await repo.insertVersion(trx, { letterId: id, version: 1, sha256, content, createdBy: user.id });
    await repo.replaceRecipients(trx, id, recipientRows(content));
    await syncLetterRecord(trx, id);
    await appendAudit(trx, actorOf(user), { action: 'letter.created', objectType: 'letter', objectId: id, docSha256: sha256, details: { version: 1, kind: content.kind, ...(reply ? { replyToIncoming: reply.incomingId } : {}) } });
    return id;
  });
}

/** Saves changed content as a new version; `version` must be the one the user started from. */
export async function saveVersion(ctx: AppContext, user: CurrentUser, id: string, input: unknown) {
  const data = parseInput(updateSchema, input);
  return ctx.db.transaction().execute(async (trx) => {
    const { letter, access } = await loadForAction(trx, user, id);
    requireTransition(letter, 'edit', access.capacities);
    if (data.version !== letter.version) throw new ConflictError('letters.version_conflict', { version: letter.version });
    const current = (await repo.getVersion(trx, id, letter.version))!.content;
    const merged = {
      kind: data.kind ?? current.kind,
      subject: data.subject ?? current.subject,
      urgency: data.urgency ?? (current.urgency as 'biasa'),
      securityClass: data.securityClass ?? (current.securityClass as 'biasa'),
      classificationCode: data.classificationCode ?? current.classificationCode,
      paper: data.paper ?? (current.paper as 'A4'),
      to: data.to ?? recipientInputs(current.to),
      cc: data.cc ?? recipientInputs(current.cc),
      signer: data.signer ?? (await signerUsername(trx, current.signer.userId)),
      body: data.body ?? current.body,
    };
    const content = await buildContent(trx, merged, current.attachments);
    return writeVersion(trx, user, letter, content, 'letter.version_saved');
  });
}

async function writeVersion(trx: Executor, user: CurrentUser, letter: Letter, content: LetterContentJson, action: 'letter.version_saved' | 'letter.attachment_added' | 'letter.attachment_removed', details: Record<string, unknown> = {}) {
  const sha256 = contentSha256(content);
  const id = String(letter.id);
  if (sha256 === letter.version_sha256) return { id, version: letter.version, sha256, changed: false };
  const version = letter.version + 1;
  await repo.insertVersion(trx, { letterId: id, version, sha256, content, createdBy: user.id });
  // Recipients first: moveLetter refreshes the archival record, which lists them.
  await repo.replaceRecipients(trx, id, recipientRows(content));
  await moveLetter(trx, letter, letter.state, { ...letterColumns(content), version, version_sha256: sha256 });
  await appendAudit(trx, actorOf(user), { action, objectType: 'letter', objectId: id, docSha256: sha256, details: { version, ...details } });
  return { id, version, sha256, changed: true };
}

function recipientInputs(list: RecipientJson[]): z.infer<typeof recipientSchema>[] {
  return list.map((r) => ('userId' in r ? { user: r.user } : 'unitId' in r ? { unit: r.unit } : 'positionId' in r ? { position: r.position } : 'peerId' in r ? { peer: r.peer } : { external: r.external }));
}

async function signerUsername(db: Executor, userId: string) {
  return (await db.selectFrom('users').select('username').where('id', '=', userId).executeTakeFirstOrThrow()).username;
}

export interface UploadedFile {
  bytes: Buffer;
  filename: string;
  contentType: string;
}

export async function addAttachment(ctx: AppContext, user: CurrentUser, id: string, file: UploadedFile, baseVersion?: number) {
  // Outside the transaction: parsing a PDF takes a while and needs no lock.
  const extractedText = await extractSearchText(file.bytes, file.contentType);
  return ctx.db.transaction().execute(async (trx) => {
    const { letter, access } = await loadForAction(trx, user, id);
    requireTransition(letter, 'edit', access.capacities);
    if (baseVersion !== undefined && baseVersion !== letter.version) throw new ConflictError('letters.version_conflict', { version: letter.version });
    const current = (await repo.getVersion(trx, id, letter.version))!.content;
    if (current.attachments.length >= 20) throw new ValidationError('letters.too_many_attachments');
    // The object is uploaded before its row is written; on rollback it stays unreferenced, never the reverse.
    const stored = await ctx.store.put(trx, file.bytes, file.contentType, user.id);
    const attachmentId = await repo.insertAttachment(trx, { letterId: id, sha256: stored.sha256, filename: file.filename, contentType: file.contentType, size: file.bytes.length, uploadedBy: user.id, extractedText });
    const content = { ...current, attachments: [...current.attachments, { sha256: stored.sha256, filename: file.filename, size: file.bytes.length, contentType: file.contentType }] };
    const v = await writeVersion(trx, user, letter, content, 'letter.attachment_added', { attachmentId, filename: file.filename, fileSha256: stored.sha256 });
    return { ...v, attachmentId };
  });
}

export async function removeAttachment(ctx: AppContext, user: CurrentUser, id: string, attachmentId: string) {
  return ctx.db.transaction().execute(async (trx) => {
    const { letter, access } = await loadForAction(trx, user, id);
    requireTransition(letter, 'edit', access.capacities);
    if (!/^\d{1,18}$/.test(attachmentId)) throw new NotFoundError();
    const att = await repo.getAttachment(trx, id, attachmentId);
    if (!att || att.removed_at) throw new NotFoundError();
    await repo.markAttachmentRemoved(trx, id, attachmentId);
    const current = (await repo.getVersion(trx, id, letter.version))!.content;
    const idx = current.attachments.findIndex((a) => a.sha256 === att.object_sha256 && a.filename === att.filename);
    const attachments = current.attachments.filter((_, i) => i !== idx);
    return writeVersion(trx, user, letter, { ...current, attachments }, 'letter.attachment_removed', { attachmentId, filename: att.filename });
  });
}

const submitSchema = z.object({ reviewers: z.array(z.string().trim().min(1).max(32)).max(10).optional(), version: z.coerce.number().int().positive().optional() }).strict();

export async function submitForReview(ctx: AppContext, user: CurrentUser, id: string, input: unknown = {}) {
  const data = parseInput(submitSchema, input ?? {});
  return ctx.db.transaction().execute(async (trx) => {
    const { letter, access } = await loadForAction(trx, user, id);
    requireTransition(letter, 'submit', access.capacities);
    if (data.version !== undefined && data.version !== letter.version) throw new ConflictError('letters.version_conflict', { version: letter.version });
    const content = (await repo.getVersion(trx, id, letter.version))!.content;
    const kind = (await repo.getKind(trx, content.kind))!;
    if (kind.needs_addressees && content.to.length === 0) throw new ValidationError('letters.needs_addressees');
    if (!content.body) throw new ValidationError('letters.needs_body');
    const extra: string[] = [];
    for (const code of data.reviewers ?? []) {
      const p = await trx.selectFrom('positions').select('id').where('code', '=', code).where('active', '=', true).executeTakeFirst();
      if (!p) throw new ValidationError('letters.unknown_reviewer');
      extra.push(String(p.id));
    }
    const steps = await approvals.planChain(trx, { kindCode: letter.kind_code, unitId: String(letter.unit_id), drafterPositionId: letter.drafter_position_id === null ? null : String(letter.drafter_position_id), signerPositionId: String(letter.signer_position_id), extraPositionIds: extra });
    const round = letter.review_round + 1;
    await approvalsRepo.insertSteps(trx, id, round, steps);
    const direct = steps.length === 0;
    const t = requireTransition(letter, direct ? 'submit_direct' : 'submit', access.capacities);
    await moveLetter(trx, letter, t.to, {
      review_round: round,
      submitted_at: new Date(),
      approved_at: direct ? new Date() : null,
      awaiting_position_id: direct ? null : steps[0].positionId,
      awaiting_user_id: direct ? letter.signer_id : null,
    });
    if (direct) await repo.insertNotifications(trx, [String(letter.signer_id)], id, 'to_sign', { subject: letter.subject });
    else await notifyPosition(trx, steps[0].positionId, id, 'to_review', { subject: letter.subject });
    await appendAudit(trx, actorOf(user), { action: 'letter.submitted', objectType: 'letter', objectId: id, docSha256: letter.version_sha256, details: { version: letter.version, round, reviewers: steps.map((s) => s.positionId) } });
    return { id, state: t.to };
  });
}

const approveSchema = z.object({ version: z.coerce.number().int().positive(), note: z.string().trim().max(2000).optional() }).strict();

/** Paraf: approves exactly the version the reviewer saw. */
export async function approve(ctx: AppContext, user: CurrentUser, id: string, input: unknown) {
  const data = parseInput(approveSchema, input);
  return ctx.db.transaction().execute(async (trx) => {
    const { letter, access } = await loadForAction(trx, user, id);
    requireTransition(letter, 'approve', access.capacities);
    if (data.version !== letter.version) throw new ConflictError('letters.version_not_current', { version: letter.version });
    const step = await approvalsRepo.currentStep(trx, id, letter.review_round);
    if (!step) throw new ConflictError('letters.wrong_state', { state: letter.state });
    const capacity = await approvals.capacityFor(trx, user, String(step.position_id));
    if (!capacity) throw new ForbiddenError('letters.not_your_turn');
    await approvalsRepo.recordStepAction(trx, String(step.id), { action: 'approved', actorId: user.id, actingAs: capacity.actingAs, onBehalfOfId: capacity.onBehalfOfId, version: letter.version, sha256: letter.version_sha256, note: data.note || null });
    const next = await approvalsRepo.currentStep(trx, id, letter.review_round);
    const t = requireTransition(letter, next ? 'approve' : 'approve_last', access.capacities);
    await moveLetter(trx, letter, t.to, next ? { awaiting_position_id: next.position_id } : { awaiting_position_id: null, awaiting_user_id: letter.signer_id, approved_at: new Date() });
    if (next) await notifyPosition(trx, String(next.position_id), id, 'to_review', { subject: letter.subject });
    else await repo.insertNotifications(trx, [String(letter.signer_id)], id, 'to_sign', { subject: letter.subject });
    await appendAudit(trx, actorOf(user), {
      action: 'letter.approved',
      objectType: 'letter',
      objectId: id,
      docSha256: letter.version_sha256,
      details: { version: letter.version, round: letter.review_round, step: step.ord, actingAs: capacity.actingAs, onBehalfOf: capacity.onBehalfOfId },
    });
    return { id, state: t.to };
  });
}

const returnSchema = z.object({ note: z.string().trim().min(1).max(2000), version: z.coerce.number().int().positive().optional() }).strict();

export async function returnToDrafter(ctx: AppContext, user: CurrentUser, id: string, input: unknown) {
  const data = parseInput(returnSchema, input);
  return ctx.db.transaction().execute(async (trx) => {
    const { letter, access } = await loadForAction(trx, user, id);
    requireTransition(letter, 'return', access.capacities);
    if (data.version !== undefined && data.version !== letter.version) throw new ConflictError('letters.version_not_current', { version: letter.version });
    let actingAs: string = 'self';
    let stepOrd: number | null = null;
    if (letter.state === 'in_review') {
      const step = await approvalsRepo.currentStep(trx, id, letter.review_round);
      const capacity = step && (await approvals.capacityFor(trx, user, String(step.position_id)));
      if (!step || !capacity) throw new ForbiddenError('letters.not_your_turn');
      await approvalsRepo.recordStepAction(trx, String(step.id), { action: 'returned', actorId: user.id, actingAs: capacity.actingAs, onBehalfOfId: capacity.onBehalfOfId, version: letter.version, sha256: letter.version_sha256, note: data.note });
      actingAs = capacity.actingAs;
      stepOrd = step.ord;
    }
    await moveLetter(trx, letter, 'returned', { awaiting_position_id: null, awaiting_user_id: letter.drafter_id, approved_at: null });
    await repo.insertNotifications(trx, [String(letter.drafter_id)], id, 'returned', { subject: letter.subject, by: user.name });
    await appendAudit(trx, actorOf(user), { action: 'letter.returned', objectType: 'letter', objectId: id, docSha256: letter.version_sha256, details: { version: letter.version, round: letter.review_round, step: stepOrd, actingAs, note: data.note } });
    return { id, state: 'returned' };
  });
}

export async function withdraw(ctx: AppContext, user: CurrentUser, id: string) {
  return ctx.db.transaction().execute(async (trx) => {
    const { letter, access } = await loadForAction(trx, user, id);
    const t = requireTransition(letter, 'withdraw', access.capacities);
    if (await approvalsRepo.hasActedInRound(trx, id, letter.review_round)) throw new ConflictError('letters.cannot_withdraw');
    await approvalsRepo.deleteUnactedSteps(trx, id, letter.review_round);
    await moveLetter(trx, letter, t.to, { awaiting_position_id: null, awaiting_user_id: null, review_round: letter.review_round - 1 });
    await appendAudit(trx, actorOf(user), { action: 'letter.withdrawn', objectType: 'letter', objectId: id, docSha256: letter.version_sha256 });
    return { id, state: t.to };
  });
}

export async function cancel(ctx: AppContext, user: CurrentUser, id: string, input: unknown) {
  const data = parseInput(z.object({ reason: z.string().trim().min(1).max(1000) }).strict(), input);
  return ctx.db.transaction().execute(async (trx) => {
    const { letter, access } = await loadForAction(trx, user, id);
    const t = requireTransition(letter, 'cancel', access.capacities);
    await moveLetter(trx, letter, t.to, { awaiting_position_id: null, awaiting_user_id: null });
    await appendAudit(trx, actorOf(user), { action: 'letter.cancelled', objectType: 'letter', objectId: id, docSha256: letter.version_sha256, details: { reason: data.reason } });
    return { id, state: t.to };
  });
}

// ---------- reading ----------

export async function getLetter(ctx: AppContext, user: CurrentUser, id: string) {
  if (!/^\d{1,18}$/.test(id)) throw new NotFoundError();
  const letter = await repo.getLetter(ctx.db, id);
  if (!letter) throw new NotFoundError();
  const access = await accessTo(ctx.db, user, letter);
  if (!access.canView) throw new NotFoundError();
  await auditRead(ctx.db, user, { objectType: 'letter', objectId: id, securityClass: letter.security_class, what: 'page' });
  const [version, recipients, attachments, steps, versions, kind, classification] = await Promise.all([
    repo.getVersion(ctx.db, id, letter.version),
    repo.listRecipients(ctx.db, id),
    repo.listAttachments(ctx.db, id),
    approvalsRepo.stepsOf(ctx.db, id),
    repo.listVersions(ctx.db, id),
    ctx.db.selectFrom('letter_kinds').selectAll().where('code', '=', letter.kind_code).executeTakeFirstOrThrow(),
    ctx.db.selectFrom('classification_codes').selectAll().where('code', '=', letter.classification_code).executeTakeFirstOrThrow(),
  ]);
  await repo.markNotificationsRead(ctx.db, user.id, id);
  return { letter, content: version!.content, recipients, attachments, steps, versions, kind, classification, access };
}

/** A version's content, for previews and diffs; same access rule as the letter. */
export async function getVersionContent(ctx: AppContext, user: CurrentUser, id: string, version: number) {
  const { letter } = await getLetterForRead(ctx, user, id);
  const v = Number.isInteger(version) && version > 0 ? await repo.getVersion(ctx.db, id, version) : undefined;
  if (!v) throw new NotFoundError();
  return { letter, version: v };
}

/** The letter and the user's access to it; 404 when they may not see it (its existence is not revealed). */
export async function getLetterForRead(ctx: Pick<AppContext, 'db'>, user: CurrentUser, id: string) {
  if (!/^\d{1,18}$/.test(id)) throw new NotFoundError();
  const letter = await repo.getLetter(ctx.db, id);
  if (!letter) throw new NotFoundError();
  const access = await accessTo(ctx.db, user, letter);
  if (!access.canView) throw new NotFoundError();
  return { letter, access };
}

export async function getAttachmentFile(ctx: AppContext, user: CurrentUser, id: string, attachmentId: string) {
  const { letter } = await getLetterForRead(ctx, user, id);
  if (!/^\d{1,18}$/.test(attachmentId)) throw new NotFoundError();
  const att = await repo.getAttachment(ctx.db, id, attachmentId);
  if (!att) throw new NotFoundError();
  await auditRead(ctx.db, user, { objectType: 'letter', objectId: id, securityClass: letter.security_class, what: 'attachment', docSha256: att.object_sha256, details: { attachmentId } });
  await refuseDestroyed(ctx.db, att.object_sha256);
  return { filename: att.filename, contentType: att.content_type, bytes: await ctx.store.get(att.object_sha256) };
}

export const INBOX_BOXES = ['action', 'drafts', 'in_progress', 'done'] as const;

export async function inbox(ctx: AppContext, user: CurrentUser, box: string, page: { size: number; offset: number }, filter: repo.InboxFilter) {
  if (!(INBOX_BOXES as readonly string[]).includes(box)) throw new NotFoundError();
  const acting = await approvals.actingPositionIds(ctx.db, user);
  const base = repo.inboxQuery(ctx.db, box as repo.InboxBox, user.id, acting, filter);
  const [rows, total] = await Promise.all([
    base
      .select(['l.id', 'l.subject', 'l.state', 'l.urgency', 'l.security_class', 'l.number', 'l.version', 'l.updated_at', 'k.name as kind_name', 'k.code as kind_code', 'd.name as drafter_name'])
      .orderBy('l.updated_at', 'desc')
      .orderBy('l.id', 'desc')
      .limit(page.size)
      .offset(page.offset)
      .execute(),
    base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows, total: Number(total.n) };
}

/** Counts for the navigation badges. */
export async function inboxCounts(ctx: AppContext, user: CurrentUser) {
  const acting = await approvals.actingPositionIds(ctx.db, user);
  const count = async (box: repo.InboxBox) => Number((await repo.inboxQuery(ctx.db, box, user.id, acting, {}).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
  const [action, drafts, inProgress, notifications] = await Promise.all([count('action'), count('drafts'), count('in_progress'), repo.unreadNotificationCount(ctx.db, user.id)]);
  return { action, drafts, inProgress, notifications };
}

export function listKinds(ctx: AppContext) {
  return repo.listKinds(ctx.db);
}

export function listClassificationCodes(ctx: AppContext) {
  return ctx.db.selectFrom('classification_codes').selectAll().where('active', '=', true).orderBy('code').execute();
}

// ---------- for the pages ----------

/**
 * What the drafting form offers to pick from: units, positions and users for
 * tujuan/tembusan, and the users who may sign (letter.sign) with their position.
 */
export async function draftingDirectory(ctx: AppContext) {
  const [units, positions, users] = await Promise.all([
    ctx.db.selectFrom('units').select(['code', 'name']).where('active', '=', true).orderBy('code').execute(),
    ctx.db.selectFrom('positions').select(['code', 'title']).where('active', '=', true).orderBy('code').execute(),
    ctx.db
      .selectFrom('users as u')
      .leftJoin('positions as p', 'p.id', 'u.position_id')
      .select(['u.id', 'u.username', 'u.name', 'u.roles', 'p.title as position_title'])
      .where('u.active', '=', true)
      .orderBy('u.name')
      .execute(),
  ]);
  const people = users.map((u) => ({ id: String(u.id), username: u.username, name: u.name, positionTitle: u.position_title, maySign: can({ roles: u.roles }, 'letter.sign') && u.position_title !== null }));
  return { units, positions, users: people, signers: people.filter((u) => u.maySign) };
}

/** The signer as the letter page shows it: name, own position, and the a.n./Plh./Plt. principal. Callers have already checked access to the letter. */
export async function describeSigner(ctx: AppContext, signer: LetterContentJson['signer']) {
  const [u, own, principal] = await Promise.all([
    ctx.db.selectFrom('users').select(['username', 'name']).where('id', '=', signer.userId).executeTakeFirst(),
    getPosition(ctx.db, signer.positionId),
    signer.principalPositionId ? getPosition(ctx.db, signer.principalPositionId) : undefined,
  ]);
  return { username: u?.username ?? null, name: u?.name ?? null, positionTitle: own?.title ?? null, prefix: signer.prefix, principalTitle: principal?.title ?? null };
}

export async function listNotifications(ctx: AppContext, user: CurrentUser, page: { size: number; offset: number }) {
  const [items, total] = await Promise.all([
    repo.listNotifications(ctx.db, user.id, page.size, page.offset),
    ctx.db.selectFrom('notifications').select((eb) => eb.fn.countAll<string>().as('n')).where('user_id', '=', user.id).executeTakeFirstOrThrow(),
  ]);
  return { items, total: Number(total.n) };
}

export function markAllNotificationsRead(ctx: AppContext, user: CurrentUser) {
  return repo.markNotificationsRead(ctx.db, user.id);
}
