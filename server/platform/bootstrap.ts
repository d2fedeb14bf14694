// Brings up what the application stands on: the database (embedded PGlite or a
// server), migrations, object storage (embedded s3rver or an S3 endpoint), and
// the installation's secrets. Used by main.ts, the CLI and the test harness.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import pino, { type Logger } from 'pino';
import type { Config } from '../config.js';
import type { AppContext } from './context.js';
import { connectDatabase } from './db/index.js';
import { startEmbeddedDatabase, findRunningEmbeddedDatabase, type EmbeddedDatabase } from './db/embedded.js';
import { migrateToLatest } from './db/migrate.js';
import { ObjectStore, type S3Settings } from './storage/index.js';
import { startEmbeddedStorage, embeddedStorageDir, embeddedBackupStorageDir, type EmbeddedStorage } from './storage/embedded.js';
import { SecretBox } from './auth/secretbox.js';

export interface Platform {
  ctx: AppContext;
  stop(): Promise<void>;
}

export interface PlatformOptions {
  /** Start the embedded S3 server when none is configured (the CLI may not need one). */
  storage?: boolean;
  /** For operator commands: use a running server's embedded database rather than opening the directory. */
  attachToRunning?: boolean;
  logger?: Logger;
  migrate?: boolean;
}

export function createLogger(config: Config): Logger {
  return pino({
    level: config.NODE_ENV === 'test' ? 'silent' : config.LOG_LEVEL,
    redact: { paths: ['password', '*.password', 'passphrase', '*.passphrase', 'token', '*.token', 'req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
  });
}

/** The session secret: configured, or generated once and kept under DATA_DIR. */
function loadSessionSecret(config: Config): string {
  if (config.SESSION_SECRET) return config.SESSION_SECRET;
  const file = path.join(config.dataDir, 'session.secret');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  fs.mkdirSync(config.dataDir, { recursive: true });
  const secret = crypto.randomBytes(48).toString('base64url');
  fs.writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

export async function startPlatform(config: Config, opts: PlatformOptions = {}): Promise<Platform> {
  const logger = opts.logger ?? createLogger(config);
  const stops: (() => Promise<void>)[] = [];
  try {
    let url = config.DATABASE_URL;
    let embeddedDb: EmbeddedDatabase | undefined;
    if (!url) {
      if (opts.attachToRunning) url = await findRunningEmbeddedDatabase(config.dataDir);
      if (!url) {
        embeddedDb = await startEmbeddedDatabase({ dataDir: config.dataDir });
        stops.push(() => embeddedDb!.stop());
        url = embeddedDb.url;
        logger.info({ dir: path.join(config.dataDir, 'pglite') }, 'embedded PostgreSQL (PGlite) started');
      }
    }
    // PGlite runs one query at a time; a small pool avoids queueing whole transactions behind each other.
    const dbHandle = connectDatabase(url, embeddedDb || !config.DATABASE_URL ? Math.min(config.DATABASE_POOL_MAX, 8) : config.DATABASE_POOL_MAX);
    stops.unshift(() => dbHandle.close());
    if (opts.migrate !== false) {
      const applied = await migrateToLatest(dbHandle.db);
      if (applied.length) logger.info({ applied }, 'migrations applied');
    }

    const unreachable = (bucket: string, region: string): S3Settings => ({ endPoint: 'http://127.0.0.1:1', accessKey: 'none', secretKey: 'none', bucket, region });
    const openStore = async (name: string, configured: S3Settings | undefined, dir: string, fallback: S3Settings): Promise<ObjectStore> => {
      let settings = configured;
      if (!settings && opts.storage !== false) {
        const es: EmbeddedStorage = await startEmbeddedStorage({ dir, bucket: fallback.bucket });
        stops.push(() => es.stop());
        settings = es.settings;
        logger.info({ endpoint: settings.endPoint, bucket: settings.bucket }, 'embedded S3 (s3rver) started');
      }
      const store = new ObjectStore(settings ?? fallback);
      // Named, so an operator reading "failed to start" knows which store and bucket to look at.
      if (opts.storage !== false) {
        await store.ensureBucket().catch((e: unknown) => {
          throw new Error(`${name} ${settings?.endPoint ?? ''} bucket ${store.bucket}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        });
      }
      return store;
    };
    const store = await openStore(
      'object store',
      config.S3_ENDPOINT ? { endPoint: config.S3_ENDPOINT, accessKey: config.S3_ACCESS_KEY!, secretKey: config.S3_SECRET_KEY!, bucket: config.S3_BUCKET, region: config.S3_REGION } : undefined,
      embeddedStorageDir(config.dataDir),
      unreachable(config.S3_BUCKET, config.S3_REGION),
    );
    const backupStore = await openStore(
      'backup store',
      config.BACKUP_S3_ENDPOINT
        ? { endPoint: config.BACKUP_S3_ENDPOINT, accessKey: config.BACKUP_S3_ACCESS_KEY!, secretKey: config.BACKUP_S3_SECRET_KEY!, bucket: config.BACKUP_S3_BUCKET, region: config.BACKUP_S3_REGION }
        : undefined,
      embeddedBackupStorageDir(config.dataDir),
      unreachable(config.BACKUP_S3_BUCKET, config.BACKUP_S3_REGION),
    );

    const sessionSecret = loadSessionSecret(config);
    const ctx: AppContext = {
      config,
      db: dbHandle.db,
      dbHandle,
      store,
      backupStore,
      logger,
      secrets: new SecretBox(sessionSecret, 'secrets-at-rest'),
      sessionSecret,
    };
    return {
      ctx,
      async stop() {
        for (const s of stops) await s().catch((e) => logger.warn({ err: e }, 'error while stopping'));
      },
    };
  } catch (e) {
    for (const s of stops) await s().catch(() => {});
    throw e;
  }
}
