// The embedded S3 server (s3rver) on loopback, data under DATA_DIR/s3.
// It speaks enough S3 for put/get/stat/list; see DESIGN.md section 1 for its limits.
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';
import type { S3Settings } from './index.js';

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
