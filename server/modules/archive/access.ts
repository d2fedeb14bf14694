// Who may see a record (a letter or a received letter): ONE policy, used by
// search, letter pages, PDFs, attachments, previews, incoming pages and scans,
// disposisi and the API alike. It has two forms built from the same table:
// mayView() in TypeScript for one record, visibleRecordsSql() as a SQL
// predicate over `records` for search and lists; a test checks they agree.
//
// Anyone involved in a record sees it whatever its class. "Involved" is decided
// by the owning modules (letters/policy.ts accessTo: drafter, reviewer in the
// chain or their Plh./Plt., signer, recipients and those it was delivered or
// disposed to once signed; dispatch/policy.ts accessToIncoming: the receiving
// unit's head and agendaris, delivery holders, disposisi givers and holders) and
// mirrored in SQL by involvedSql() below. Beyond them, ACCESS_POLICY grants
// access to a *final* record (a letter once signed; a received letter once
// registered) by security class:
import { sql, type RawBuilder } from 'kysely';
import type { Db, Executor } from '../../platform/db/index.js';
import { actorOf, type CurrentUser } from '../../platform/auth/current-user.js';
import { can } from '../../platform/auth/permissions.js';
import { appendAudit } from '../../platform/audit/index.js';
import { actingPositionIds } from '../approvals/service.js';
import { intakeUnits } from '../dispatch/policy.js';

export type SecurityClass = 'biasa' | 'terbatas' | 'rahasia' | 'sangat_rahasia';

/**
 * unit_members: people whose own unit is the record's unit (drafting or receiving unit).
 * unit_heads:   holders (or Plh./Plt.) of the head position of the record's unit or of any unit above it.
 * archivist:    archive.manage (arsiparis), who files, retains and disposes of final records.
 * The auditor (audit.read) is deliberately absent: the audit trail tells who did
 * what to which record, it is not a licence to read the contents.
 */
export type Audience = 'unit_members' | 'unit_heads' | 'archivist';

export const ACCESS_POLICY: Record<SecurityClass, { audiences: readonly Audience[]; auditReads: boolean }> = {
  // Ordinary correspondence: the unit's own people and its line of command, and the archive.
  biasa: { audiences: ['unit_members', 'unit_heads', 'archivist'], auditReads: false },
  // Limited: not every colleague of the unit, only its line of command; the archive must still file it.
  terbatas: { audiences: ['unit_heads', 'archivist'], auditReads: false },
  // Secret: as terbatas, but every read is recorded in the audit trail.
  rahasia: { audiences: ['unit_heads', 'archivist'], auditReads: true },
  // Top secret: only those involved, and every read is recorded.
  sangat_rahasia: { audiences: [], auditReads: true },
};

const FINAL_LETTER_STATES = ['signed', 'dispatched'];

/** What the policy needs to know about the person looking, loaded once per request. */
export interface Viewer {
  userId: string;
  unitId: string | null;
  positionId: string | null;
  /** Their own position and those they stand in for today as Plh./Plt. */
  actingPositionIds: string[];
  /** Units whose head position they hold or stand in for, and every unit below those. */
  headedUnitIds: string[];
  /** Units whose whole intake (surat masuk) they see: as head or as agendaris. */
  intakeUnitIds: string[];
  archivist: boolean;
}

/** `known`: what the caller has already loaded for this request (the owning module's involvement check), so it is not queried again. */
export async function loadViewer(db: Executor, user: CurrentUser, known: { acting?: string[]; intakeUnitIds?: string[] } = {}): Promise<Viewer> {
  const acting = known.acting ?? (await actingPositionIds(db, user));
  const headed = acting.length
    ? (
        await sql<{ id: string }>`
          WITH RECURSIVE down(id, depth) AS (
            SELECT p.unit_id, 0 FROM positions p WHERE p.id = ANY(${acting}::bigint[]) AND p.is_head AND p.active
            UNION SELECT u.id, down.depth + 1 FROM units u JOIN down ON u.parent_id = down.id WHERE down.depth < 50
          ) SELECT DISTINCT id FROM down`.execute(db)
      ).rows.map((r) => String(r.id))
    : [];
  return {
    userId: user.id,
    unitId: user.unitId,
    positionId: user.positionId,
    actingPositionIds: acting,
    headedUnitIds: headed,
    intakeUnitIds: known.intakeUnitIds ?? (await intakeUnits(db, user)),
    archivist: can(user, 'archive.manage'),
  };
}

/** The facts about a record the class rule looks at. */
export interface RecordFacts {
  type: 'letter' | 'incoming';
  unitId: string;
  securityClass: string;
  state: string;
}

function isFinal(r: RecordFacts): boolean {
  return r.type === 'incoming' || FINAL_LETTER_STATES.includes(r.state);
}

function ruleOf(securityClass: string) {
  // An unknown class is treated as the strictest.
  return ACCESS_POLICY[securityClass as SecurityClass] ?? ACCESS_POLICY.sangat_rahasia;
}

/** The TypeScript form of the class rule: may this viewer, not involved, see this record? (Involvement is the owning module's.) */
export function mayView(viewer: Viewer, r: RecordFacts): boolean {
  if (!isFinal(r)) return false;
  return ruleOf(r.securityClass).audiences.some((a) =>
    a === 'unit_members' ? viewer.unitId !== null && viewer.unitId === String(r.unitId) : a === 'unit_heads' ? viewer.headedUnitIds.includes(String(r.unitId)) : viewer.archivist,
  );
}

