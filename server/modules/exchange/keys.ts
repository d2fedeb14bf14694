// The installation key: an Ed25519 key pair that signs our exchange requests and
// receipts, made on first start in CERTS_DIR (private key PKCS#8, encrypted under
// the CA passphrase, mode 0600), and the installation id peers know us by.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { Executor } from '../../platform/db/index.js';
import { caPassphrase } from '../signing/service.js';
import { decryptPrivateKey, encryptPrivateKey } from '../signing/ca.js';

export interface InstallationKey {
  privateKey: crypto.KeyObject;
  publicKeyPem: string;
  /** SHA-256 of the DER public key, hex: what an admin compares by phone before registering a peer. */
  fingerprint: string;
}

const loaded = new Map<string, InstallationKey>();

function files(certsDir: string) {
  return { key: path.join(certsDir, 'installation.key'), pub: path.join(certsDir, 'installation.pub') };
}

function fromPrivatePem(pem: string): InstallationKey {
  const privateKey = crypto.createPrivateKey(pem);
  const pub = crypto.createPublicKey(privateKey);
  return {
    privateKey,
    publicKeyPem: pub.export({ type: 'spki', format: 'pem' }) as string,
    fingerprint: crypto.createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex'),
  };
}

/** Loads the key, creating it on first use; main.ts calls it at start so the key exists before any peer asks. */
export function installationKey(ctx: { config: Config; logger: Logger }): InstallationKey {
  const dir = ctx.config.certsDir;
  const cached = loaded.get(dir);
  if (cached) return cached;
  const f = files(dir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!fs.existsSync(f.key)) {
    const { privateKey } = crypto.generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    try {
      // 'wx': another process that won the race keeps its key, and we read it below.
      fs.writeFileSync(f.key, encryptPrivateKey(pem, caPassphrase(ctx.config, ctx.logger)), { mode: 0o600, flag: 'wx' });
      fs.writeFileSync(f.pub, crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
      ctx.logger.info({ file: f.key }, 'installation key created');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  const key = fromPrivatePem(decryptPrivateKey(fs.readFileSync(f.key, 'utf8'), caPassphrase(ctx.config, ctx.logger)));
  loaded.set(dir, key);
  return key;
}

/** INSTALLATION_ID, else the top unit's code (lower case), else the host name. */
export async function installationId(db: Executor, config: Config): Promise<string> {
  if (config.INSTALLATION_ID) return config.INSTALLATION_ID;
  const top = await db.selectFrom('units').select('code').where('parent_id', 'is', null).where('active', '=', true).orderBy('id').executeTakeFirst();
  return (top?.code ?? os.hostname()).toLowerCase().replace(/[^a-z0-9._-]/g, '-').slice(0, 64);
}
