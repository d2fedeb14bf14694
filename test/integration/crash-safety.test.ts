// Crash safety (issue 7, part 5): the real server, as a child process, is killed
// with SIGKILL at a random moment while it signs letters, registers incoming
// letters with their scans and takes attachments; restarted on the same data,
// it must show no duplicate or missing number, no signed letter without its
// signature row and stored PDF, no object row without its object, an intact
// audit chain, every request it had acknowledged, and it must sign again.
// CRASH_ROUNDS=N for more kills; CRASH_SEED=S repeats a failed run's timing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import pg from 'pg';
import { expect } from 'chai';
import { loadConfig } from '../../server/config.js';
import { startPlatform, type Platform } from '../../server/platform/bootstrap.js';
import type { AppContext } from '../../server/platform/context.js';
import { verifyAuditChain } from '../../server/platform/audit/index.js';
import { DEMO_PASSWORD } from '../support/harness.js';
import { envFor, runCli, startChildServer, type ChildServer } from '../support/child-server.js';

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 3);
const SEED = Number(process.env.CRASH_SEED ?? crypto.randomInt(2 ** 31));
const USERS = ['konseptor', 'pemeriksa1', 'pemeriksa2', 'penandatangan', 'agendaris'] as const;
type User = (typeof USERS)[number];
/** Letters each round prepares for the burst to sign; registrations and uploads go on until the kill. */
const TO_SIGN = 6;

/** mulberry32: a small seeded generator, so a failing run's kill moments can be replayed. */
function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Distinct bytes each time (the store is content-addressed) that still sniff as a PDF. */
function uniquePdf(label: string): Blob {
  return new Blob([`%PDF-1.4\n% ${label} ${crypto.randomBytes(16).toString('hex')}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n`], { type: 'application/pdf' });
}

const draft = (subject: string) => ({
  kind: 'SD', subject, urgency: 'biasa', securityClass: 'biasa', classificationCode: '000.1.5', signer: 'penandatangan',
  to: [{ unit: 'DISDIK' }], cc: [], body: `<p>${subject}: uji ketahanan terhadap matinya server.</p>`,
});

/**
 * What must hold on any data at rest, crashed or not: each series and year
 * numbered 1..n once each (a void counts as used) as its counter says; every
 * number on a letter or agenda entry issued to it; every signed letter with its
 * signature row and PDF row, none left `signed` after the start-up sweep; every
 * object row with its bytes, of its size, in the primary store; the audit chain
 * intact. The names of what is broken, with the offending rows.
 */
