// Immutable, content-addressed object storage over any S3 API (DESIGN.md section 6).
// The key is always `sha256/<hex>` computed here from the bytes: never from user text.
// Every object has a row in `objects`; a put of bytes already stored is a no-op.
import crypto from 'node:crypto';
import { Client } from 'minio';
import type { Executor } from '../db/index.js';

export interface S3Settings {
  endPoint: string; // URL
  accessKey: string;
  secretKey: string;
  bucket: string;
  region: string;
}

export interface StoredObject {
  sha256: string;
  size: number;
  contentType: string;
}

export class ObjectStore {
  private client: Client;
  readonly bucket: string;

  constructor(private settings: S3Settings) {
    const u = new URL(settings.endPoint);
    this.client = new Client({
      endPoint: u.hostname,
      port: u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80,
      useSSL: u.protocol === 'https:',
      accessKey: settings.accessKey,
      secretKey: settings.secretKey,
      region: settings.region,
      pathStyle: true,
    });
    this.bucket = settings.bucket;
  }

  static keyFor(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error('invalid sha256');
    return `sha256/${sha256}`;
  }

  async ensureBucket(): Promise<void> {
    if (!(await this.client.bucketExists(this.bucket))) {
      await this.client.makeBucket(this.bucket, this.settings.region);
    }
  }

  /**
   * Store bytes and register them. The upload happens before the row is written
   * (inside the caller's transaction), so a row never exists without its object.
   */
  async put(trx: Executor, bytes: Buffer, contentType: string, createdBy: string | null): Promise<StoredObject> {
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    // Same address, same bytes: a write is never an overwrite (and a bucket with object lock would refuse one).
    // A stored object of another size is damaged; writing the right bytes repairs it.
    if ((await this.stat(sha256))?.size !== bytes.length) {
      // A Buffer with explicit size: s3rver cannot take multipart uploads.
      await this.client.putObject(this.bucket, ObjectStore.keyFor(sha256), bytes, bytes.length, {
        'Content-Type': contentType,
      });
    }
    await trx
      .insertInto('objects')
      .values({ sha256, size: bytes.length, content_type: contentType, created_by: createdBy })
      .onConflict((oc) => oc.column('sha256').doNothing())
      .execute();
    return { sha256, size: bytes.length, contentType };
  }

  /** The object's bytes, checked against their address. */
  async get(sha256: string): Promise<Buffer> {
    const stream = await this.client.getObject(this.bucket, ObjectStore.keyFor(sha256));
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    const actual = crypto.createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256) throw new IntegrityError(sha256, actual);
    return bytes;
  }

  async stat(sha256: string): Promise<{ size: number } | null> {
    try {
      const s = await this.client.statObject(this.bucket, ObjectStore.keyFor(sha256));
      return { size: s.size };
    } catch (e) {
      if ((e as { code?: string }).code === 'NotFound' || (e as { code?: string }).code === 'NoSuchKey') return null;
      throw e;
    }
  }

  /**
   * Delete an object (disposal of a record, DESIGN.md section 6). The caller
   * decides that no other record still refers to these bytes.
   */
  async remove(sha256: string): Promise<void> {
    await this.client.removeObject(this.bucket, ObjectStore.keyFor(sha256));
  }

  /** Write bytes already known by their address (copying between stores, repair); checked before writing. */
  async putCopy(sha256: string, bytes: Buffer, contentType: string): Promise<void> {
    const actual = crypto.createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256) throw new IntegrityError(sha256, actual);
    await this.client.putObject(this.bucket, ObjectStore.keyFor(sha256), bytes, bytes.length, { 'Content-Type': contentType });
  }

  /**
   * Every object in the bucket with its size: one listing instead of a stat per object (backup checks).
   * ListObjects v1 (marker paging): s3rver's v2 continuation tokens use DES, which OpenSSL 3 refuses.
   */
  async *list(): AsyncGenerator<{ sha256: string; size: number }> {
    for await (const o of this.client.listObjects(this.bucket, 'sha256/', true)) {
      const m = /^sha256\/([0-9a-f]{64})$/.exec((o as { name?: string }).name ?? '');
      if (m) yield { sha256: m[1], size: (o as { size: number }).size };
    }
  }

  /** For /healthz: can we reach the bucket at all? */
  async ping(): Promise<void> {
    await this.client.bucketExists(this.bucket);
  }
}

export class IntegrityError extends Error {
  constructor(public expected: string, public actual: string) {
    super(`object sha256/${expected} is corrupt (content hashes to ${actual})`);
  }
}
