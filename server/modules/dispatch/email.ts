// E-mail to external addressees: the signed PDF attached, sent through the
// configured SMTP server by a sweep over outbound_messages (channel 'email').
//
// Why a sweep and not a pg-boss job per message: the queued row is written in
// the same transaction that dispatches the letter, so it cannot be lost; a job
// sent after that commit could be (a crash between the two), and retries would
// then live in two places. The sweep runs every few seconds as a pg-boss job
// (one at a time across app nodes) and picks the rows whose next_attempt_at
// has come, so restarts, outages of the SMTP server and back-off all resume
// from the table. Delivery is at least once: a process that dies after the
// server accepted a message but before the row says 'sent' sends it again
// after the lease, with the same Message-ID so mail systems can tell.
import nodemailer, { type Transporter } from 'nodemailer';
import type { AppContext } from '../../platform/context.js';
import type { PeriodicJob } from '../../platform/jobs/index.js';
import { appendAudit, type Actor } from '../../platform/audit/index.js';
import * as repo from './email-repo.js';
import { claimDueOutbound, type ClaimedMessage } from './outbound-repo.js';

/** The row's last_error while no SMTP server is configured (shown to the sender and the admin). */
export const SMTP_NOT_CONFIGURED = 'SMTP belum dikonfigurasi';
/** Attempts before a message is given up ('failed'): about 19 hours of retries. */
export const MAX_ATTEMPTS = 24;
const FIRST_RETRY_MS = 60_000;
const MAX_RETRY_MS = 60 * 60_000;
/** A claimed row is retried after this if its sender never records an outcome. */
const LEASE_MS = 10 * 60_000;
const BATCH = 20;
/** Batches per run, so one run stays short while a backlog drains at full speed. */
const MAX_BATCHES = 10;

const SYSTEM: Actor = { id: null, name: 'system' };

export const emailJob: PeriodicJob = { name: 'dispatch-email', everySeconds: 5, run: (ctx) => sendDueEmails(ctx) };

/** Wait after the n-th failed attempt: 1 min, 2, 4, ... capped at an hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), MAX_RETRY_MS);
}

export interface EmailSweep {
  sent: number;
  retrying: number;
  failed: number;
  /** Due messages newly marked as waiting because no SMTP server is configured. */
  waiting: number;
}

/**
 * Sends every queued e-mail whose time has come (at `now`; tests pass a clock).
 * No transaction stays open while talking to the SMTP server: on the embedded
 * database an open transaction would hold every other connection.
 */
export async function sendDueEmails(ctx: AppContext, now: Date = new Date()): Promise<EmailSweep> {
  const result: EmailSweep = { sent: 0, retrying: 0, failed: 0, waiting: 0 };
  if (!ctx.config.SMTP_HOST) {
    result.waiting = await repo.noteWaiting(ctx.db, now, SMTP_NOT_CONFIGURED);
    if (result.waiting) ctx.logger.warn({ messages: result.waiting }, 'e-mails wait: SMTP_HOST is not set');
    return result;
  }
  let transport: Transporter | undefined;
  try {
    batches: for (let batch = 0; batch < MAX_BATCHES; batch++) {
      const claimed = await claimDueOutbound(ctx.db, 'email', now, new Date(now.getTime() + LEASE_MS), BATCH);
      if (!claimed.length) break;
      transport ??= createTransport(ctx);
      for (const [i, row] of claimed.entries()) {
        const failure = await sendOne(ctx, transport, row, now);
        if (!failure) {
          result.sent++;
          continue;
        }
        result[await settleFailure(ctx, row, now, failure)]++;
        if (failure.serverDown) {
          // The server is unreachable for everyone: the rest of the batch waits
          // with the same reason instead of each waiting for its own timeout.
          for (const rest of claimed.slice(i + 1)) result[await settleFailure(ctx, rest, now, failure)]++;
          break batches;
        }
      }
      if (claimed.length < BATCH) break;
    }
  } finally {
    transport?.close();
  }
  return result;
}

function createTransport(ctx: AppContext) {
  const c = ctx.config;
  return nodemailer.createTransport({
    // One connection reused for a whole run (closed at its end), not one per message.
    pool: true,
    maxConnections: 1,
    host: c.SMTP_HOST,
    port: c.SMTP_PORT ?? (c.SMTP_SECURE ? 465 : 587),
    secure: c.SMTP_SECURE,
    auth: c.SMTP_USER ? { user: c.SMTP_USER, pass: c.SMTP_PASSWORD } : undefined,
    // nodemailer waits two minutes by default; a sweep should not.
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  });
}

interface Failure {
  error: string;
  /** The server refused this recipient or message for good (5xx): do not retry. */
  permanent: boolean;
  /** The server could not be reached or refused the session: no message can go now. */
  serverDown: boolean;
}

