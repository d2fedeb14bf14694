// SQL of the dashboard: every figure is one aggregate query, grouped in the
// database by unit and by WIB month (date_trunc over `AT TIME ZONE
// 'Asia/Jakarta'`), so the page costs the same with 1,000 letters or 1,000,000.
// Read-only over other modules' tables (letters, approval_steps,
// issued_numbers, letter_signatures, disposisi): aggregates cannot go through
// their services one record at a time. `units` = null means the whole organisation.
import { sql, type RawBuilder } from 'kysely';
import type { Executor } from '../../platform/db/index.js';

export interface Period {
  /** First instant of the first month (WIB), inclusive. */
  start: Date;
  /** First instant of the month after the last (WIB), exclusive. */
  end: Date;
}

/** `AND <column> = ANY(units)`, or nothing for the whole organisation. */
function inUnits(column: RawBuilder<unknown>, units: string[] | null) {
  return units ? sql`AND ${column} = ANY(${units}::bigint[])` : sql``;
}

/** A unit and its sub-units, cycle-safe; empty when the unit does not exist. */
export async function subtree(db: Executor, unitId: string): Promise<string[]> {
  const r = await sql<{ id: string }>`
    WITH RECURSIVE down(id, depth) AS (
      SELECT id, 0 FROM units WHERE id = ${unitId}
      UNION SELECT u.id, down.depth + 1 FROM units u JOIN down ON u.parent_id = down.id WHERE down.depth < 50
    ) SELECT DISTINCT id FROM down`.execute(db);
  return r.rows.map((x) => String(x.id));
}

export function getUnit(db: Executor, id: string) {
  return db.selectFrom('units').select(['id', 'code', 'name']).where('id', '=', id).executeTakeFirst();
}

export interface UnitMonthRow {
  unit_id: string;
  unit_code: string;
  unit_name: string;
  month: string;
  created: number;
  signed: number;
}

/** Letters created (the drafter's unit) and signed, per unit and WIB month. */
export async function lettersPerUnitMonth(db: Executor, p: Period, units: string[] | null): Promise<UnitMonthRow[]> {
  const r = await sql<UnitMonthRow>`
    WITH c AS (
      SELECT unit_id, date_trunc('month', created_at AT TIME ZONE 'Asia/Jakarta') AS m, count(*) AS n
      FROM letters WHERE created_at >= ${p.start} AND created_at < ${p.end} ${inUnits(sql`unit_id`, units)}
      GROUP BY 1, 2
    ), s AS (
      SELECT unit_id, date_trunc('month', signed_at AT TIME ZONE 'Asia/Jakarta') AS m, count(*) AS n
      FROM letters WHERE signed_at >= ${p.start} AND signed_at < ${p.end} ${inUnits(sql`unit_id`, units)}
      GROUP BY 1, 2
    )
    SELECT u.id AS unit_id, u.code AS unit_code, u.name AS unit_name, to_char(coalesce(c.m, s.m), 'YYYY-MM') AS month,
           coalesce(c.n, 0)::int AS created, coalesce(s.n, 0)::int AS signed
    FROM c FULL JOIN s ON s.unit_id = c.unit_id AND s.m = c.m
    JOIN units u ON u.id = coalesce(c.unit_id, s.unit_id)
    ORDER BY u.code, month`.execute(db);
  return r.rows.map((x) => ({ ...x, unit_id: String(x.unit_id) }));
}

export interface DurationRow {
  /** null: the total over all units. */
  unit_id: string | null;
  unit_code: string | null;
  unit_name: string | null;
  n: number;
  mean_s: number | null;
  median_s: number | null;
}

const numeric = <T extends { mean_s: unknown; median_s: unknown; unit_id: unknown }>(x: T) => ({
  ...x,
  unit_id: x.unit_id === null ? null : String(x.unit_id),
  mean_s: x.mean_s === null ? null : Number(x.mean_s),
  median_s: x.median_s === null ? null : Number(x.median_s),
});

/** Draft (created_at) to signature (signed_at) of letters signed in the period: mean and median per unit, and overall. */
export async function draftToSignature(db: Executor, p: Period, units: string[] | null): Promise<DurationRow[]> {
  const r = await sql<DurationRow>`
    WITH d AS (
      SELECT unit_id, extract(epoch FROM signed_at - created_at) AS s
      FROM letters WHERE signed_at >= ${p.start} AND signed_at < ${p.end} ${inUnits(sql`unit_id`, units)}
    ), g AS (
      SELECT unit_id, count(*)::int AS n, avg(s) AS mean_s, percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS median_s
      FROM d GROUP BY GROUPING SETS ((unit_id), ())
    )
    SELECT g.unit_id, u.code AS unit_code, u.name AS unit_name, g.n, g.mean_s, g.median_s
    FROM g LEFT JOIN units u ON u.id = g.unit_id
    ORDER BY g.unit_id IS NULL, u.code`.execute(db);
  return r.rows.map(numeric);
}

export interface StepRow extends DurationRow {
  /** The step's place in the chain (1, 2, ...); 0 is the signature (last paraf to signing). */
  step: number;
}

/**
 * Time per approval step, for decisions taken in the period. A step becomes
 * current when the previous step of its round is decided; the first step when
 * the round is submitted. Only the latest round's submission time is kept
 * (letters.submitted_at), so the first step of an earlier round has no start
 * and is left out. Step 0: from the last paraf (approved_at) to the signature.
 * Uses approval_steps' unique (letter_id, round, ord) for the previous step.
 */
