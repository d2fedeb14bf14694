// The disaster drill (issue 7): letters through their whole life cycle, the
// backup taken with the operator's command while the server runs, the primary
// database and the primary store destroyed, a restore into a new, empty
// installation, and proof that every letter, every signature and the audit chain
// came back. The backup store is an S3 server of its own (another site), which
// is what survives the disaster. With TEST_DATABASE_URL the installations use
// PostgreSQL databases (pg_dump/pg_restore), the restore going into a new one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { expect } from 'chai';
import supertest from 'supertest';
import type { Response as AgentResponse } from 'superagent';
import { PDFDocument } from 'pdf-lib';
import { loadConfig } from '../../server/config.js';
import { startPlatform, type Platform } from '../../server/platform/bootstrap.js';
import { startEmbeddedStorage, type EmbeddedStorage } from '../../server/platform/storage/embedded.js';
import { replicatePending } from '../../server/platform/storage/replication.js';
import { seedDemoOrganisation } from '../../server/modules/org/demo.js';
import { createApiToken } from '../../server/modules/account/service.js';
import { verifyPdf } from '../../server/modules/signing/verify.js';
import { verificationOptions } from '../../server/modules/signing/service.js';
import { buildApp } from '../../server/app.js';
import { DEMO_PASSWORD } from '../support/harness.js';
import { requireTools, nssTrustDb } from '../support/nss.js';
import { runCli } from '../support/child-server.js';

const pgUrl = process.env.TEST_DATABASE_URL;
const CA_PASSPHRASE = 'drill-ca-passphrase-kept-apart-0123';

function binary(res: AgentResponse, cb: (err: Error | null, body: Buffer) => void) {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => cb(null, Buffer.concat(chunks)));
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = '/' + db;
  return u.toString();
}

async function admin(statement: string) {
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  try {
    await c.query(statement);
  } finally {
    await c.end();
  }
}

