// SQL for reading the audit trail (writing is appendAudit in index.ts).
// Newest first; every filter is a bound parameter, and the IP prefix has its
// LIKE wildcards escaped so `%` or `_` typed by the auditor match themselves.
import { sql } from 'kysely';
import type { Executor } from '../db/index.js';

export interface AuditFilter {
  /** Username, case-insensitive exact match. */
  actor?: string;
  action?: string;
  objectType?: string;
  objectId?: string;
  /** ISO instants: from inclusive, to exclusive (`at` is stored as an ISO string in UTC, so text order is time order). */
  fromAt?: string;
  toAt?: string;
  /** Start of the client address. */
  ipPrefix?: string;
}

function likePrefix(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
}

function filtered(db: Executor, f: AuditFilter) {
  let q = db.selectFrom('audit_log');
  if (f.actor) q = q.where(sql<boolean>`lower(actor_name) = ${f.actor.toLowerCase()}`);
  if (f.action) q = q.where('action', '=', f.action);
  if (f.objectType) q = q.where('object_type', '=', f.objectType);
  if (f.objectId) q = q.where('object_id', '=', f.objectId);
  if (f.fromAt) q = q.where('at', '>=', f.fromAt);
  if (f.toAt) q = q.where('at', '<', f.toAt);
  if (f.ipPrefix) q = q.where(sql<boolean>`ip LIKE ${likePrefix(f.ipPrefix)} ESCAPE '\\'`);
  return q;
}

export async function listEntries(db: Executor, f: AuditFilter, page: { limit: number; offset: number }) {
  const [items, count] = await Promise.all([
    filtered(db, f).selectAll().orderBy('seq', 'desc').limit(page.limit).offset(page.offset).execute(),
    filtered(db, f).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items, total: Number(count.n) };
}

/** Up to `max` newest matching entries, and whether more matched. */
export async function exportEntries(db: Executor, f: AuditFilter, max: number) {
  const rows = await filtered(db, f).selectAll().orderBy('seq', 'desc').limit(max + 1).execute();
  return { items: rows.slice(0, max), truncated: rows.length > max };
}
