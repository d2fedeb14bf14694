// SQL for number series, counters and the register of issued numbers.
import { sql } from 'kysely';
import type { Executor } from '../../platform/db/index.js';

/**
 * The series that numbers a letter of this unit: the unit's own or its nearest
 * ancestor's, a kind-specific series before the unit's general one.
 */
export async function findSeries(db: Executor, unitId: string, scope: 'outgoing' | 'incoming', kindCode: string | null) {
  const r = await sql<{ id: string; format: string; unit_token: string; name: string }>`
    WITH RECURSIVE up(id, depth) AS (
      SELECT id, 0 FROM units WHERE id = ${unitId}
      UNION ALL
      SELECT u.parent_id, up.depth + 1 FROM units u JOIN up ON u.id = up.id WHERE u.parent_id IS NOT NULL AND up.depth < 50
    )
    SELECT s.id, s.format, s.unit_token, s.name
    FROM number_series s JOIN up ON s.unit_id = up.id
    WHERE s.active AND s.scope = ${scope} AND (s.kind_code = ${kindCode} OR s.kind_code IS NULL)
    ORDER BY up.depth, (s.kind_code IS NULL), s.id
    LIMIT 1`.execute(db);
  return r.rows[0];
}

/**
 * Advances the series' counter for the year and returns the new value. The row
 * stays locked until the caller's transaction ends, so numbers are handed out
 * one at a time and a rollback gives the value back: no gaps, no duplicates.
 */
export async function nextValue(db: Executor, seriesId: string, year: number): Promise<number> {
  const r = await sql<{ value: number }>`
    INSERT INTO number_counters (series_id, year, value) VALUES (${seriesId}, ${year}, 1)
    ON CONFLICT (series_id, year) DO UPDATE SET value = number_counters.value + 1
    RETURNING value`.execute(db);
  return Number(r.rows[0].value);
}

export async function insertIssued(db: Executor, n: { seriesId: string; year: number; seq: number; number: string; letterId: string | null; issuedBy: string | null }) {
  const r = await db
    .insertInto('issued_numbers')
    .values({ series_id: n.seriesId, year: n.year, seq: n.seq, number: n.number, letter_id: n.letterId, issued_by: n.issuedBy })
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(r.id);
}

export function getIssued(db: Executor, id: string) {
  return db.selectFrom('issued_numbers').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function markVoided(db: Executor, id: string, reason: string, userId: string) {
  const r = await db.updateTable('issued_numbers').set({ voided_at: new Date(), void_reason: reason, voided_by: userId }).where('id', '=', id).where('voided_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export function listSeries(db: Executor) {
  return db
    .selectFrom('number_series as s')
    .innerJoin('units as u', 'u.id', 's.unit_id')
    .leftJoin('letter_kinds as k', 'k.code', 's.kind_code')
    .select(['s.id', 's.unit_id', 's.scope', 's.kind_code', 's.name', 's.format', 's.unit_token', 's.active', 'u.code as unit_code', 'u.name as unit_name', 'k.name as kind_name'])
    .orderBy('u.code')
    .orderBy('s.scope')
    .execute();
}

export function getSeries(db: Executor, id: string) {
  return db.selectFrom('number_series').selectAll().where('id', '=', id).executeTakeFirst();
}

export function registerQuery(db: Executor, seriesId: string, year: number) {
  return db
    .selectFrom('issued_numbers as n')
    .leftJoin('letters as l', 'l.id', 'n.letter_id')
    .leftJoin('letter_kinds as k', 'k.code', 'l.kind_code')
    .leftJoin('users as s', 's.id', 'l.signer_id')
    .select(['n.id', 'n.seq', 'n.number', 'n.issued_at', 'n.voided_at', 'n.void_reason', 'n.letter_id', 'l.subject', 'l.security_class', 'l.classification_code', 'k.name as kind_name', 's.name as signer_name'])
    .where('n.series_id', '=', seriesId)
    .where('n.year', '=', year);
}
