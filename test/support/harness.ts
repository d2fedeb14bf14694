// Test harness. Each test file gets its own database, copied from a template
// that is migrated and seeded once per process, and its own bucket on one
// embedded S3 server. With TEST_DATABASE_URL set, the same suite runs against a
// real PostgreSQL (CREATE DATABASE ... TEMPLATE), otherwise against PGlite.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import pg from 'pg';
import supertest from 'supertest';
import { PDFDocument } from 'pdf-lib';
import type { Express } from 'express';
import { loadConfig, type Config } from '../../server/config.js';
import { connectDatabase, type DbHandle } from '../../server/platform/db/index.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../../server/platform/db/embedded.js';
import { migrateToLatest } from '../../server/platform/db/migrate.js';
import { ObjectStore } from '../../server/platform/storage/index.js';
import { startEmbeddedStorage, type EmbeddedStorage } from '../../server/platform/storage/embedded.js';
import { SecretBox } from '../../server/platform/auth/secretbox.js';
import { createLogger } from '../../server/platform/bootstrap.js';
import type { AppContext } from '../../server/platform/context.js';
import { buildApp } from '../../server/app.js';
import { seedDemoOrganisation } from '../../server/modules/org/demo.js';
import { startJobs, type Jobs } from '../../server/platform/jobs/index.js';
import { APP_JOBS } from '../../server/platform/jobs/app-jobs.js';

export const DEMO_PASSWORD = 'rahasia-demo-123';
const realPg = process.env.TEST_DATABASE_URL;
export const usingRealPostgres = !!realPg;

let storage: Promise<EmbeddedStorage> | undefined;
let template: Promise<Blob | string> | undefined;
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-test-'));
let counter = 0;

function testConfig(overrides: Record<string, string> = {}): Config {
  // One internal CA per test process, in its tmp dir: created while seeding the template (demo certificate of penandatangan).
  return loadConfig({ NODE_ENV: 'test', DATA_DIR: tmpRoot, CERTS_DIR: path.join(tmpRoot, 'certs'), SESSION_SECRET: 'x'.repeat(40), LOG_LEVEL: 'silent', ...overrides });
}

function sharedStorage() {
  storage ??= startEmbeddedStorage({ dir: path.join(tmpRoot, 's3'), bucket: 'tnde-shared' });
  return storage;
}

async function seed(handle: DbHandle) {
  await migrateToLatest(handle.db);
  const ctx = { config: testConfig(), db: handle.db, dbHandle: handle, logger: createLogger(testConfig()) } as AppContext;
  await seedDemoOrganisation(ctx, DEMO_PASSWORD);
}

/** The template: a PGlite data-dir dump, or the name of a PostgreSQL template database. */
function getTemplate(): Promise<Blob | string> {
  template ??= (async () => {
    if (realPg) {
      const name = `tnde_template_${process.pid}`;
      const admin = new pg.Client({ connectionString: realPg });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const h = connectDatabase(withDatabase(realPg, name), 4);
      await seed(h);
      await h.close();
      return name;
    }
    const e = await startEmbeddedDatabase({});
    const h = connectDatabase(e.url, 4);
    await seed(h);
    await h.close();
    const blob = await e.db.dumpDataDir('none');
    await e.stop();
    return blob;
  })();
  return template;
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = '/' + db;
  return u.toString();
}

export interface TestEnv {
  ctx: AppContext;
  app: Express;
  config: Config;
  /** A supertest agent that keeps cookies, signed in as the given demo user. */
  loginAs(username: string, password?: string): Promise<LoggedInAgent>;
  agent(): supertest.Agent;
  /** Token auth for the JSON API. */
  tokenFor(username: string): Promise<string>;
  /** The background jobs, when started with `{ jobs: true }`. */
  jobs?: Jobs;
  close(): Promise<void>;
}

export interface LoggedInAgent {
  agent: supertest.Agent;
  csrf(): Promise<string>;
}