async function violations(ctx: AppContext): Promise<Record<string, unknown[]>> {
  const rows = async (q: string) => (await ctx.dbHandle.pool.query(q)).rows;
  const found: Record<string, unknown[]> = {};
  found.numberGaps = await rows(`
    SELECT i.series_id, i.year, count(*)::int AS n, count(DISTINCT i.seq)::int AS distinct_seq, min(i.seq) AS min, max(i.seq) AS max, c.value AS counter
    FROM issued_numbers i LEFT JOIN number_counters c ON c.series_id = i.series_id AND c.year = i.year
    GROUP BY i.series_id, i.year, c.value
    HAVING count(*) <> count(DISTINCT i.seq) OR min(i.seq) <> 1 OR max(i.seq) <> count(*) OR c.value IS DISTINCT FROM max(i.seq)`);
  found.countersWithoutNumbers = await rows(`SELECT c.* FROM number_counters c WHERE c.value > 0 AND NOT EXISTS (SELECT 1 FROM issued_numbers i WHERE i.series_id = c.series_id AND i.year = c.year)`);
  found.duplicateNumbers = await rows(`SELECT number, count(*)::int FROM issued_numbers GROUP BY number HAVING count(*) > 1`);
  found.duplicateLetterNumbers = await rows(`SELECT number, count(*)::int FROM letters WHERE number IS NOT NULL GROUP BY number HAVING count(*) > 1`);
  found.letterNumberNotIssued = await rows(`
    SELECT l.id, l.number FROM letters l WHERE l.number IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM issued_numbers i WHERE i.letter_id = l.id AND i.number = l.number)`);
  found.issuedNotOnLetter = await rows(`
    SELECT i.id, i.number FROM issued_numbers i JOIN letters l ON l.id = i.letter_id
    WHERE i.voided_at IS NULL AND l.number IS DISTINCT FROM i.number`);
  found.agendaNotIssued = await rows(`
    SELECT g.id, g.agenda_number FROM incoming_letters g LEFT JOIN issued_numbers i ON i.id = g.issued_number_id
    WHERE g.agenda_number IS DISTINCT FROM i.number`);
  found.signedWithoutSignature = await rows(`
    SELECT l.id, l.state FROM letters l WHERE l.state IN ('signed', 'dispatched')
    AND NOT EXISTS (SELECT 1 FROM letter_signatures s JOIN objects o ON o.sha256 = s.pdf_sha256 WHERE s.letter_id = l.id)`);
  found.signatureOnUnsigned = await rows(`SELECT s.letter_id, l.state FROM letter_signatures s JOIN letters l ON l.id = s.letter_id WHERE l.state NOT IN ('signed', 'dispatched')`);
  found.leftSigned = await rows(`SELECT id FROM letters WHERE state = 'signed'`);
  found.refsWithoutObjectRow = await rows(`
    SELECT 'incoming' AS kind, id::text, pdf_sha256 AS sha256 FROM incoming_letters WHERE pdf_sha256 IS NOT NULL AND pdf_sha256 NOT IN (SELECT sha256 FROM objects)
    UNION ALL SELECT 'attachment', id::text, object_sha256 FROM letter_attachments WHERE object_sha256 NOT IN (SELECT sha256 FROM objects)`);
  found.objectRowWithoutObject = [];
  for (const o of await rows(`SELECT sha256, size FROM objects WHERE destroyed_at IS NULL`)) {
    const stored = await ctx.store.stat(o.sha256);
    if (stored?.size !== Number(o.size)) found.objectRowWithoutObject.push({ sha256: o.sha256, size: Number(o.size), stored: stored?.size ?? null });
  }
  const chain = await verifyAuditChain(ctx.db);
  found.auditChain = chain.ok ? [] : [chain.firstBad];
  return found;
}

