// The table of operator commands. A new command is one entry here.
import type { ParseArgsConfig } from 'node:util';
import type { AppContext } from '../platform/context.js';
import { verifyAuditChain } from '../platform/audit/index.js';
import { createCheckpoint, exportCheckpoints, parseCheckpointExport, verifyCheckpoints } from '../platform/audit/checkpoints.js';
import { scanObjects } from '../platform/storage/scan.js';
import fs from 'node:fs';
import os from 'node:os';
import { createApiToken } from '../modules/account/service.js';
import { createAdministratorFromConsole } from '../modules/org/service.js';
import { AppError } from '../platform/http/errors.js';
import { translator } from '../platform/i18n/index.js';
import { verifyPackageCommand } from '../modules/archive/package-cli.js';
import { createBackup } from '../platform/backup/backup.js';
import { restoreBackup, refuseWhileServerRuns, RestoreRefused } from '../platform/backup/restore.js';
import type { Config } from '../config.js';

/** Runs without configuration, database or network (e.g. checking a file handed over years later). */
interface OfflineCommand {
  summary: string;
  options?: ParseArgsConfig['options'];
  needsDatabase: false;
  run(opts: Record<string, string | boolean | undefined>): Promise<number>;
}

export type Command = DatabaseCommand | OfflineCommand;

interface DatabaseCommand {
  summary: string;
  options?: ParseArgsConfig['options'];
  needsStorage?: boolean;
  needsDatabase?: true;
  /** Checked before the platform starts; a message refuses the command (exit 1). */
  refuse?(config: Config): Promise<string | null>;
  run(ctx: AppContext, opts: Record<string, string | boolean | undefined>): Promise<number>;
}