describe('disaster drill: back up, destroy, restore, verify', function () {
  this.timeout(300_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-drill-'));
  const databases: string[] = [];
  let remote: EmbeddedStorage;
  let platform: Platform | undefined;

  /** An installation: its own DATA_DIR (database or not, primary store) and CERTS_DIR; the shared backup site. */
  async function installation(name: string): Promise<Record<string, string>> {
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATA_DIR: path.join(tmp, name),
      CERTS_DIR: path.join(tmp, name, 'certs'),
      CA_PASSPHRASE,
      SESSION_SECRET: 's'.repeat(40),
      BACKUP_S3_ENDPOINT: remote.settings.endPoint,
      BACKUP_S3_ACCESS_KEY: remote.settings.accessKey,
      BACKUP_S3_SECRET_KEY: remote.settings.secretKey,
      BACKUP_S3_BUCKET: remote.settings.bucket,
    };
    if (pgUrl) {
      const db = `tnde_drill_${process.pid}_${name}`;
      await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await admin(`CREATE DATABASE ${db}`);
      databases.push(db);
      env.DATABASE_URL = withDatabase(pgUrl, db);
    }
    return env;
  }

  const cli = (args: string[], env: Record<string, string>) => runCli(args, { PATH: process.env.PATH, HOME: process.env.HOME, ...env });

  async function counts(p: Platform): Promise<Record<string, number>> {
    const tables = (await p.ctx.dbHandle.pool.query(`SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND relkind = 'r' ORDER BY relname`)).rows.map((r) => r.relname as string);
    const out: Record<string, number> = {};
    for (const t of tables) out[t] = Number((await p.ctx.dbHandle.pool.query(`SELECT count(*) AS n FROM "${t}"`)).rows[0].n);
    return out;
  }

  const auditHead = async (p: Platform) => p.ctx.db.selectFrom('audit_head').select(['seq', 'hash']).executeTakeFirstOrThrow();

  let envA: Record<string, string>;
  let backupFile: string;
  const tokens: Record<string, string> = {};
  const was: { letters: { id: string; number: string | null; state: string }[]; pdfs: Record<string, string>; incoming: { id: string; agenda: string | null; state: string }[]; head: { seq: string; hash: string }; counts: Record<string, number> } = {} as never;
  let caPem: string;

  before(async function () {
    requireTools(this, 'pdfsig', 'certutil');
    remote = await startEmbeddedStorage({ dir: path.join(tmp, 'remote-site'), bucket: 'tnde-drill-backup' });
    envA = await installation('a');
    platform = await startPlatform(loadConfig(envA));
    const ctx = platform.ctx;
    await seedDemoOrganisation(ctx, DEMO_PASSWORD);
    const app = buildApp(ctx);
    for (const u of ['konseptor', 'pemeriksa1', 'pemeriksa2', 'penandatangan', 'agendaris', 'staf2']) {
      const row = await ctx.db.selectFrom('users').select(['id', 'username', 'roles']).where('username', '=', u).executeTakeFirstOrThrow();
      tokens[u] = (await createApiToken(ctx, { id: String(row.id), username: row.username, roles: row.roles }, 'drill')).token;
    }
    const as = (who: string) => ({
      get: (u: string) => supertest(app).get(u).set('Authorization', `Bearer ${tokens[who]}`),
      post: (u: string) => supertest(app).post(u).set('Authorization', `Bearer ${tokens[who]}`),
    });
    const draft = (subject: string) => ({ kind: 'SD', subject, urgency: 'biasa', securityClass: 'biasa', classificationCode: '000.1.5', signer: 'penandatangan', to: [{ unit: 'DISDIK' }], body: `<p>${subject}.</p>` });
    const create = async (subject: string) => {
      const r = await as('konseptor').post('/api/v1/letters').send(draft(subject));
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
      return r.body.id as string;
    };
    // A draft, one in review, and two through approval, signing and dispatch.
    await create('Konsep yang belum diajukan');
    const inReview = await create('Surat dalam pemeriksaan');
    await as('konseptor').post(`/api/v1/letters/${inReview}/submit`).send({}).expect(200);
    for (const subject of ['Undangan Rapat Koordinasi', 'Pemberitahuan Jadwal Pemeliharaan']) {
      const id = await create(subject);
      await as('konseptor').post(`/api/v1/letters/${id}/submit`).send({}).expect(200);
      await as('pemeriksa1').post(`/api/v1/letters/${id}/approve`).send({ version: 1 }).expect(200);
      await as('pemeriksa2').post(`/api/v1/letters/${id}/approve`).send({ version: 1 }).expect(200);
      const signed = await as('penandatangan').post(`/api/v1/letters/${id}/sign`).send({ passphrase: DEMO_PASSWORD });
      expect(signed.status, JSON.stringify(signed.body)).to.equal(200);
    }
    // An incoming letter from outside, with its scan, forwarded by disposisi.
    const doc = await PDFDocument.create();
    doc.addPage().drawText('Pindaian surat masuk');
    const incoming = await as('agendaris').post('/api/v1/incoming')
      .field('senderName', 'Badan Siber dan Sandi Negara').field('senderNumber', 'B-12/BSSN/2026').field('subject', 'Rapat Keamanan Informasi')
      .field('urgency', 'segera').field('securityClass', 'biasa').attach('file', Buffer.from(await doc.save()), 'scan.pdf');
    expect(incoming.status, JSON.stringify(incoming.body)).to.equal(201);
    const disp = await as('penandatangan').post(`/api/v1/incoming/${incoming.body.id}/disposisi`).send({ to: ['pemeriksa2'], instructions: ['tindak_lanjuti'], note: 'Mohon ditindaklanjuti.' });
    expect(disp.status, JSON.stringify(disp.body)).to.equal(201);

    // Replication runs (the server's job does this every few seconds); a copy that keeps failing fails the test.
    for (let run = 0; (await replicatePending(ctx)).pending > 0; run++) expect(run, 'objects still not copied to the backup store').to.be.below(20);

    const letters = await ctx.db.selectFrom('letters').select(['id', 'number', 'state']).orderBy('id').execute();
    was.letters = letters.map((l) => ({ id: String(l.id), number: l.number, state: l.state }));
    expect(was.letters.map((l) => l.state)).to.include.members(['draft', 'in_review', 'dispatched']);
    was.pdfs = {};
    for (const s of await ctx.db.selectFrom('letter_signatures').select(['letter_id', 'pdf_sha256']).execute()) was.pdfs[String(s.letter_id)] = s.pdf_sha256;
    expect(Object.keys(was.pdfs)).to.have.length(2);
    // The one the agendaris registered (the others are our own letters as received by DISDIK).
    was.incoming = (await ctx.db.selectFrom('incoming_letters').select(['id', 'agenda_number', 'state']).where('source', '<>', 'internal').orderBy('id').execute()).map((i) => ({ id: String(i.id), agenda: i.agenda_number, state: i.state }));
    expect(was.incoming).to.have.length(1);
    caPem = fs.readFileSync(path.join(envA.CERTS_DIR, 'ca.crt'), 'utf8');
  });

  after(async () => {
    await platform?.stop();
    await remote?.stop();
    for (const db of databases) await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => {});
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('backs up with the operator command while the server runs', async () => {
    backupFile = path.join(tmp, 'tnde.backup.tar');
    const out = await cli(['backup', '--out', backupFile], envA);
    expect(out.code, out.stderr + out.stdout).to.equal(0);
    expect(out.stdout).to.match(/Backup written: .*tnde\.backup\.tar/);
    expect(out.stdout).to.contain(pgUrl ? 'pg_dump' : 'logical dump');
    expect(out.stdout).to.match(/2 signed letters/);
    // A plain tar: the operator can list it with the system's tar.
    const listing = execFileSync('tar', ['-tf', backupFile], { encoding: 'utf8' }).split('\n');
    expect(listing).to.include.members(['manifest.sha256', 'manifest.json', 'objects.ndjson', 'certs/ca.crt', 'certs/ca.key', pgUrl ? 'db.dump' : 'db/letters.ndjson.gz']);
    expect(listing).not.to.include('certs/ca-passphrase');
    // The facts of the moment, taken after the backup: nothing happened in between.
    was.head = await auditHead(platform!);
    was.counts = await counts(platform!);
    expect(out.stdout).to.contain(`audit head ${was.head.seq} ${was.head.hash}`);
  });

  it('refuses to restore over the running installation', async () => {
    const out = await cli(['restore', '--from', backupFile], envA);
    expect(out.code).to.equal(1);
    expect(out.stderr).to.match(pgUrl ? /not empty/ : /server is running/);
  });

  it('restores into a new, empty installation after losing the database and the primary store, and everything verifies', async () => {
    // The disaster: the database and the primary store are gone; the backup site and the file remain.
    await platform!.stop();
    platform = undefined;
    if (pgUrl) await admin(`DROP DATABASE ${new URL(envA.DATABASE_URL).pathname.slice(1)} WITH (FORCE)`);
    fs.rmSync(envA.DATA_DIR, { recursive: true, force: true });

    const envB = await installation('b');
    const out = await cli(['restore', '--from', backupFile], envB);
    expect(out.code, out.stderr + out.stdout).to.equal(0);
    expect(out.stdout).to.contain('Restore complete: everything verified.');
    expect(out.stdout).to.match(/signed letters: 2 of 2 stored PDFs verify/);

    platform = await startPlatform(loadConfig(envB));
    expect(await auditHead(platform)).to.deep.equal(was.head);
    expect(await counts(platform)).to.deep.equal(was.counts);
    const app = buildApp(platform.ctx);
    // The old API tokens are restored with the accounts.
    const as = (who: string) => ({ get: (u: string) => supertest(app).get(u).set('Authorization', `Bearer ${tokens[who]}`) });
    for (const l of was.letters) {
      const r = await as('konseptor').get(`/api/v1/letters/${l.id}`);
      expect(r.status).to.equal(200);
      expect({ id: String(r.body.id), number: r.body.number ?? null, state: r.body.state }).to.deep.equal(l);
    }
    for (const i of was.incoming) {
      const r = await as('agendaris').get(`/api/v1/incoming/${i.id}`);
      expect(r.status).to.equal(200);
      expect({ agenda: r.body.agendaNumber, state: r.body.state }).to.deep.equal({ agenda: i.agenda, state: i.state });
      expect(r.body.disposisi).to.have.length(1);
    }
    const nss = nssTrustDb([caPem]);
    try {
      for (const [letterId, sha256] of Object.entries(was.pdfs)) {
        const res = await as('konseptor').get(`/api/v1/letters/${letterId}/pdf`).buffer(true).parse(binary);
        expect(res.status).to.equal(200);
        const pdf = res.body as Buffer;
        expect(crypto.createHash('sha256').update(pdf).digest('hex')).to.equal(sha256);
        const file = path.join(tmp, `letter-${letterId}.pdf`);
        fs.writeFileSync(file, pdf);
        const report = nss.pdfsig(file);
        expect(report).to.contain('Signature Validation: Signature is Valid.');
        expect(report).to.contain('Certificate Validation: Certificate is Trusted.');
        const ours = await verifyPdf(pdf, await verificationOptions(platform.ctx.db));
        expect(ours.valid, ours.reasons.join(',')).to.equal(true);
      }
    } finally {
      nss.cleanup();
    }
    // The restored installation keeps its CA: the same certificate, its key opening with the kept passphrase.
    expect(fs.readFileSync(path.join(envB.CERTS_DIR, 'ca.crt'), 'utf8')).to.equal(caPem);
  });

  it('refuses to restore into an installation that is not empty, changing nothing', async () => {
    const envB = { ...(await installationEnv('b')) };
    const head = await auditHead(platform!);
    const rows = await counts(platform!);
    await platform!.stop();
    platform = undefined;
    const out = await cli(['restore', '--from', backupFile], envB);
    expect(out.code).to.equal(1);
    expect(out.stderr).to.match(/Refused: this installation is not empty \(\d+ users, \d+ letters\)/);
    platform = await startPlatform(loadConfig(envB));
    expect(await auditHead(platform)).to.deep.equal(head);
    expect(await counts(platform)).to.deep.equal(rows);
  });

  it('refuses a backup file with one byte changed, changing nothing', async () => {
    const damaged = path.join(tmp, 'damaged.tar');
    const bytes = fs.readFileSync(backupFile);
    // A byte in the middle of the file, one in the manifest's text (third block) and one in an entry header.
    const envC = await installation('c');
    for (const at of [Math.floor(bytes.length / 2), 1536 + 40, 1024 + 3]) {
      const copy = Buffer.from(bytes);
      copy[at] ^= 0x01;
      fs.writeFileSync(damaged, copy);
      const out = await cli(['restore', '--from', damaged], envC);
      expect(out.code, `byte ${at}`).to.equal(1);
      expect(out.stderr).to.match(/Refused: the backup file .* is damaged or not a TNDE backup .*Nothing was changed\./);
    }
    const p = await startPlatform(loadConfig(envC), { storage: false });
    try {
      expect(Number((await p.ctx.dbHandle.pool.query('SELECT count(*) AS n FROM users')).rows[0].n)).to.equal(0);
      expect(fs.existsSync(path.join(envC.CERTS_DIR, 'ca.key'))).to.equal(false);
    } finally {
      await p.stop();
    }
  });

  /** The environment of an installation made earlier (same DATA_DIR and database). */
  async function installationEnv(name: string): Promise<Record<string, string>> {
    const env: Record<string, string> = { ...envA, DATA_DIR: path.join(tmp, name), CERTS_DIR: path.join(tmp, name, 'certs') };
    if (pgUrl) env.DATABASE_URL = withDatabase(pgUrl, `tnde_drill_${process.pid}_${name}`);
    return env;
  }
});