/** `jobs`: also start the application's background jobs (pg-boss), as main.ts does. */
export async function startTestEnv(configOverrides: Record<string, string> = {}, opts: { jobs?: boolean } = {}): Promise<TestEnv> {
  const config = testConfig(configOverrides);
  const tpl = await getTemplate();
  let embedded: EmbeddedDatabase | undefined;
  let url: string;
  let dbName: string | undefined;
  if (typeof tpl === 'string') {
    dbName = `tnde_test_${process.pid}_${++counter}_${crypto.randomBytes(3).toString('hex')}`;
    const admin = new pg.Client({ connectionString: realPg });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName} TEMPLATE ${tpl}`);
    await admin.end();
    url = withDatabase(realPg!, dbName);
  } else {
    embedded = await startEmbeddedDatabase({ loadDataDir: tpl });
    url = embedded.url;
  }
  const dbHandle = connectDatabase(url, embedded ? 8 : 10);
  const s3 = await sharedStorage();
  const store = new ObjectStore({ ...s3.settings, bucket: `t${process.pid}-${++counter}-${crypto.randomBytes(3).toString('hex')}` });
  await store.ensureBucket();
  // The backup store: another bucket on the same embedded server (BACKUP_S3_* may name a second one).
  const backupStore = new ObjectStore({ ...s3.settings, bucket: `${store.bucket}-bak` });
  await backupStore.ensureBucket();
  const ctx: AppContext = {
    config,
    db: dbHandle.db,
    dbHandle,
    store,
    backupStore,
    logger: createLogger(config),
    secrets: new SecretBox(config.SESSION_SECRET!, 'secrets-at-rest'),
    sessionSecret: config.SESSION_SECRET!,
  };
  const app = buildApp(ctx);
  const jobs = opts.jobs ? await startJobs(ctx, APP_JOBS) : undefined;
  const env: TestEnv = {
    ctx,
    app,
    config,
    jobs,
    agent: () => supertest.agent(app),
    async loginAs(username, password = DEMO_PASSWORD) {
      const agent = supertest.agent(app);
      const csrf = async () => {
        const page = await agent.get('/profile').redirects(0);
        const html = page.status === 200 ? page.text : (await agent.get('/login')).text;
        const m = /name="_csrf" value="([^"]+)"/.exec(html);
        if (!m) throw new Error('no CSRF token on page');
        return m[1];
      };
      const token = /name="_csrf" value="([^"]+)"/.exec((await agent.get('/login')).text)![1];
      const res = await agent.post('/login').type('form').send({ _csrf: token, username, password });
      if (res.status !== 303) throw new Error(`login as ${username} failed: ${res.status}`);
      return { agent, csrf };
    },
    async tokenFor(username) {
      const { createApiToken } = await import('../../server/modules/account/service.js');
      const u = await ctx.db.selectFrom('users').select(['id', 'username', 'roles']).where('username', '=', username).executeTakeFirstOrThrow();
      return (await createApiToken(ctx, { id: String(u.id), username: u.username, roles: u.roles }, 'test')).token;
    },
    async close() {
      await jobs?.stop();
      await dbHandle.close();
      if (embedded) await embedded.stop();
      if (dbName) {
        const admin = new pg.Client({ connectionString: realPg });
        await admin.connect();
        await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
        await admin.end();
      }
    },
  };
  return env;
}

/** Requests to the JSON API carrying a personal API token (the `Authorization: Bearer` header). */
export function bearerClient(app: Express, token: string) {
  const wrap = (r: supertest.Test) => r.set('Authorization', `Bearer ${token}`);
  return {
    get: (u: string) => wrap(supertest(app).get(u)),
    post: (u: string) => wrap(supertest(app).post(u)),
    put: (u: string) => wrap(supertest(app).put(u)),
    patch: (u: string) => wrap(supertest(app).patch(u)),
    delete: (u: string) => wrap(supertest(app).delete(u)),
  };
}

/** Extracts the CSRF token from a rendered page. */
export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token on page');
  return m[1];
}

/** A one-page PDF with the given text, standing in for a scanned letter. */
export async function scanPdf(text: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage().drawText(text);
  return Buffer.from(await doc.save());
}

/** Row counts of the given tables, to show a refused request changed nothing. */
export async function snapshotCounts(ctx: AppContext, tables: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tables) {
    const r = await ctx.dbHandle.pool.query(`SELECT count(*)::int AS n FROM ${t}`);
    out[t] = r.rows[0].n;
  }
  return out;
}
