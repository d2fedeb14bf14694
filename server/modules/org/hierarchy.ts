// Read-only questions about the hierarchy that other modules ask (approval
// chains, who may act for a position, who signs on whose behalf).
import { sql, type Selectable } from 'kysely';
import type { Executor } from '../../platform/db/index.js';
import type { UnitTable } from '../../platform/db/schema.js';

export interface ChainPosition {
  id: string;
  code: string;
  title: string;
  unitId: string;
  isHead: boolean;
}

/** The position and its superiors, bottom up (recursive, cycle-safe). */
export async function superiorChain(db: Executor, positionId: string): Promise<ChainPosition[]> {
  const r = await sql<{ id: string; code: string; title: string; unit_id: string; is_head: boolean; depth: number }>`
    WITH RECURSIVE up(id, depth, path) AS (
      SELECT id, 0, ARRAY[id] FROM positions WHERE id = ${positionId}
      UNION ALL
      SELECT p.superior_id, up.depth + 1, up.path || p.superior_id
      FROM positions p JOIN up ON p.id = up.id
      WHERE p.superior_id IS NOT NULL AND NOT p.superior_id = ANY(up.path) AND up.depth < 50
    )
    SELECT p.id, p.code, p.title, p.unit_id, p.is_head, up.depth
    FROM up JOIN positions p ON p.id = up.id ORDER BY up.depth`.execute(db);
  return r.rows.map((p) => ({ id: String(p.id), code: p.code, title: p.title, unitId: String(p.unit_id), isHead: p.is_head }));
}

/** Active users holding a position. */
export async function positionHolders(db: Executor, positionId: string) {
  const rows = await db.selectFrom('users').select(['id', 'username', 'name']).where('position_id', '=', positionId).where('active', '=', true).orderBy('id').execute();
  return rows.map((u) => ({ id: String(u.id), username: u.username, name: u.name }));
}

export type DelegationKind = 'plh' | 'plt' | 'an' | 'ub';

/** Delegations in force for a user on a day: today by default (Asia/Jakarta calendar day), or a 'YYYY-MM-DD' day. */
export async function activeDelegationsOf(db: Executor, userId: string, kinds: DelegationKind[], on: Date | string = new Date()) {
  const day = typeof on === 'string' ? on : jakartaDate(on);
  const rows = await db
    .selectFrom('delegations as d')
    .innerJoin('positions as p', 'p.id', 'd.principal_position_id')
    .select(['d.id', 'd.kind', 'd.principal_position_id', 'd.legal_basis', 'p.title as principal_title'])
    .where('d.delegate_user_id', '=', userId)
    .where('d.kind', 'in', kinds)
    .where('d.revoked_at', 'is', null)
    .where('d.starts_on', '<=', day)
    .where('d.ends_on', '>=', day)
    .execute();
  return rows.map((d) => ({ id: String(d.id), kind: d.kind, principalPositionId: String(d.principal_position_id), principalTitle: d.principal_title, legalBasis: d.legal_basis }));
}

/** The calendar day in Indonesia's western time zone, as YYYY-MM-DD. */
export function jakartaDate(d: Date): string {
  return new Date(d.getTime() + 7 * 3600 * 1000).toISOString().slice(0, 10);
}

export async function getPosition(db: Executor, id: string) {
  return db
    .selectFrom('positions as p')
    .innerJoin('units as u', 'u.id', 'p.unit_id')
    .select(['p.id', 'p.code', 'p.title', 'p.unit_id', 'p.is_head', 'p.active', 'p.superior_id', 'u.kind as unit_kind', 'u.code as unit_code', 'u.name as unit_name'])
    .where('p.id', '=', id)
    .executeTakeFirst();
}

/** Kinds of unit that are an agency (Perangkat Daerah): the kop's second line, the sender named to other agencies. */
const AGENCY_KINDS = ['sekretariat_daerah', 'dinas', 'badan', 'inspektorat'];

export type UnitLineRow = Pick<Selectable<UnitTable>, 'name' | 'kind' | 'address' | 'phone' | 'email' | 'website'> & { id: string; depth: number };

/** The unit and its ancestors, nearest first (cycle-safe). */
export async function unitLine(db: Executor, unitId: string): Promise<UnitLineRow[]> {
  const r = await sql<UnitLineRow>`
    WITH RECURSIVE up(id, depth, path) AS (
      SELECT id, 0, ARRAY[id] FROM units WHERE id = ${unitId}
      UNION ALL
      SELECT u.parent_id, up.depth + 1, up.path || u.parent_id
      FROM units u JOIN up ON u.id = up.id
      WHERE u.parent_id IS NOT NULL AND NOT u.parent_id = ANY(up.path) AND up.depth < 50
    )
    SELECT u.id, u.name, u.kind, u.address, u.phone, u.email, u.website, up.depth
    FROM up JOIN units u ON u.id = up.id ORDER BY up.depth`.execute(db);
  return r.rows;
}

/** The nearest agency in a unit line (from unitLine), if any. */
export function nearestAgency<U extends { kind: string }>(line: U[]): U | undefined {
  return line.find((u) => AGENCY_KINDS.includes(u.kind));
}

/** The agency a unit belongs to, or the top unit (the government itself) when none. */
export async function agencyName(db: Executor, unitId: string): Promise<string> {
  const line = await unitLine(db, unitId);
  return (nearestAgency(line) ?? line[line.length - 1])?.name ?? '';
}
