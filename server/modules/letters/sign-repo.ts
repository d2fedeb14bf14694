// SQL for the sign step: the letters waiting for a signer, and a letter's signature record.
import type { Executor } from '../../platform/db/index.js';

/**
 * Approved letters this user may sign: as the chosen signer, or holding (or
 * standing in as Plh./Plt. for) the signer's position, as policy.ts decides.
 */
export function awaitingSignatureQuery(db: Executor, userId: string, actingPositionIds: string[]) {
  return db
    .selectFrom('letters as l')
    .innerJoin('letter_kinds as k', 'k.code', 'l.kind_code')
    .innerJoin('users as d', 'd.id', 'l.drafter_id')
    .where('l.state', '=', 'approved')
    .where((eb) => eb.or([eb('l.signer_id', '=', userId), ...(actingPositionIds.length ? [eb('l.signer_position_id', 'in', actingPositionIds)] : [])]));
}

export function signatureOf(db: Executor, letterId: string) {
  return db
    .selectFrom('letter_signatures as s')
    .innerJoin('users as u', 'u.id', 's.signer_id')
    .innerJoin('certificates as c', 'c.id', 's.certificate_id')
    .select(['s.pdf_sha256', 's.signed_at', 's.on_behalf', 's.verification_id', 'u.name as signer_name', 'c.serial_hex', 'c.subject_dn', 'c.issuer_dn'])
    .where('s.letter_id', '=', letterId)
    .executeTakeFirst();
}
