// What every service needs from the platform, built once by main.ts (or the
// test harness) and passed down. No module reaches for globals.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db, DbHandle } from './db/index.js';
import type { ObjectStore } from './storage/index.js';
import type { SecretBox } from './auth/secretbox.js';

export interface AppContext {
  config: Config;
  db: Db;
  dbHandle: DbHandle;
  store: ObjectStore;
  /** The second copy of every object (DESIGN.md section 6), filled through the job queue. */
  backupStore: ObjectStore;
  logger: Logger;
  /** Encrypts small secrets at rest (TOTP seeds). */
  secrets: SecretBox;
  sessionSecret: string;
}