export const commands: Record<string, Command> = {
  migrate: {
    summary: 'apply database migrations (also done at every start)',
    async run() {
      console.log('Migrations are up to date.');
      return 0;
    },
  },
  'audit verify': {
    summary: 'verify the whole audit chain; exits 1 naming the first bad entry. --checkpoints FILE: also check an exported set of signed checkpoints against it',
    options: { checkpoints: { type: 'string' } },
    async run(ctx, opts) {
      const v = await verifyAuditChain(ctx.db);
      if (v.ok) console.log(`Audit chain intact: ${v.count} entries, head ${v.headHash}`);
      else console.error(`Audit chain BROKEN at entry ${v.firstBad!.seq}: ${v.firstBad!.reason}`);
      if (typeof opts.checkpoints !== 'string') return v.ok ? 0 : 1;
      const file = parseCheckpointExport(fs.readFileSync(opts.checkpoints, 'utf8'));
      const c = await verifyCheckpoints(ctx, file.checkpoints);
      for (const p of c.problems) console.error(`Checkpoint ${p.seq} (signed ${p.signedAt}) BROKEN: ${p.reason}`);
      if (c.ok) console.log(`Checkpoints match the chain: ${c.checked} of ${c.checked}`);
      else console.error(`Audit trail does NOT match ${c.problems.length} of ${c.checked} signed checkpoints: it was rewritten since they were signed`);
      return v.ok && c.ok ? 0 : 1;
    },
  },
  'audit checkpoint': {
    summary: "sign the audit chain's current head with the installation key (a checkpoint)",
    async run(ctx) {
      const c = (await createCheckpoint(ctx, { id: null, name: `cli:${os.userInfo().username}` }, 'cli'))!;
      console.log(`Checkpoint ${c.seq} signed: head ${c.head}`);
      return 0;
    },
  },
  'audit checkpoints export': {
    summary: 'write every signed checkpoint as JSON (--out FILE, else standard output), to keep off-site',
    options: { out: { type: 'string' } },
    async run(ctx, opts) {
      const data = await exportCheckpoints(ctx);
      const text = JSON.stringify(data, null, 2) + '\n';
      if (typeof opts.out !== 'string') process.stdout.write(text);
      else {
        fs.writeFileSync(opts.out, text);
        console.error(`${data.checkpoints.length} checkpoints written to ${opts.out}`);
      }
      return 0;
    },
  },
  scan: {
    summary: 're-hash every object in both stores, verify the audit chain and checkpoints; --repair rewrites a bad copy from the good one. Exits 1 when something is wrong and not repaired',
    options: { repair: { type: 'boolean' } },
    needsStorage: true,
    async run(ctx, opts) {
      const r = await scanObjects(ctx, { repair: opts.repair === true, trigger: 'cli', actor: { id: null, name: `cli:${os.userInfo().username}` } });
      for (const f of r.findings) console.log(`${f.repaired ? 'REPAIRED' : 'PROBLEM '} ${f.kind}${f.store ? ` [${f.store}]` : ''}${f.sha256 ? ` sha256/${f.sha256}` : ''}: ${f.detail}`);
      console.log(`Scan ${r.runId}: ${r.objectsChecked} objects checked, ${r.findings.length} findings, ${r.repaired} repaired, ${r.unresolved} unresolved; audit chain ${r.audit.ok ? 'intact' : 'BROKEN'}, ${r.checkpoints.checked} checkpoints ${r.checkpoints.ok ? 'match' : 'DO NOT match'}`);
      return r.unresolved ? 1 : 0;
    },
  },
  backup: {
    summary: 'write a consistent backup (database, manifest of objects, CA files) to --out FILE, once every object is in the backup store',
    options: { out: { type: 'string' } },
    needsStorage: true,
    async run(ctx, opts) {
      if (typeof opts.out !== 'string') {
        console.error('--out FILE is required');
        return 2;
      }
      const r = await createBackup(ctx, opts.out, (line) => console.log(line));
      const m = r.manifest;
      console.log(`Backup written: ${r.file} (${r.size} bytes): schema ${m.schemaVersion}, ${Object.values(m.counts).reduce((a, b) => a + b, 0)} rows in ${m.tables.length} tables, ${m.objects.count} objects (${m.objects.bytes} bytes, in the backup store), ${m.signedLetters} signed letters, audit head ${m.auditHead.seq} ${m.auditHead.hash}`);
      if (m.certs.length) console.log(`It holds CERTS_DIR's ${m.certs.join(', ')} (keys encrypted). Keep CA_PASSPHRASE and SESSION_SECRET apart from it: restore needs the CA passphrase.`);
      return 0;
    },
  },
  restore: {
    summary: 'restore --from FILE into an empty installation: database, CA files, objects from the backup store; then verify counts, the audit chain and every signed letter. Exit 0 only if all verified',
    options: { from: { type: 'string' } },
    needsStorage: true,
    refuse: refuseWhileServerRuns,
    async run(ctx, opts) {
      if (typeof opts.from !== 'string') {
        console.error('--from FILE is required');
        return 2;
      }
      try {
        const r = await restoreBackup(ctx, opts.from, (line) => console.log(line));
        for (const f of r.failures) console.error(`NOT VERIFIED: ${f}`);
        console.log(r.ok ? 'Restore complete: everything verified.' : `Restore finished with ${r.failures.length} problem(s): see NOT VERIFIED above.`);
        return r.ok ? 0 : 1;
      } catch (e) {
        if (!(e instanceof RestoreRefused)) throw e;
        console.error(e.message);
        return 1;
      }
    },
  },
  'admin create': {
    summary: 'create an administrator (first start without the demo): --username NAME --name "FULL NAME" [--nip NIP]; prints a one-time password',
    options: { username: { type: 'string' }, name: { type: 'string' }, nip: { type: 'string' } },
    async run(ctx, opts) {
      if (typeof opts.username !== 'string' || typeof opts.name !== 'string') {
        console.error('--username NAME and --name "FULL NAME" are required');
        return 2;
      }
      try {
        const nip = typeof opts.nip === 'string' ? opts.nip : undefined;
        const r = await createAdministratorFromConsole(ctx, os.userInfo().username, { username: opts.username, name: opts.name, nip });
        console.log(`Administrator ${r.user.username} created. One-time password (must be changed at first sign-in): ${r.password}`);
        return 0;
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        const t = translator('en');
        const fields = Array.isArray(e.details) ? e.details.map((d: { field?: string; message?: string }) => `  ${d.field}: ${t(d.message ?? '')}`).join('\n') : '';
        console.error(`Refused: ${t(e.messageKey, e.params)}${fields ? '\n' + fields : ''}`);
        return 1;
      }
    },
  },
  'package verify': {
    summary: 'verify an archival package (zip) offline, without database or network: --file F [--ca CA.pem]; exits 1 naming what failed',
    options: { file: { type: 'string' }, ca: { type: 'string' } },
    needsDatabase: false,
    run: verifyPackageCommand,
  },
  'token create': {
    summary: 'issue a personal API token: --user NAME [--name LABEL]; prints the token once',
    options: { user: { type: 'string' }, name: { type: 'string' } },
    async run(ctx, opts) {
      if (typeof opts.user !== 'string') {
        console.error('--user NAME is required');
        return 2;
      }
      const u = await ctx.db.selectFrom('users').select(['id', 'username', 'roles', 'active']).where('username', '=', opts.user.toLowerCase()).executeTakeFirst();
      if (!u || !u.active) {
        console.error(`No active user named ${opts.user}`);
        return 1;
      }
      const t = await createApiToken(ctx, { id: String(u.id), username: u.username, roles: u.roles, ip: 'cli' }, typeof opts.name === 'string' ? opts.name : 'cli');
      console.log(t.token);
      return 0;
    },
  },
};
