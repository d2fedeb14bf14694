// Reading and verifying the audit trail: who may, and what a filter means.
// Dates are calendar days in WIB (Asia/Jakarta, UTC+7, no daylight saving).
import { z } from 'zod';
import type { AppContext } from '../context.js';
import type { CurrentUser } from '../auth/current-user.js';
import { can } from '../auth/permissions.js';
import { ForbiddenError } from '../http/errors.js';
import { parseInput } from '../http/validate.js';
import type { AuditEntry } from '../db/schema.js';
import { AUDIT_ACTIONS, entryFields, verifyAuditChain } from './index.js';
import * as repo from './repo.js';

export const EXPORT_MAX = 10_000;
export const API_LIMIT_MAX = 500;
/** Far beyond any trail, and inside PostgreSQL's bigint. */
const OFFSET_MAX = 1e15;
const WIB_OFFSET_MS = 7 * 3600 * 1000;

const isDay = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s + 'T00:00:00Z')) && new Date(s + 'T00:00:00Z').toISOString().startsWith(s);
const optional = (max: number, message: string, valid: (v: string) => boolean = () => true) =>
  z
    .string(message)
    .trim()
    .max(max, message)
    .optional()
    .transform((v) => v || undefined)
    .refine((v) => v === undefined || valid(v), message);

/** The filter as the page's form and the API's query string give it; empty means "any". */
const filterSchema = z.object({
  actor: optional(100, 'audit.invalid_filter'),
  action: optional(100, 'audit.invalid_action', (v) => Object.hasOwn(AUDIT_ACTIONS, v)),
  objectType: optional(40, 'audit.invalid_filter'),
  objectId: optional(100, 'audit.invalid_filter'),
  from: optional(10, 'audit.invalid_date', isDay),
  to: optional(10, 'audit.invalid_date', isDay),
  ip: optional(64, 'audit.invalid_filter'),
});
type FilterInput = z.infer<typeof filterSchema>;

/** The WIB day's first instant, as the ISO string `at` is compared with. */
function wibDayStart(d: string, plusDays = 0): string {
  return new Date(Date.parse(d + 'T00:00:00Z') + plusDays * 86_400_000 - WIB_OFFSET_MS).toISOString();
}

function toRepoFilter(f: FilterInput): repo.AuditFilter {
  return {
    actor: f.actor,
    action: f.action,
    objectType: f.objectType,
    objectId: f.objectId,
    fromAt: f.from ? wibDayStart(f.from) : undefined,
    // The last representable day has no next day to stop before.
    toAt: f.to && f.to < '9999-12-31' ? wibDayStart(f.to, 1) : undefined,
    ipPrefix: f.ip,
  };
}

/** Only the keys the schema knows, and only strings: a repeated query parameter is not a filter. */
function parseFilter(query: Record<string, unknown>): FilterInput {
  const picked = Object.fromEntries(Object.keys(filterSchema.shape).map((k) => [k, query[k]]).filter(([, v]) => v !== undefined));
  return parseInput(filterSchema, picked);
}

function mayRead(user: CurrentUser) {
  if (!can(user, 'audit.read')) throw new ForbiddenError();
}

/** `query`: the filter as a query string gives it (see filterSchema); checked after the permission. */
export async function searchTrail(ctx: AppContext, user: CurrentUser, query: Record<string, unknown>, page: { limit: number; offset: number }) {
  mayRead(user);
  const filter = toRepoFilter(parseFilter(query));
  const limit = Math.min(Math.max(page.limit, 1), API_LIMIT_MAX);
  const offset = Math.min(Math.max(page.offset, 0), OFFSET_MAX);
  return { ...(await repo.listEntries(ctx.db, filter, { limit, offset })), limit, offset };
}

export async function exportTrail(ctx: AppContext, user: CurrentUser, query: Record<string, unknown>) {
  mayRead(user);
  return repo.exportEntries(ctx.db, toRepoFilter(parseFilter(query)), EXPORT_MAX);
}

export async function verifyTrail(ctx: AppContext, user: CurrentUser) {
  if (!can(user, 'audit.verify')) throw new ForbiddenError();
  return verifyAuditChain(ctx.db);
}

/** An entry as the API gives it (docs/openapi.yaml AuditEntry). */
export function entryView(e: AuditEntry) {
  return { ...entryFields(e), prevHash: e.prev_hash, hash: e.hash };
}