// nodemailer's codes for a session that failed before any recipient was named.
const SERVER_DOWN_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'EAUTH', 'EPROTOCOL', 'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND']);

/** Sends one claimed message and records it as sent (with the audit entry); a failure is returned to settle. */
async function sendOne(ctx: AppContext, transport: Transporter, row: ClaimedMessage, now: Date): Promise<Failure | undefined> {
  const content = await repo.emailContent(ctx.db, row.id);
  const messageId = `<tnde-outbound-${row.id}@${new URL(ctx.config.publicUrl).hostname}>`;
  try {
    if (!content.pdf_sha256 || !content.verification_id || !content.number) throw new Error('naskah belum ditandatangani');
    const address = row.address;
    if (!address) throw new Error('alamat e-mail kosong');
    const pdf = await ctx.store.get(content.pdf_sha256);
    const verifyUrl = `${ctx.config.publicUrl}/v/${content.verification_id}`;
    const info = await transport.sendMail({
      from: ctx.config.MAIL_FROM,
      to: content.ext_name ? { name: content.ext_name, address } : address,
      subject: `[${content.number}] ${content.subject}`,
      text: body(content.ext_name, content.number, content.subject, verifyUrl),
      messageId,
      attachments: [{ filename: `naskah-${content.number.replace(/[^A-Za-z0-9.-]+/g, '_')}.pdf`, content: pdf, contentType: 'application/pdf' }],
    });
    const receipt = { messageId: info.messageId, response: info.response, accepted: info.accepted };
    await ctx.db.transaction().execute(async (trx) => {
      if (!(await repo.markSent(trx, row.id, now, receipt))) return;
      await appendAudit(trx, SYSTEM, { action: 'letter.emailed', objectType: 'letter', objectId: row.letter_id, docSha256: content.pdf_sha256!, details: { outboundId: row.id, to: row.address, messageId: info.messageId, attempt: row.attempts } });
    });
    ctx.logger.info({ outboundId: row.id, letterId: row.letter_id, attempt: row.attempts }, 'e-mail sent');
    return undefined;
  } catch (e) {
    const err = e as { code?: string; responseCode?: number };
    return {
      error: describeError(e),
      permanent: (err.responseCode ?? 0) >= 500 && (err.code === 'EENVELOPE' || err.code === 'EMESSAGE'),
      serverDown: SERVER_DOWN_CODES.has(err.code ?? ''),
    };
  }
}

/** 'failed' (audited) for a permanent refusal or the last attempt; otherwise queued again after the back-off. */
async function settleFailure(ctx: AppContext, row: ClaimedMessage, now: Date, failure: Failure): Promise<'retrying' | 'failed'> {
  const { error } = failure;
  if (failure.permanent || row.attempts >= MAX_ATTEMPTS) {
    await ctx.db.transaction().execute(async (trx) => {
      if (!(await repo.markFailed(trx, row.id, error))) return;
      await appendAudit(trx, SYSTEM, { action: 'letter.email_failed', objectType: 'letter', objectId: row.letter_id, details: { outboundId: row.id, to: row.address, attempts: row.attempts, error } });
    });
    ctx.logger.warn({ outboundId: row.id, letterId: row.letter_id, attempts: row.attempts, error }, 'e-mail given up');
    return 'failed';
  }
  await repo.markRetry(ctx.db, row.id, error, new Date(now.getTime() + retryDelayMs(row.attempts)));
  ctx.logger.warn({ outboundId: row.id, letterId: row.letter_id, attempts: row.attempts, error }, 'e-mail not sent; will retry');
  return 'retrying';
}

function body(name: string | null, number: string, subject: string, verifyUrl: string): string {
  return [
    name ? `Yth. ${name},` : 'Yth. Bapak/Ibu,',
    '',
    `Bersama ini kami sampaikan naskah dinas nomor ${number} hal "${subject}" (terlampir, PDF).`,
    '',
    'Naskah ini ditandatangani secara elektronik. Keaslian dan keutuhannya dapat diperiksa di:',
    verifyUrl,
    '',
    'Surel ini dikirim otomatis oleh aplikasi Tata Naskah Dinas Elektronik (TNDE); mohon tidak membalas ke alamat ini.',
    '',
  ].join('\n');
}

/** The server's answer or the network error, without credentials (nodemailer puts none in its messages). */
function describeError(e: unknown): string {
  const err = e as { code?: string; response?: string; message?: string };
  const text = `${err.code ? err.code + ': ' : ''}${err.response ?? err.message ?? String(e)}`;
  return text.replace(/\s+/g, ' ').trim().slice(0, 500);
}
