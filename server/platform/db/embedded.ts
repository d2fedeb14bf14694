// The embedded PostgreSQL: PGlite (PostgreSQL compiled to WASM) served on a
// loopback port, so the application talks to it with the same `pg` driver it
// uses against a real server. PGlite opens a data directory from one process
// only; the port is written to DATA_DIR/pglite.port so operator commands can
// reach a running server instead of opening the directory a second time.
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedDatabase {
  url: string;
  db: PGlite;
  stop(): Promise<void>;
}

export async function startEmbeddedDatabase(opts: {
  dataDir?: string; // undefined = in memory
  loadDataDir?: Blob; // a dumped data dir to start from (tests' template)
  port?: number;
}): Promise<EmbeddedDatabase> {
  const dir = opts.dataDir ? path.join(opts.dataDir, 'pglite') : undefined;
  if (dir) fs.mkdirSync(dir, { recursive: true });
  const db = await PGlite.create(dir, opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {});
  const server = new PGLiteSocketServer({ db, port: opts.port ?? 0, host: '127.0.0.1', maxConnections: 64 });
  await server.start();
  const port = Number(server.getServerConn().split(':').pop());
  const portFile = opts.dataDir ? path.join(opts.dataDir, 'pglite.port') : undefined;
  if (portFile) fs.writeFileSync(portFile, String(port));
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    db,
    async stop() {
      await server.stop();
      await db.close();
      if (portFile) fs.rmSync(portFile, { force: true });
    },
  };
}

/** The URL of an embedded database already served by another process, if any. */
export async function findRunningEmbeddedDatabase(dataDir: string): Promise<string | undefined> {
  const portFile = path.join(dataDir, 'pglite.port');
  if (!fs.existsSync(portFile)) return undefined;
  const port = Number(fs.readFileSync(portFile, 'utf8'));
  const alive = await new Promise<boolean>((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => {
      s.end();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
  return alive ? `postgres://postgres@127.0.0.1:${port}/postgres` : undefined;
}
