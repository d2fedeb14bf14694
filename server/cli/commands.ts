// The table of operator commands. A new command is one entry here.
import type { ParseArgsConfig } from 'node:util';
import type { AppContext } from '../platform/context.js';
import { verifyAuditChain } from '../platform/audit/index.js';
import os from 'node:os';
import { createApiToken } from '../modules/account/service.js';
import { createAdministratorFromConsole } from '../modules/org/service.js';
import { AppError } from '../platform/http/errors.js';
import { translator } from '../platform/i18n/index.js';

export interface Command {
  summary: string;
  options?: ParseArgsConfig['options'];
  needsStorage?: boolean;
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
    summary: 'verify the whole audit chain; exits 1 naming the first bad entry',
    async run(ctx) {
      const v = await verifyAuditChain(ctx.db);
      if (v.ok) {
        console.log(`Audit chain intact: ${v.count} entries, head ${v.headHash}`);
        return 0;
      }
      console.error(`Audit chain BROKEN at entry ${v.firstBad!.seq}: ${v.firstBad!.reason}`);
      return 1;
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