export async function stepDurations(db: Executor, p: Period, units: string[] | null): Promise<StepRow[]> {
  const r = await sql<StepRow>`
    WITH d AS (
      SELECT l.unit_id, s.ord AS step,
             extract(epoch FROM s.acted_at - CASE WHEN s.ord = 1 THEN (CASE WHEN s.round = l.review_round THEN l.submitted_at END) ELSE prev.acted_at END) AS s
      FROM approval_steps s
      JOIN letters l ON l.id = s.letter_id
      LEFT JOIN approval_steps prev ON prev.letter_id = s.letter_id AND prev.round = s.round AND prev.ord = s.ord - 1
      WHERE s.acted_at >= ${p.start} AND s.acted_at < ${p.end} ${inUnits(sql`l.unit_id`, units)}
      UNION ALL
      SELECT unit_id, 0, extract(epoch FROM signed_at - approved_at)
      FROM letters WHERE signed_at >= ${p.start} AND signed_at < ${p.end} AND approved_at IS NOT NULL ${inUnits(sql`unit_id`, units)}
    ), g AS (
      SELECT unit_id, step, count(*)::int AS n, avg(s) AS mean_s, percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS median_s
      FROM d WHERE s IS NOT NULL GROUP BY GROUPING SETS ((unit_id, step), (step))
    )
    SELECT g.unit_id, u.code AS unit_code, u.name AS unit_name, g.step, g.n, g.mean_s, g.median_s
    FROM g LEFT JOIN units u ON u.id = g.unit_id
    ORDER BY g.unit_id IS NULL, u.code, g.step = 0, g.step`.execute(db);
  return r.rows.map(numeric);
}

export interface ElectronicRow {
  unit_id: string | null;
  unit_code: string | null;
  unit_name: string | null;
  issued: number;
  voided: number;
  electronic: number;
  imported: number;
}

/**
 * Outgoing numbers issued in the period (voided ones included), and how many
 * of their letters carry a PAdES signature (letter_signatures, bound to that
 * number), per letter unit (the series' unit for a number without a letter).
 */
export async function electronicShare(db: Executor, p: Period, units: string[] | null): Promise<ElectronicRow[]> {
  const r = await sql<ElectronicRow>`
    WITH x AS (
      SELECT coalesce(l.unit_id, ns.unit_id) AS unit_id, n.voided_at, sig.letter_id AS signed_letter, c.source
      FROM issued_numbers n
      JOIN number_series ns ON ns.id = n.series_id AND ns.scope = 'outgoing'
      LEFT JOIN letters l ON l.id = n.letter_id
      LEFT JOIN letter_signatures sig ON sig.letter_id = n.letter_id AND sig.issued_number_id = n.id
      LEFT JOIN certificates c ON c.id = sig.certificate_id
      WHERE n.issued_at >= ${p.start} AND n.issued_at < ${p.end} ${inUnits(sql`coalesce(l.unit_id, ns.unit_id)`, units)}
    ), g AS (
      SELECT unit_id, count(*)::int AS issued, count(voided_at)::int AS voided, count(signed_letter)::int AS electronic,
             count(*) FILTER (WHERE source = 'imported')::int AS imported
      FROM x GROUP BY GROUPING SETS ((unit_id), ())
    )
    SELECT g.*, u.code AS unit_code, u.name AS unit_name
    FROM g LEFT JOIN units u ON u.id = g.unit_id
    ORDER BY g.unit_id IS NULL, u.code`.execute(db);
  return r.rows.map((x) => ({ ...x, unit_id: x.unit_id === null ? null : String(x.unit_id) }));
}

/** Open disposisi past their due date (WIB today); counted for the holder's unit, or the receiving unit when the holder has no position. */
function overdueBase(units: string[] | null) {
  return sql`
    FROM disposisi d
    JOIN incoming_letters i ON i.id = d.incoming_letter_id
    JOIN users h ON h.id = d.to_user_id
    LEFT JOIN positions hp ON hp.id = h.position_id
    JOIN units u ON u.id = coalesce(hp.unit_id, i.unit_id)
    WHERE d.state = 'open' AND d.due_date < (now() AT TIME ZONE 'Asia/Jakarta')::date ${inUnits(sql`u.id`, units)}`;
}

export interface OverdueCountRow {
  unit_id: string | null;
  unit_code: string | null;
  unit_name: string | null;
  n: number;
}

export async function overdueCounts(db: Executor, units: string[] | null): Promise<OverdueCountRow[]> {
  const r = await sql<OverdueCountRow>`
    SELECT u.id AS unit_id, u.code AS unit_code, u.name AS unit_name, count(*)::int AS n ${overdueBase(units)}
    GROUP BY GROUPING SETS ((u.id, u.code, u.name), ())
    ORDER BY u.id IS NULL, u.code`.execute(db);
  return r.rows.map((x) => ({ ...x, unit_id: x.unit_id === null ? null : String(x.unit_id) }));
}

export interface OverdueItem {
  id: string;
  incoming_id: string;
  agenda_number: string | null;
  subject: string;
  holder_name: string;
  unit_code: string;
  unit_name: string;
  due_date: string;
  days_late: number;
}

export async function overdueList(db: Executor, units: string[] | null, page: { size: number; offset: number }): Promise<OverdueItem[]> {
  const r = await sql<OverdueItem>`
    SELECT d.id, d.incoming_letter_id AS incoming_id, i.agenda_number, i.subject, h.name AS holder_name, u.code AS unit_code, u.name AS unit_name,
           to_char(d.due_date, 'YYYY-MM-DD') AS due_date, ((now() AT TIME ZONE 'Asia/Jakarta')::date - d.due_date)::int AS days_late
    ${overdueBase(units)}
    ORDER BY d.due_date, d.id
    LIMIT ${page.size} OFFSET ${page.offset}`.execute(db);
  return r.rows.map((x) => ({ ...x, id: String(x.id), incoming_id: String(x.incoming_id) }));
}
