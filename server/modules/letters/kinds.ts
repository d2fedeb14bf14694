// Administration of the kinds of letter (jenis naskah): listKindsForAdmin,
// getKindForAdmin, updateKind. The code, family and layout are fixed (letters,
// numbering and rendering depend on them); name, scope, signer rule, whether
// addressees are needed, order and active flag may change. Administrators only.
import { z } from 'zod';
import type { AppContext } from '../../platform/context.js';
import type { Selectable } from 'kysely';
import type { LetterKindTable } from '../../platform/db/schema.js';
import { appendAudit } from '../../platform/audit/index.js';
import { actorOf, type CurrentUser } from '../../platform/auth/current-user.js';
import { can } from '../../platform/auth/permissions.js';
import { ForbiddenError, NotFoundError } from '../../platform/http/errors.js';
import { fieldError, parseInput } from '../../platform/http/validate.js';
import * as repo from './kinds-repo.js';
import { fieldChanges } from '../../platform/audit/changes.js';

export const KIND_SCOPES = ['internal', 'external', 'both'] as const;
export const SIGNER_RULES = ['kepala_daerah', 'kepala_pd', 'pejabat'] as const;

const flag = z.boolean({ error: 'kinds.invalid.flag' });
const updateSchema = z
  .strictObject({
    name: z.string({ error: 'kinds.invalid.name' }).trim().min(1, 'kinds.invalid.name').max(200, 'kinds.invalid.name'),
    scope: z.enum(KIND_SCOPES, { error: 'kinds.invalid.scope' }),
    signerRule: z.enum(SIGNER_RULES, { error: 'kinds.invalid.signer_rule' }),
    needsAddressees: flag,
    active: flag,
    sortOrder: z.preprocess((v) => (typeof v === 'string' && /^\s*\d{1,6}\s*$/.test(v) ? Number(v) : v), z.number({ error: 'kinds.invalid.sort_order' }).int('kinds.invalid.sort_order').min(0, 'kinds.invalid.sort_order').max(10000, 'kinds.invalid.sort_order')),
  })
  .partial();

export interface LetterKindDto {
  code: string;
  name: string;
  family: string;
  scope: string;
  layout: string;
  signerRule: string;
  needsAddressees: boolean;
  sortOrder: number;
  active: boolean;
}

function dto(k: Selectable<LetterKindTable>): LetterKindDto {
  return { code: k.code, name: k.name, family: k.family, scope: k.scope, layout: k.layout, signerRule: k.signer_rule, needsAddressees: k.needs_addressees, sortOrder: k.sort_order, active: k.active };
}

function requireManage(user: CurrentUser) {
  if (!can(user, 'org.manage')) throw new ForbiddenError();
}

export async function listKindsForAdmin(ctx: AppContext, user: CurrentUser): Promise<LetterKindDto[]> {
  requireManage(user);
  return (await repo.listAllKinds(ctx.db)).map(dto);
}

export async function getKindForAdmin(ctx: AppContext, user: CurrentUser, code: string): Promise<LetterKindDto> {
  requireManage(user);
  const k = await repo.getKind(ctx.db, code);
  if (!k) throw new NotFoundError();
  return dto(k);
}

const COLUMNS = { name: 'name', scope: 'scope', signerRule: 'signer_rule', needsAddressees: 'needs_addressees', active: 'active', sortOrder: 'sort_order' } as const;

/** Changes a kind; the audit entry names each changed field as {from, to}. */
export async function updateKind(ctx: AppContext, user: CurrentUser, code: string, input: unknown): Promise<{ kind: LetterKindDto; changed: boolean }> {
  requireManage(user);
  if (input && typeof input === 'object' && ('code' in input || 'family' in input || 'layout' in input)) throw fieldError('code', 'kinds.invalid.code_immutable');
  const d = parseInput(updateSchema, input);
  return ctx.db.transaction().execute(async (trx) => {
    const before = await repo.getKindForUpdate(trx, code);
    if (!before) throw new NotFoundError();
    const { changes, patch } = fieldChanges(COLUMNS, d, before);
    const changed = Object.keys(changes).length > 0;
    if (changed) {
      await repo.updateKind(trx, code, patch);
      await appendAudit(trx, actorOf(user), { action: 'letter.kind_updated', objectType: 'letter_kind', objectId: code, details: { code, changes } });
    }
    return { kind: dto((await repo.getKind(trx, code))!), changed };
  });
}