/** The classes whose records this audience may see. */
function classesFor(audience: Audience): SecurityClass[] {
  return (Object.keys(ACCESS_POLICY) as SecurityClass[]).filter((c) => ACCESS_POLICY[c].audiences.includes(audience));
}

const ids = (list: (string | null)[]) => list.filter((x): x is string => x !== null);

/** Involvement as SQL, mirroring letters/policy.ts accessTo and dispatch/policy.ts accessToIncoming. */
function involvedSql(v: Viewer, r: string): RawBuilder<boolean> {
  const R = sql.ref(r);
  const me = v.userId;
  const acting = v.actingPositionIds;
  return sql<boolean>`(
    (${R}.letter_id IS NOT NULL AND (
      EXISTS (SELECT 1 FROM letters l WHERE l.id = ${R}.letter_id AND (
        l.drafter_id = ${me} OR l.signer_id = ${me} OR l.awaiting_user_id = ${me}
        OR l.awaiting_position_id = ANY(${acting}::bigint[])
        OR (l.state = 'approved' AND l.signer_position_id = ANY(${acting}::bigint[]))))
      OR EXISTS (SELECT 1 FROM approval_steps s WHERE s.letter_id = ${R}.letter_id AND (s.actor_id = ${me} OR s.position_id = ANY(${acting}::bigint[])))
      OR (${R}.state = ANY(${FINAL_LETTER_STATES}::text[]) AND (
        EXISTS (SELECT 1 FROM letter_recipients x WHERE x.letter_id = ${R}.letter_id
                  AND (x.user_id = ${me} OR x.unit_id = ANY(${ids([v.unitId])}::bigint[]) OR x.position_id = ANY(${ids([v.positionId])}::bigint[])))
        OR EXISTS (SELECT 1 FROM deliveries d WHERE d.letter_id = ${R}.letter_id AND d.user_id = ${me})
        OR EXISTS (SELECT 1 FROM disposisi d JOIN incoming_letters i ON i.id = d.incoming_letter_id WHERE i.letter_id = ${R}.letter_id AND d.to_user_id = ${me})))))
    OR (${R}.incoming_letter_id IS NOT NULL AND (
      ${R}.unit_id = ANY(${v.intakeUnitIds}::bigint[])
      OR EXISTS (SELECT 1 FROM deliveries d WHERE d.incoming_letter_id = ${R}.incoming_letter_id AND d.user_id = ${me})
      OR EXISTS (SELECT 1 FROM disposisi x WHERE x.incoming_letter_id = ${R}.incoming_letter_id AND (x.to_user_id = ${me} OR x.from_user_id = ${me}))))
  )`;
}

/** The SQL form of mayView over `records` (aliased `r`): the class rule from ACCESS_POLICY, OR involvement. */
export function visibleRecordsSql(v: Viewer, r = 'r'): RawBuilder<boolean> {
  const R = sql.ref(r);
  const grants: RawBuilder<boolean>[] = [];
  const members = classesFor('unit_members');
  if (members.length && v.unitId) grants.push(sql<boolean>`(${R}.security_class = ANY(${members}::text[]) AND ${R}.unit_id = ${v.unitId})`);
  const heads = classesFor('unit_heads');
  if (heads.length && v.headedUnitIds.length) grants.push(sql<boolean>`(${R}.security_class = ANY(${heads}::text[]) AND ${R}.unit_id = ANY(${v.headedUnitIds}::bigint[]))`);
  const archive = classesFor('archivist');
  if (archive.length && v.archivist) grants.push(sql<boolean>`${R}.security_class = ANY(${archive}::text[])`);
  const final = sql<boolean>`(${R}.incoming_letter_id IS NOT NULL OR ${R}.state = ANY(${FINAL_LETTER_STATES}::text[]))`;
  const byClass = grants.length ? sql<boolean>`(${final} AND (${sql.join(grants, sql` OR `)}))` : sql<boolean>`false`;
  return sql<boolean>`(${byClass} OR ${involvedSql(v, r)})`;
}

/** Whether reading a record of this class is recorded in the audit trail. */
export function readsAreAudited(securityClass: string): boolean {
  return ruleOf(securityClass).auditReads;
}

/**
 * Records one read of a Rahasia or Sangat Rahasia record (page, PDF, attachment,
 * preview, scan, API); a no-op for other classes. Appearing in a search result
 * is not a read: results of those classes show no body text (see search.ts).
 */
export async function auditRead(
  db: Db,
  user: CurrentUser,
  read: { objectType: 'letter' | 'incoming_letter'; objectId: string; securityClass: string; what: string; docSha256?: string; details?: Record<string, unknown> },
): Promise<void> {
  if (!readsAreAudited(read.securityClass)) return;
  await db.transaction().execute((trx) =>
    appendAudit(trx, actorOf(user), {
      action: 'letter.read_restricted',
      objectType: read.objectType,
      objectId: read.objectId,
      docSha256: read.docSha256,
      details: { securityClass: read.securityClass, read: read.what, ...read.details },
    }),
  );
}
