// The embedded S3 server (s3rver) on loopback, data under DATA_DIR/s3.
// It speaks enough S3 for put/get/stat/list; see DESIGN.md section 1 for its limits.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AddressInfo } from 'node:net';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';
import type { S3Settings } from './index.js';

interface S3rverObject { bucket: string; key: string; content: Buffer | NodeJS.ReadableStream; metadata: Record<string, string> }
interface S3rverFilesystemStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5?: string): Promise<void>;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
}
const requireS3rver = createRequire(import.meta.url);
const FilesystemStore = requireS3rver('s3rver/lib/stores/filesystem.js') as { prototype: S3rverFilesystemStore };
const ALLOWED_METADATA = (requireS3rver('s3rver/lib/models/object.js') as { ALLOWED_METADATA: string[] }).ALLOWED_METADATA;

const temporaryName = (target: string) => `${target}.${process.pid}-${crypto.randomBytes(6).toString('hex')}.tmp`;

/** Streams into a temporary file and resolves once it is closed; the caller renames it into place. */
async function writeTemporary(target: string, source: NodeJS.ReadableStream, through: Transform): Promise<string> {
  const tmp = temporaryName(target);
  try {
    await pipeline(source, through, fs.createWriteStream(tmp));
    return tmp;
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
}

async function replaceFile(target: string, data: string): Promise<void> {
  const tmp = temporaryName(target);
  await fs.promises.writeFile(tmp, data);
  await fs.promises.rename(tmp, target);
}

// s3rver 3.7 answers a PUT before its file is written (it resolves when the
// request stream ends, not when the file is closed) and writes the object and
// its metadata in place. The crash test (SIGKILL mid-burst) showed the
// consequence: an acknowledged object that is empty or truncated after a
// restart, or a half-written metadata file that makes later requests for the
// key fail with 500. Here every file is written under a temporary name and
// renamed once closed (atomic on POSIX), the metadata first and the object
// file last, since its presence is what s3rver reads as "the object exists".
FilesystemStore.prototype.putMetadata = async function (bucket, key, metadata, md5) {
  const kept = Object.fromEntries(Object.entries(metadata).filter(([name]) => ALLOWED_METADATA.includes(name) || name.startsWith('x-amz-meta-')));
  if (md5) await replaceFile(this.getResourcePath(bucket, key, 'object.md5'), md5);
  await replaceFile(this.getResourcePath(bucket, key, 'metadata.json'), JSON.stringify(kept, null, 2));
};
FilesystemStore.prototype.putObject = async function (object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
  const md5 = crypto.createHash('md5');
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _enc, done) {
      md5.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const source = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
  const tmp = await writeTemporary(objectPath, source, measure);
  const digest = md5.digest('hex');
  await this.putMetadata(object.bucket, object.key, object.metadata, digest);
  await fs.promises.rename(tmp, objectPath);
  return { size, md5: digest };
};

export interface EmbeddedStorage {
  settings: S3Settings;
  stop(): Promise<void>;
}

export async function startEmbeddedStorage(opts: { dir: string; bucket: string; port?: number }): Promise<EmbeddedStorage> {
  fs.mkdirSync(opts.dir, { recursive: true });
  const server = new S3rver({
    port: opts.port ?? 0,
    address: '127.0.0.1',
    directory: opts.dir,
    silent: true,
    configureBuckets: [{ name: opts.bucket }],
  });
  const addr = (await server.run()) as AddressInfo;
  return {
    settings: {
      endPoint: `http://127.0.0.1:${addr.port}`,
      // s3rver's fixed development credentials
      accessKey: 'S3RVER',
      secretKey: 'S3RVER',
      bucket: opts.bucket,
      region: 'us-east-1',
    },
    stop: () => server.close(),
  };
}

export function embeddedStorageDir(dataDir: string): string {
  return path.join(dataDir, 's3');
}

/** The embedded backup store: a separate server and directory, so losing one leaves the other. */
export function embeddedBackupStorageDir(dataDir: string): string {
  return path.join(dataDir, 's3-backup');
}
