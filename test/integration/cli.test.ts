// Operator commands run as child processes, as an operator runs them, on the
// embedded database: opening a data directory no server holds, and reaching a
// running server's socket when one does.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import supertest from 'supertest';
import { loadConfig } from '../../server/config.js';
import { startPlatform } from '../../server/platform/bootstrap.js';
import { startEmbeddedDatabase } from '../../server/platform/db/embedded.js';
import { seedDemoOrganisation } from '../../server/modules/org/demo.js';
import { buildApp } from '../../server/app.js';
import { DEMO_PASSWORD } from '../support/harness.js';
import { envFor, runCli as runCliWith, startChildServer, type ChildServer } from '../support/child-server.js';
import { verifyPassword } from '../../server/platform/auth/passwords.js';

const runCli = (args: string[], dataDir: string) => runCliWith(args, envFor(dataDir));

/** A data directory with the migrated demo organisation, closed again. */
async function seededDataDir(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-cli-'));
  const platform = await startPlatform(loadConfig(envFor(dir, { LOG_LEVEL: 'silent' })), { storage: false });
  await seedDemoOrganisation(platform.ctx, DEMO_PASSWORD);
  await platform.stop();
  return dir;
}

/** Direct SQL on a data directory no process holds: what an intruder with file access could do. */
async function tamper(dir: string, statement: string) {
  const e = await startEmbeddedDatabase({ dataDir: dir });
  await e.db.exec(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; ${statement}; ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;`);
  await e.stop();
}

describe('operator commands (npm run cli) on the embedded database', function () {
  this.timeout(180_000);
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  describe('with no server holding the data directory', () => {
    let dir: string;
    before(async () => {
      dir = await seededDataDir();
      dirs.push(dir);
    });

    it('audit verify exits 0 and says the chain is intact', async () => {
      const out = await runCli(['audit', 'verify'], dir);
      expect(out.code, out.stderr).to.equal(0);
      expect(out.stdout).to.match(/^Audit chain intact: \d+ entries, head [0-9a-f]{64}\n$/);
    });

    it('token create prints a token that works on /api/v1/me, and the issue is audited', async () => {
      const out = await runCli(['token', 'create', '--user', 'konseptor', '--name', 'integrasi'], dir);
      expect(out.code, out.stderr).to.equal(0);
      const token = out.stdout.trim();
      expect(token).to.match(/^tnde_[A-Za-z0-9_-]{43}$/);
      const platform = await startPlatform(loadConfig(envFor(dir, { LOG_LEVEL: 'silent' })), { storage: false });
      try {
        const me = await supertest(buildApp(platform.ctx)).get('/api/v1/me').set('Authorization', `Bearer ${token}`);
        expect(me.status).to.equal(200);
        expect(me.body.username).to.equal('konseptor');
        const entry = await platform.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'token.created').orderBy('seq', 'desc').executeTakeFirstOrThrow();
        expect(entry).to.include({ actor_name: 'konseptor', ip: 'cli', object_type: 'api_token' });
        expect(entry.details).to.deep.include({ name: 'integrasi' });
      } finally {
        await platform.stop();
      }
    });

    it('token create refuses an unknown user and a missing --user', async () => {
      const unknown = await runCli(['token', 'create', '--user', 'tidak-ada'], dir);
      expect(unknown.code).to.equal(1);
      expect(unknown.stderr).to.contain('No active user named tidak-ada');
      const missing = await runCli(['token', 'create'], dir);
      expect(missing.code).to.equal(2);
      expect(missing.stderr).to.contain('--user NAME is required');
    });

    it('admin create makes an administrator with a one-time password, audited; refuses a taken name and a bad one', async () => {
      const out = await runCli(['admin', 'create', '--username', 'kepala.tu', '--name', 'Rina Kartika'], dir);
      expect(out.code, out.stderr).to.equal(0);
      const password = /One-time password \(must be changed at first sign-in\): (\S+)/.exec(out.stdout)?.[1];
      expect(password).to.be.a('string');
      const platform = await startPlatform(loadConfig(envFor(dir, { LOG_LEVEL: 'silent' })), { storage: false });
      try {
        const u = await platform.ctx.db.selectFrom('users').selectAll().where('username', '=', 'kepala.tu').executeTakeFirstOrThrow();
        expect(u.roles).to.deep.equal(['admin']);
        expect(u.must_change_password).to.equal(true);
        expect(await verifyPassword(u.password_hash, password!)).to.equal(true);
        const entry = await platform.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'org.user_created').where('object_id', '=', String(u.id)).executeTakeFirstOrThrow();
        expect(entry.actor_name).to.equal(`cli:${os.userInfo().username}`);
        expect(JSON.stringify(entry.details)).not.to.contain(password!);
      } finally {
        await platform.stop();
      }
      const taken = await runCli(['admin', 'create', '--username', 'admin', '--name', 'Lain'], dir);
      expect(taken.code).to.equal(1);
      expect(taken.stderr).to.match(/^Refused: /);
      const bad = await runCli(['admin', 'create', '--username', 'Bad Name!', '--name', 'X'], dir);
      expect(bad.code).to.equal(1);
      expect(bad.stderr).to.contain('username');
      const missing = await runCli(['admin', 'create', '--username', 'x1'], dir);
      expect(missing.code).to.equal(2);
    });

    it('audit verify exits non-zero naming the entry after a row is edited by SQL', async () => {
      await tamper(dir, `UPDATE audit_log SET ip = '10.9.9.9' WHERE seq = 3`);
      const out = await runCli(['audit', 'verify'], dir);
      expect(out.code).to.equal(1);
      expect(out.stderr).to.contain('Audit chain BROKEN at entry 3: content does not match its hash (altered)');
    });

    it('audit verify names the first missing entry after a row is deleted by SQL', async () => {
      const other = await seededDataDir();
      dirs.push(other);
      await tamper(other, 'DELETE FROM audit_log WHERE seq = 2');
      const out = await runCli(['audit', 'verify'], other);
      expect(out.code).to.equal(1);
      expect(out.stderr).to.contain('Audit chain BROKEN at entry 2: entry 2 is missing');
    });

    it('an unknown command prints the usage and exits 2', async () => {
      const out = await runCli(['nonsense'], dir);
      expect(out.code).to.equal(2);
      expect(out.stderr).to.contain('Unknown command: nonsense').and.contain('audit verify');
    });
  });

  describe('while the server runs on the same data directory', () => {
    let dir: string;
    let server: ChildServer | undefined;
    let port: number;

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-cli-run-'));
      dirs.push(dir);
      server = await startChildServer(envFor(dir, { NODE_ENV: 'development', LOG_LEVEL: 'warn', DEMO_PASSWORD }));
      port = server.port;
    });
    after(async () => {
      await server?.stop();
    });

    it('audit verify reaches the running server\'s database and says intact', async () => {
      const out = await runCli(['audit', 'verify'], dir);
      expect(out.code, out.stderr).to.equal(0);
      expect(out.stdout).to.match(/^Audit chain intact: \d+ entries/);
    });

    it('a token created by the CLI works on the running server at once', async () => {
      const out = await runCli(['token', 'create', '--user', 'auditor'], dir);
      expect(out.code, out.stderr).to.equal(0);
      // Had the CLI opened a second copy of the directory, the server would not know this token.
      const me = await fetch(`http://127.0.0.1:${port}/api/v1/me`, { headers: { Authorization: `Bearer ${out.stdout.trim()}` } });
      expect(me.status).to.equal(200);
      expect((await me.json()).username).to.equal('auditor');
      const verify = await fetch(`http://127.0.0.1:${port}/api/v1/audit/verify`, { headers: { Authorization: `Bearer ${out.stdout.trim()}` } });
      expect(await verify.json()).to.include({ intact: true });
    });
  });
});
