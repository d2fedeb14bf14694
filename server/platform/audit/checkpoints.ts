// Signed checkpoints of the audit chain (DESIGN.md section 7), in the spirit of
// Certificate Transparency's signed tree heads: the chain's size and head hash,
// signed with the installation's Ed25519 key. Kept in audit_checkpoints and
// exported off-site, they let a later check detect a rewrite of the whole
// audit_log, which the chain alone cannot (a rewriter can recompute every hash,
// but cannot sign a new head without the key).
//
// The checkpoint's own audit entry is appended first and is part of what is
// signed, so a checkpoint never leaves the head "moved" by itself and the
// periodic job stays idle while nothing else happens.
import crypto from 'node:crypto';
import canonicalize from 'canonicalize';
import { sql } from 'kysely';
import type { AppContext } from '../context.js';
import type { Executor } from '../db/index.js';
import type { PeriodicJob } from '../jobs/index.js';
import { appendAudit, type Actor } from './index.js';
import { installationId, installationKey } from '../../modules/exchange/keys.js';

export const CHECKPOINT_EXPORT_FORMAT = 'tnde-audit-checkpoints/1';
const STATEMENT_TYPE = 'tnde-audit-checkpoint/1';

export interface Checkpoint {
  seq: string;
  head: string;
  installation: string;
  /** ISO 8601. */
  signedAt: string;
  keyFingerprint: string;
  /** Ed25519 over checkpointStatement(), base64. */
  signature: string;
}

export interface CheckpointExport {
  format: typeof CHECKPOINT_EXPORT_FORMAT;
  installation: string;
  publicKeyPem: string;
  keyFingerprint: string;
  exportedAt: string;
  checkpoints: Checkpoint[];
}

/** The exact bytes that are signed: RFC 8785 canonical JSON of what the checkpoint asserts. */
export function checkpointStatement(c: Pick<Checkpoint, 'installation' | 'seq' | 'head' | 'signedAt'>): Buffer {
  return Buffer.from(canonicalize({ type: STATEMENT_TYPE, installation: c.installation, seq: String(c.seq), head: c.head, signedAt: c.signedAt })!);
}

type Reason = 'scheduled' | 'manual' | 'cli';

/**
 * Signs the current head. With `onlyIfMoved`, returns null when the newest
 * checkpoint already covers the head (the periodic job's case).
 */
export async function createCheckpoint(ctx: AppContext, actor: Actor, reason: Reason, opts: { onlyIfMoved?: boolean } = {}): Promise<Checkpoint | null> {
  const key = installationKey(ctx);
  return ctx.db.transaction().execute(async (trx) => {
    // Lock the head first, so that the comparison and the append see the same chain.
    const head = await trx.selectFrom('audit_head').select('seq').where('id', '=', 1).forUpdate().executeTakeFirstOrThrow();
    if (opts.onlyIfMoved) {
      const last = await latestRow(trx);
      if (last && String(last.seq) === String(head.seq)) return null;
    }
    const hash = await appendAudit(trx, actor, { action: 'audit.checkpoint', details: { reason } });
    const c: Omit<Checkpoint, 'signature'> = {
      seq: String(BigInt(head.seq) + 1n),
      head: hash,
      installation: await installationId(trx, ctx.config),
      signedAt: new Date().toISOString(),
      keyFingerprint: key.fingerprint,
    };
    const signature = crypto.sign(null, checkpointStatement(c), key.privateKey).toString('base64');
    await trx
      .insertInto('audit_checkpoints')
      .values({ seq: c.seq, head_hash: c.head, installation: c.installation, signed_at: c.signedAt, key_fingerprint: c.keyFingerprint, signature })
      .execute();
    return { ...c, signature };
  });
}

const SYSTEM: Actor = { id: null, name: 'system' };

export const checkpointJob: PeriodicJob = {
  name: 'audit-checkpoint',
  everySeconds: 3600,
  run: (ctx) => createCheckpoint(ctx, SYSTEM, 'scheduled', { onlyIfMoved: true }),
};

function latestRow(db: Executor) {
  return db.selectFrom('audit_checkpoints').selectAll().orderBy('seq', 'desc').limit(1).executeTakeFirst();
}

function toCheckpoint(r: { seq: string; head_hash: string; installation: string; signed_at: Date; key_fingerprint: string; signature: string }): Checkpoint {
  return { seq: String(r.seq), head: r.head_hash, installation: r.installation, signedAt: new Date(r.signed_at).toISOString(), keyFingerprint: r.key_fingerprint, signature: r.signature };
}

export async function latestCheckpoint(db: Executor): Promise<Checkpoint | null> {
  const r = await latestRow(db);
  return r ? toCheckpoint(r) : null;
}

export async function exportCheckpoints(ctx: AppContext): Promise<CheckpointExport> {
  const key = installationKey(ctx);
  return {
    format: CHECKPOINT_EXPORT_FORMAT,
    installation: await installationId(ctx.db, ctx.config),
    publicKeyPem: key.publicKeyPem,
    keyFingerprint: key.fingerprint,
    exportedAt: new Date().toISOString(),
    checkpoints: await storedCheckpoints(ctx.db),
  };
}

/** Reads an export back; throws on anything that is not one. */
export function parseCheckpointExport(text: string): CheckpointExport {
  const data = JSON.parse(text) as CheckpointExport;
  if (data?.format !== CHECKPOINT_EXPORT_FORMAT || !Array.isArray(data.checkpoints)) throw new Error(`not a ${CHECKPOINT_EXPORT_FORMAT} file`);
  return data;
}

export interface CheckpointProblem {
  seq: string;
  signedAt: string;
  reason: string;
}

export interface CheckpointVerdict {
  ok: boolean;
  checked: number;
  problems: CheckpointProblem[];
}

/**
 * Checks each checkpoint against the chain as stored now: its signature under
 * the installation's own key (never a key the file brings along) and that the
 * entry at its seq still has its head hash. Run it with verifyAuditChain: that
 * one proves the chain is consistent, this one that it is the chain we signed.
 */
export async function verifyCheckpoints(ctx: AppContext, checkpoints: Checkpoint[]): Promise<CheckpointVerdict> {
  const key = installationKey(ctx);
  const publicKey = crypto.createPublicKey(key.publicKeyPem);
  const problems: CheckpointProblem[] = [];
  for (const c of checkpoints) {
    const bad = (reason: string) => problems.push({ seq: String(c.seq), signedAt: c.signedAt, reason });
    let signed = false;
    try {
      signed = crypto.verify(null, checkpointStatement(c), publicKey, Buffer.from(c.signature, 'base64'));
    } catch {
      signed = false;
    }
    if (!signed) {
      bad(c.keyFingerprint === key.fingerprint ? 'signature does not verify' : `signed by another key (${c.keyFingerprint.slice(0, 16)}…), not this installation's`);
      continue;
    }
    const entry = await ctx.db.selectFrom('audit_log').select('hash').where(sql<boolean>`seq = ${String(c.seq)}::bigint`).executeTakeFirst();
    if (!entry) bad(`entry ${c.seq} is missing from the chain`);
    else if (entry.hash !== c.head) bad(`entry ${c.seq} has hash ${entry.hash.slice(0, 16)}…, the checkpoint signed ${c.head.slice(0, 16)}…`);
  }
  return { ok: problems.length === 0, checked: checkpoints.length, problems };
}

/** The checkpoints stored in this database, as verifyCheckpoints takes them. */
export async function storedCheckpoints(db: Executor): Promise<Checkpoint[]> {
  return (await db.selectFrom('audit_checkpoints').selectAll().orderBy('seq').execute()).map(toCheckpoint);
}
