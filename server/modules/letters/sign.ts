// The sign step (TTE): in one transaction the letter gets its number, the final
// PDF is rendered with that number, signed as PAdES, stored, registered and the
// letter becomes `signed`, with its audit entry. If anything throws, all of it
// rolls back: no number consumed, no state change (DESIGN.md §4-§5).
// Everything that does not need the number (access, TOTP, unlocking the key,
// loading the render model) happens before the transaction, so the counter row
// stays locked only for render + sign + upload + a few inserts.
import crypto from 'node:crypto';
import { z } from 'zod';
import type { AppContext } from '../../platform/context.js';
import type { Executor } from '../../platform/db/index.js';
import type { Letter } from '../../platform/db/schema.js';
import { appendAudit } from '../../platform/audit/index.js';
import { actorOf, type CurrentUser } from '../../platform/auth/current-user.js';
import { AppError, ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../platform/http/errors.js';
import { fieldError, parseInput } from '../../platform/http/validate.js';
import { getPosition } from '../org/hierarchy.js';
import { actingPositionIds, capacityFor } from '../approvals/service.js';
import { verifyUserOtp } from '../account/service.js';
import { allocateNumber } from '../numbering/service.js';
import { unlockSigningIdentity, auditRefusedUnlock } from '../signing/service.js';
import { signPdf } from '../signing/pades.js';
import { nameAttribute, OID, parseCertificate } from '../signing/x509.js';
import { loadRenderModel, renderLetterPdf, type LetterRenderModel } from './render.js';
import { auditRead } from '../archive/access.js';
import { findTransition } from './state.js';
import { letterMessages } from './messages.js';
import * as repo from './repo.js';
import { getLetterForRead } from './service.js';
import * as signRepo from './sign-repo.js';
import { syncLetterRecord } from '../archive/records.js';
import { refuseDestroyed } from '../archive/disposal-gone.js';
import { dispatchAfterSigning } from '../dispatch/service.js';

/** A batch larger than this is refused as a whole: one request must end in reasonable time. */
export const BULK_SIGN_MAX = 100;

export const credentialsSchema = z.object({
  passphrase: z.string().min(1).max(256),
  otp: z.string().trim().max(12).optional().transform((v) => v || undefined),
});
const signSchema = credentialsSchema.extend({ version: z.coerce.number().int().positive().optional() });
const bulkSchema = credentialsSchema.extend({ ids: z.array(z.coerce.string().regex(/^\d{1,18}$/)).min(1) });

type Unlocked = Awaited<ReturnType<typeof unlockSigningIdentity>> & { issuerName: string };

export interface SignedLetter {
  id: string;
  number: string;
  verificationId: string;
  pdfSha256: string;
  signedAt: Date;
  /** Milliseconds: the whole call, and the part holding the series' counter row. */
  timings: { totalMs: number; lockedMs: number };
}

/** One letter's outcome in a batch; `subject` only for a letter the user may see. */
export type BulkResult = { id: string; subject: string | null } & ({ ok: true; number: string } | { ok: false; error: AppError });

// ---------- before the transaction ----------

/**
 * TOTP (when enrolled) then the passphrase; each refusal is a security event in
 * the audit trail, with `refusal` saying what it was for. Also unlocks the key
 * that signs a berita acara pemusnahan (archive/disposal.ts).
 */
export async function unlock(ctx: AppContext, user: CurrentUser, creds: { passphrase: string; otp?: string }, refusal: Record<string, unknown>): Promise<Unlocked> {
  if (user.totpEnabled) {
    if (!creds.otp) throw fieldError('otp', 'letters.sign.otp_required');
    if (!(await verifyUserOtp(ctx, user.id, creds.otp))) {
      await auditRefusedUnlock(ctx.db, actorOf(user), { ...refusal, reason: 'otp_invalid' });
      throw fieldError('otp', 'letters.sign.otp_invalid');
    }
  }
  try {
    const unlocked = await unlockSigningIdentity(ctx.db, user.id, creds.passphrase);
    const issuer = parseCertificate(unlocked.identity.certificate).issuer;
    return { ...unlocked, issuerName: nameAttribute(issuer, OID.commonName) ?? unlocked.info.issuerDn };
  } catch (e) {
    if (e instanceof ValidationError && e.messageKey === 'signing.wrong_passphrase') await auditRefusedUnlock(ctx.db, actorOf(user), { ...refusal, reason: 'wrong_passphrase' });
    throw e;
  }
}

const PREFIX: Record<string, string> = Object.fromEntries(['an', 'ub', 'plh', 'plt'].map((p) => [p, letterMessages[`letters.prefix.${p}` as 'letters.prefix.an'].id]));

/**
 * The letter, checked: `approved --sign--> signed` allowed to this user (409 /
 * 403), still the version the signer reviewed (409). Also who signs in what
 * capacity: the chosen signer (with the letter's a.n./u.b./Plh./Plt.), or a
 * Plh./Plt. standing in for the signer's position.
 */
async function checkSignable(db: Executor, user: CurrentUser, { letter, access }: Awaited<ReturnType<typeof getLetterForRead>>, version: number | undefined) {
  requireSignable(letter);
  if (!access.capacities.has('signer')) throw new ForbiddenError('letters.sign.not_signer');
  if (version !== undefined && version !== letter.version) throw new ConflictError('letters.version_not_current', { version: letter.version });
  const [signerPosition, principal] = await Promise.all([
    getPosition(db, String(letter.signer_position_id)),
    letter.signer_principal_position_id ? getPosition(db, String(letter.signer_principal_position_id)) : undefined,
  ]);
  const prefixLine = letter.signer_prefix && principal ? `${PREFIX[letter.signer_prefix]} ${principal.title}` : null;
  // Someone other than the chosen signer: a Plh./Plt. of the signer's position, printed as such.
  let actingTitle: string | null = null;
  if (String(letter.signer_id) !== user.id) {
    const acting = await capacityFor(db, user, String(letter.signer_position_id));
    if (!acting || acting.actingAs === 'self') throw new ForbiddenError('letters.sign.not_signer');
    actingTitle = `${PREFIX[acting.actingAs]} ${signerPosition?.title ?? ''}`.trim();
  }
  // A Plh./Plt. letter names the principal's position only (as render-model.ts prints it).
  const ownTitle = letter.signer_prefix === 'plh' || letter.signer_prefix === 'plt' ? null : (signerPosition?.title ?? null);
  const onBehalf = [prefixLine, actingTitle].filter((l): l is string => !!l);
  return {
    letter,
    onBehalf: onBehalf.length ? onBehalf.join(', ') : null,
    actingTitle,
    /** The lines above the signature, as the signature block prints them. */
    capacityLines: [prefixLine, actingTitle ?? ownTitle].filter((l): l is string => !!l),
    positionCode: (principal ?? signerPosition)?.code ?? '',
  };
}

/** The render model of the reviewed version, with the person who actually signs in the signature block. */
async function modelFor(ctx: AppContext, user: CurrentUser, checked: Checked): Promise<LetterRenderModel> {
  const model = await loadRenderModel(ctx.db, String(checked.letter.id), checked.letter.version);
  if (!checked.actingTitle) return model;
  return { ...model, signer: { ...model.signer, positionTitle: checked.actingTitle, name: user.name, nip: user.nip } };
}

function requireSignable(letter: Letter) {
  if (letter.state === 'signed' || letter.state === 'dispatched') throw new ConflictError('letters.sign.already_signed', { number: letter.number ?? '-' });
  if (!findTransition(letter.state, 'sign')) throw new ConflictError('letters.wrong_state', { state: letter.state });
}

export function signatureStatement(issuer: string): string {
  return letterMessages['letters.sign.statement'].id.replace('{issuer}', issuer);
}

// ---------- the transaction ----------

type Checked = Awaited<ReturnType<typeof checkSignable>>;

async function finalise(ctx: AppContext, user: CurrentUser, checked: Checked, unlocked: Unlocked, model: LetterRenderModel): Promise<Omit<SignedLetter, 'timings'> & { lockedMs: number }> {
  const id = String(checked.letter.id);
  let lockedFrom = 0;
  const out = await ctx.db.transaction().execute(async (trx) => {
    const letter = await repo.lockLetter(trx, id);
    if (!letter) throw new NotFoundError();
    requireSignable(letter);
    if (letter.version !== checked.letter.version) throw new ConflictError('letters.changed_meanwhile');
    // Random, so letters cannot be enumerated through the public verification page.
    const verificationId = crypto.randomBytes(16).toString('base64url');
    const signedAt = new Date();
    const number = await allocateNumber(trx, {
      scope: 'outgoing',
      unitId: String(letter.unit_id),
      kindCode: letter.kind_code,
      classificationCode: letter.classification_code,
      securityClass: letter.security_class,
      positionCode: checked.positionCode,
      date: signedAt,
      letterId: id,
      issuedBy: user.id,
    });
    // From here to the commit the series' counter row is locked: other signings in the series wait.
    lockedFrom = performance.now();
    const pdf = await renderLetterPdf({
      ...model,
      draft: false,
      number: number.number,
      date: signedAt,
      producedAt: signedAt,
      final: { qrUrl: `${ctx.config.publicUrl}/v/${verificationId}`, statement: signatureStatement(unlocked.issuerName) },
    });
    const signed = await signPdf(pdf, unlocked.identity, {
      reason: `Naskah dinas nomor ${number.number}`,
      location: model.place,
      name: user.name,
      signingTime: signedAt,
    });
    const stored = await ctx.store.put(trx, signed, 'application/pdf', user.id);
    await trx
      .insertInto('letter_signatures')
      .values({ letter_id: id, certificate_id: unlocked.certificateId, signer_id: user.id, pdf_sha256: stored.sha256, issued_number_id: number.id, signed_at: signedAt, on_behalf: checked.onBehalf, verification_id: verificationId })
      .execute();
    const t = findTransition(letter.state, 'sign')!;
    if (!(await repo.transitionLetter(trx, id, letter.state, { state: t.to, number: number.number, signed_at: signedAt, awaiting_user_id: null, awaiting_position_id: null }))) {
      throw new ConflictError('letters.changed_meanwhile');
    }
    await syncLetterRecord(trx, id);
    await repo.insertNotifications(trx, [String(letter.drafter_id)].filter((u) => u !== user.id), id, 'signed', { subject: letter.subject, number: number.number });
    await appendAudit(trx, actorOf(user), {
      action: 'letter.signed',
      objectType: 'letter',
      objectId: id,
      docSha256: stored.sha256,
      details: { number: number.number, version: letter.version, versionSha256: letter.version_sha256, certificateSerial: unlocked.info.serialHex, onBehalf: checked.onBehalf, verificationId },
    });
    return { id, number: number.number, verificationId, pdfSha256: stored.sha256, signedAt };
  });
  return { ...out, lockedMs: performance.now() - lockedFrom };
}

// ---------- commands ----------

/** Signs one approved letter: number, final PDF, PAdES, storage, `signed`, audit; then dispatches it (its own transaction). */
export async function signLetter(ctx: AppContext, user: CurrentUser, letterId: string, input: unknown): Promise<SignedLetter> {
  const t0 = performance.now();
  const data = parseInput(signSchema, input);
  const checked = await checkSignable(ctx.db, user, await getLetterForRead(ctx, user, letterId), data.version);
  const unlocked = await unlock(ctx, user, data, { during: 'sign', letters: [letterId] });
  const { lockedMs, ...out } = await finalise(ctx, user, checked, unlocked, await modelFor(ctx, user, checked));
  await dispatchAfterSigning(ctx, out.id);
  return { ...out, timings: { totalMs: performance.now() - t0, lockedMs } };
}

/**
 * Signs many letters with one passphrase (+ TOTP): unlocked once, each letter
 * in its own transaction, so one refusal (wrong state, not the signer) stops
 * only that letter. `onResult` hears each outcome as it happens. A wrong
 * passphrase or code refuses the whole batch before any letter is touched.
 */
export async function signLetters(ctx: AppContext, user: CurrentUser, input: unknown, onResult: (r: BulkResult) => void | Promise<void>): Promise<BulkResult[]> {
  const data = parseInput(bulkSchema, input);
  const ids = [...new Set(data.ids)];
  if (ids.length > BULK_SIGN_MAX) throw fieldError('ids', 'letters.sign.batch_too_large', { max: BULK_SIGN_MAX, count: ids.length });
  const unlocked = await unlock(ctx, user, data, { during: 'sign', letters: ids.slice(0, 20) });
  const results: BulkResult[] = [];
  for (const id of ids) {
    let r: BulkResult;
    let subject: string | null = null;
    try {
      const visible = await getLetterForRead(ctx, user, id);
      subject = visible.letter.subject;
      const checked = await checkSignable(ctx.db, user, visible, undefined);
      const out = await finalise(ctx, user, checked, unlocked, await modelFor(ctx, user, checked));
      await dispatchAfterSigning(ctx, out.id);
      r = { id, subject, ok: true, number: out.number };
    } catch (e) {
      if (!(e instanceof AppError)) ctx.logger.error({ err: e, letterId: id }, 'bulk signing: letter failed');
      r = { id, subject, ok: false, error: e instanceof AppError ? e : new AppError(500, 'internal_error', 'error.internal') };
    }
    results.push(r);
    await onResult(r);
  }
  return results;
}

// ---------- reading ----------

/** What the signing page shows before the signer commits: refusals come now, not after typing the passphrase. */
export async function signingForm(ctx: AppContext, user: CurrentUser, letterId: string) {
  const checked = await checkSignable(ctx.db, user, await getLetterForRead(ctx, user, letterId), undefined);
  return { letter: checked.letter, capacityLines: checked.capacityLines, needsOtp: user.totpEnabled };
}

/**
 * What the signer reviews before signing: the final layout, exactly as it will be
 * signed (no KONSEP watermark, the signature block with their capacity), only the
 * number, the date and the QR code still blank. Only for the signer of an approved letter.
 */
export async function signingPreview(ctx: AppContext, user: CurrentUser, letterId: string) {
  const checked = await checkSignable(ctx.db, user, await getLetterForRead(ctx, user, letterId), undefined);
  const model = await modelFor(ctx, user, checked);
  const bytes = await renderLetterPdf({ ...model, draft: false, number: null, date: null });
  return { version: checked.letter.version, filename: `pratinjau-akhir-${letterId}-v${checked.letter.version}.pdf`, bytes };
}

/** Approved letters waiting for this user's signature, newest first (the bulk-signing page). */
export async function awaitingSignature(ctx: AppContext, user: CurrentUser, page: { size: number; offset: number }) {
  const base = signRepo.awaitingSignatureQuery(ctx.db, user.id, await actingPositionIds(ctx.db, user));
  const [items, total] = await Promise.all([
    base
      .select(['l.id', 'l.subject', 'l.urgency', 'l.security_class', 'l.version', 'l.updated_at', 'k.name as kind_name', 'd.name as drafter_name'])
      .orderBy('l.approved_at', 'desc')
      .orderBy('l.id', 'desc')
      .limit(page.size)
      .offset(page.offset)
      .execute(),
    base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items, total: Number(total.n) };
}

/** A signed letter's signature record. Callers have already checked access to the letter. */
export function describeSignature(ctx: AppContext, letterId: string) {
  return signRepo.signatureOf(ctx.db, letterId);
}

/** The signed PDF, for anyone who may see the letter (404 otherwise, and before signing). */
export async function getSignedPdf(ctx: AppContext, user: CurrentUser, letterId: string) {
  const { letter } = await getLetterForRead(ctx, user, letterId);
  const signature = await signRepo.signatureOf(ctx.db, letterId);
  if (!signature) throw new NotFoundError();
  await auditRead(ctx.db, user, { objectType: 'letter', objectId: letterId, securityClass: letter.security_class, what: 'signed_pdf', docSha256: signature.pdf_sha256 });
  await refuseDestroyed(ctx.db, signature.pdf_sha256);
  const bytes = await ctx.store.get(signature.pdf_sha256);
  // The number has slashes and may have spaces: keep a safe file name.
  const filename = `naskah-${(letter.number ?? letterId).replace(/[^A-Za-z0-9.-]+/g, '_')}.pdf`;
  return { bytes, filename };
}