describe('crash safety: the server killed (SIGKILL) in the middle of a burst, then restarted', function () {
  this.timeout(120_000 + ROUNDS * 60_000);
  const random = seeded(SEED);
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let server: ChildServer | undefined;
  let dbName: string | undefined;
  const tokens = {} as Record<User, string>;

  const api = async (who: User, method: string, url: string, body?: unknown) => {
    const form = body instanceof FormData;
    const res = await fetch(server!.url + url, {
      method,
      headers: { Authorization: `Bearer ${tokens[who]}`, ...(body && !form ? { 'Content-Type': 'application/json' } : {}) },
      body: form ? body : body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
  };
  const ok = async (who: User, method: string, url: string, body?: unknown) => {
    const res = await api(who, method, url, body);
    expect(res.status, `${method} ${url}: ${JSON.stringify(res.body)}`).to.be.within(200, 201);
    return res.body;
  };

  async function approvedLetter(subject: string): Promise<string> {
    const { id } = await ok('konseptor', 'POST', '/api/v1/letters', draft(subject));
    await ok('konseptor', 'POST', `/api/v1/letters/${id}/submit`, {});
    await ok('pemeriksa1', 'POST', `/api/v1/letters/${id}/approve`, { version: 1 });
    const last = await ok('pemeriksa2', 'POST', `/api/v1/letters/${id}/approve`, { version: 1 });
    expect(last.state).to.equal('approved');
    return String(id);
  }

  /** Platform access to the data the server holds, as an operator command gets it (its socket, a reader of its store). */
  async function inspect<T>(fn: (p: Platform) => Promise<T>): Promise<T> {
    const p = await startPlatform(loadConfig({ ...env, LOG_LEVEL: 'silent' }), { attachToRunning: true, migrate: false });
    try {
      return await fn(p);
    } finally {
      await p.stop();
    }
  }

  before(async () => {
    console.log(`      crash-safety: seed ${SEED}, ${ROUNDS} rounds (CRASH_SEED=${SEED} CRASH_ROUNDS=${ROUNDS} repeats them)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-crash-'));
    const extra: Record<string, string> = { NODE_ENV: 'development', LOG_LEVEL: 'warn', DEMO: '1', DEMO_PASSWORD };
    if (process.env.TEST_DATABASE_URL) {
      dbName = `tnde_crash_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
      const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${dbName}`);
      await admin.end();
      const u = new URL(process.env.TEST_DATABASE_URL);
      u.pathname = '/' + dbName;
      extra.DATABASE_URL = u.toString();
    }
    env = envFor(dir, extra);
    server = await startChildServer(env);
    // Tokens from the operator command, reaching the running server's database.
    await Promise.all(USERS.map(async (u) => {
      const out = await runCli(['token', 'create', '--user', u, '--name', 'crash-test'], env);
      expect(out.code, out.stderr).to.equal(0);
      tokens[u] = out.stdout.trim();
    }));
  });

  after(async () => {
    await server?.stop('SIGKILL');
    if (dbName) {
      const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: every invariant holds after a SIGKILL at a random moment and a restart`, async () => {
      // ---------- prepare: approved letters to sign, drafts to attach to ----------
      const toSign = await Promise.all(Array.from({ length: TO_SIGN }, (_, i) => approvedLetter(`Crash ${round}.${i}`)));
      const afterwards = await approvedLetter(`Crash ${round}: ditandatangani setelah restart`);
      const drafts = await Promise.all([1, 2, 3].map(async (i) => String((await ok('konseptor', 'POST', '/api/v1/letters', draft(`Lampiran ${round}.${i}`))).id)));

      // ---------- the burst, and the kill ----------
      const acknowledged = { signed: new Map<string, string>(), incoming: new Map<string, string>(), attachments: [] as { letterId: string; attachmentId: string }[] };
      let killed = false;
      // The kill's clock starts at the burst's first acknowledged write, so even a slow machine is killed mid-burst.
      let firstAck!: () => void;
      const started = new Promise<void>((resolve) => (firstAck = resolve));
      const untilKilled = async (work: () => Promise<void>) => {
        while (!killed) await work().catch(() => undefined); // a connection cut by the kill: not acknowledged
      };
      const attempted: string[] = [];
      const signer = async () => {
        for (let id = toSign.shift(); id && !killed; id = toSign.shift()) {
          attempted.push(id);
          const res = await api('penandatangan', 'POST', `/api/v1/letters/${id}/sign`, { passphrase: DEMO_PASSWORD }).catch(() => undefined);
          if (res?.status === 200) {
            acknowledged.signed.set(id, res.body.number);
            firstAck();
          }
        }
      };
      let n = 0;
      const register = async () => {
        const form = new FormData();
        for (const [k, v] of Object.entries({ senderName: 'Kementerian Dalam Negeri', subject: `Surat masuk ${round}.${++n}`, urgency: 'biasa', securityClass: 'biasa' })) form.set(k, v);
        form.set('file', uniquePdf(`scan ${round}.${n}`), 'scan.pdf');
        const res = await api('agendaris', 'POST', '/api/v1/incoming', form);
        if (res.status === 201) {
          acknowledged.incoming.set(String(res.body.id), res.body.agendaNumber);
          firstAck();
        }
      };
      const attach = (letterId: string) => async () => {
        const form = new FormData();
        form.set('file', uniquePdf(`lampiran ${round}.${++n}`), 'lampiran.pdf');
        const res = await api('konseptor', 'POST', `/api/v1/letters/${letterId}/attachments`, form);
        if (res.status === 201) {
          acknowledged.attachments.push({ letterId, attachmentId: String(res.body.attachmentId) });
          firstAck();
        }
      };
      const delay = Math.round(random() * 2500);
      const t0 = Date.now();
      const burst = Promise.all([signer(), signer(), untilKilled(register), untilKilled(register), ...drafts.map((d) => untilKilled(attach(d)))]);
      await Promise.race([started, new Promise((r) => setTimeout(r, 30_000))]);
      await new Promise((r) => setTimeout(r, delay));
      killed = true;
      expect(await server!.stop('SIGKILL')).to.equal('SIGKILL');
      await burst;
      console.log(`      round ${round}: killed ${delay} ms (drawn) after the first acknowledged write, ${Date.now() - t0} ms into the burst; acknowledged ${acknowledged.signed.size} signings, ${acknowledged.incoming.size} registrations, ${acknowledged.attachments.length} uploads`);

      // ---------- restart on the same data ----------
      const t1 = Date.now();
      server = await startChildServer(env);
      console.log(`      round ${round}: restarted in ${Date.now() - t1} ms`);
      const health = await fetch(server.url + '/healthz');
      expect(health.status, await health.text()).to.equal(200);

      let lastSeqs: { series_id: string; year: number; max: number }[] = [];
      const problems = await inspect(async ({ ctx }) => {
        const found = await violations(ctx);
        const rows = async (q: string) => (await ctx.dbHandle.pool.query(q)).rows;
        const ids = (list: string[]) => [...list, '0'].join(',');
        // What the server said it had done before the kill, it still has.
        const signed = await rows(`SELECT id::text, number, state FROM letters WHERE id IN (${ids([...acknowledged.signed.keys()])})`);
        found.lostSignings = [...acknowledged.signed].filter(([id, number]) => !signed.some((l) => l.id === id && l.number === number && l.state === 'dispatched'));
        // A signing cut off by the kill: committed whole (and dispatched by the start-up sweep) or not at all.
        const cut = await rows(`SELECT id::text, state, number FROM letters WHERE id IN (${ids(attempted.filter((id) => !acknowledged.signed.has(id)))})`);
        found.halfSigned = cut.filter((l) => !(l.state === 'approved' && l.number === null) && l.state !== 'dispatched');
        const incoming = await rows(`SELECT id::text, agenda_number FROM incoming_letters WHERE id IN (${ids([...acknowledged.incoming.keys()])})`);
        found.lostRegistrations = [...acknowledged.incoming].filter(([id, agenda]) => !incoming.some((g) => g.id === id && g.agenda_number === agenda));
        const attachments = await rows(`SELECT id::text FROM letter_attachments WHERE removed_at IS NULL AND id IN (${ids(acknowledged.attachments.map((x) => x.attachmentId))})`);
        found.lostUploads = acknowledged.attachments.filter((x) => !attachments.some((r) => r.id === x.attachmentId));
        console.log(`      round ${round}: ${cut.length} signings cut off by the kill (${cut.filter((l) => l.state === 'dispatched').length} had committed)`);
        lastSeqs = await rows(`SELECT series_id::text, year, max(seq)::int AS max FROM issued_numbers GROUP BY 1, 2`);
        return Object.fromEntries(Object.entries(found).filter(([, v]) => v.length));
      });
      expect(problems, `round ${round} (CRASH_SEED=${SEED})`).to.deep.equal({});

      // ---------- and it signs again: the next number follows ----------
      const signedNow = await ok('penandatangan', 'POST', `/api/v1/letters/${afterwards}/sign`, { passphrase: DEMO_PASSWORD });
      expect(signedNow.state).to.equal('dispatched');
      const issued = await inspect(({ ctx }) => ctx.db.selectFrom('issued_numbers').select(['series_id', 'year', 'seq']).where('letter_id', '=', afterwards).executeTakeFirstOrThrow());
      const prior = lastSeqs.find((s) => s.series_id === String(issued.series_id) && s.year === issued.year);
      expect(issued.seq, 'the number after the restart follows the last one').to.equal((prior?.max ?? 0) + 1);
      const pdf = await fetch(`${server.url}/api/v1/letters/${afterwards}/pdf`, { headers: { Authorization: `Bearer ${tokens.konseptor}` } });
      expect(pdf.status).to.equal(200);
      expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString()).to.equal('%PDF-');
    });
  }

  it('the checks themselves find a missing object and a gap in a series', async () => {
    const found = await inspect(async ({ ctx }) => {
      const victim = await ctx.db.selectFrom('letter_signatures').select('pdf_sha256').executeTakeFirstOrThrow();
      await ctx.store.remove(victim.pdf_sha256);
      await ctx.dbHandle.pool.query(`UPDATE number_counters SET value = value + 1 WHERE series_id = (SELECT min(series_id) FROM issued_numbers)`);
      return violations(ctx);
    });
    expect(found.objectRowWithoutObject).to.have.length(1);
    expect(found.numberGaps).to.have.length(1);
  });
});
