// Configuration from environment variables, validated once at start.
// Every bad value is reported with its variable name, so an operator can fix it.
import { z } from 'zod';
import path from 'node:path';

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  PUBLIC_URL: z.string().url().optional(),
  DATA_DIR: z.string().min(1).default('./storage'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  S3_ENDPOINT: z.string().url().optional(),
  S3_ACCESS_KEY: z.string().optional(),
  S3_SECRET_KEY: z.string().optional(),
  S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name').default('tnde'),
  S3_REGION: z.string().default('us-east-1'),
  /** The backup store (a second S3 endpoint or bucket); default: a second embedded store under DATA_DIR. */
  BACKUP_S3_ENDPOINT: z.string().url().optional(),
  BACKUP_S3_ACCESS_KEY: z.string().optional(),
  BACKUP_S3_SECRET_KEY: z.string().optional(),
  BACKUP_S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name').default('tnde-backup'),
  BACKUP_S3_REGION: z.string().default('us-east-1'),
  /** Hours between scheduled integrity scans of both stores (0: no scheduled scan). */
  SCAN_INTERVAL_HOURS: z.coerce.number().min(0).max(720).default(24),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SESSION_MAX_AGE_HOURS: z.coerce.number().positive().max(720).default(8),
  SECURE_COOKIES: bool.optional(),
  TRUST_PROXY: z.string().optional(),
  DEMO: bool.default(false),
  DEMO_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
  LOGIN_LOCK_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
  UPLOAD_MAX_MB: z.coerce.number().positive().max(1024).default(25),
  DEFAULT_LOCALE: z.enum(['id', 'en']).default('id'),
  /** The internal CA's certificate and encrypted key (and a generated passphrase outside production). */
  CERTS_DIR: z.string().min(1).default('./certs'),
  CA_PASSPHRASE: z.string().min(16, 'must be at least 16 characters (it protects the CA key)').optional(),
  CA_NAME: z.string().trim().min(1).max(64).optional(),
  /** Outgoing mail to external addressees. Without SMTP_HOST, e-mails stay queued. */
  SMTP_HOST: z.string().trim().min(1).optional(),
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  SMTP_SECURE: bool.default(false),
  SMTP_USER: z.string().optional(),
  SMTP_PASSWORD: z.string().optional(),
  MAIL_FROM: z.string().trim().min(3).max(200).optional(),
  /** This installation's name towards peers (X-TNDE-Peer); default: the top unit's code, else the host name. */
  INSTALLATION_ID: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-"').optional(),
});

export type Config = z.infer<typeof schema> & {
  /** True when no DATABASE_URL is given: PGlite under DATA_DIR. */
  embeddedDatabase: boolean;
  /** True when no S3_ENDPOINT is given: s3rver under DATA_DIR. */
  embeddedStorage: boolean;
  /** True when no BACKUP_S3_ENDPOINT is given: a second s3rver under DATA_DIR/s3-backup. */
  embeddedBackupStorage: boolean;
  dataDir: string;
  certsDir: string;
  publicUrl: string;
};

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super('Invalid configuration:\n' + problems.map((p) => '  - ' + p).join('\n'));
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "not set", as in most .env files.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  // Checked on the raw values too, so one start names every bad variable, not only the first kind.
  const raw = cleaned as Record<string, string>;
  if (raw.S3_ENDPOINT && (!raw.S3_ACCESS_KEY || !raw.S3_SECRET_KEY)) {
    problems.push('S3_ACCESS_KEY and S3_SECRET_KEY: required when S3_ENDPOINT is set');
  }
  if (raw.BACKUP_S3_ENDPOINT && (!raw.BACKUP_S3_ACCESS_KEY || !raw.BACKUP_S3_SECRET_KEY)) {
    problems.push('BACKUP_S3_ACCESS_KEY and BACKUP_S3_SECRET_KEY: required when BACKUP_S3_ENDPOINT is set');
  }
  if (raw.NODE_ENV === 'production' && raw.S3_ENDPOINT && !raw.BACKUP_S3_ENDPOINT) {
    problems.push('BACKUP_S3_ENDPOINT: required in production with S3_ENDPOINT (a second endpoint or bucket, ideally at another site, for the copies)');
  }
  if (raw.BACKUP_S3_ENDPOINT && raw.BACKUP_S3_ENDPOINT === raw.S3_ENDPOINT && (raw.BACKUP_S3_BUCKET ?? 'tnde-backup') === (raw.S3_BUCKET ?? 'tnde')) {
    problems.push('BACKUP_S3_BUCKET: must differ from S3_BUCKET on the same endpoint (a copy in the same bucket is no backup)');
  }
  if (raw.NODE_ENV === 'production' && !raw.SESSION_SECRET) {
    problems.push('SESSION_SECRET: required in production (at least 32 random characters)');
  }
  if (raw.NODE_ENV === 'production' && !raw.CA_PASSPHRASE) {
    problems.push('CA_PASSPHRASE: required in production (a long random passphrase for the internal CA key; keep a copy apart from the backups)');
  }
  if (raw.SMTP_HOST && !raw.MAIL_FROM) {
    problems.push('MAIL_FROM: required when SMTP_HOST is set (the sender, e.g. "TNDE Pemprov" <tnde@example.go.id>)');
  }
  if (raw.SMTP_USER && !raw.SMTP_PASSWORD) {
    problems.push('SMTP_PASSWORD: required when SMTP_USER is set');
  }
  if (!parsed.success || problems.length) throw new ConfigError(problems);
  const c = parsed.data;
  return {
    ...c,
    embeddedDatabase: !c.DATABASE_URL,
    embeddedStorage: !c.S3_ENDPOINT,
    embeddedBackupStorage: !c.BACKUP_S3_ENDPOINT,
    dataDir: path.resolve(c.DATA_DIR),
    certsDir: path.resolve(c.CERTS_DIR),
    publicUrl: (c.PUBLIC_URL ?? `http://localhost:${c.PORT}`).replace(/\/$/, ''),
  };
}
