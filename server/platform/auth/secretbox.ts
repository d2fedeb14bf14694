// Encrypts small secrets at rest (TOTP seeds) with AES-256-GCM under a key
// derived from the installation's session secret.
import crypto from 'node:crypto';

export class SecretBox {
  private key: Buffer;
  constructor(masterSecret: string, purpose: string) {
    this.key = Buffer.from(crypto.hkdfSync('sha256', masterSecret, 'tnde', purpose, 32));
  }
  seal(plain: string): string {
    const iv = crypto.randomBytes(12);
    const c = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    const enc = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return ['v1', iv.toString('base64url'), enc.toString('base64url'), c.getAuthTag().toString('base64url')].join('.');
  }
  open(sealed: string): string {
    const [v, iv, enc, tag] = sealed.split('.');
    if (v !== 'v1') throw new Error('unknown secret format');
    const d = crypto.createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    d.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([d.update(Buffer.from(enc, 'base64url')), d.final()]).toString('utf8');
  }
}
