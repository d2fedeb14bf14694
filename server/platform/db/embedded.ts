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
  keepProtocolBatchesTogether(server);
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

// Extended-protocol messages that more messages of the same connection follow, up to Sync:
// Parse, Bind, Describe, Execute, Close, Flush.
const BATCH_MESSAGES = new Set([0x50, 0x42, 0x44, 0x45, 0x43, 0x48]);

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  onData(d: Uint8Array): void;
  resolve(n: number): void;
  reject(e: unknown): void;
}

/**
 * pglite-socket 0.2.x queues each protocol message on its own and keeps one
 * connection's messages together only inside a transaction. All connections
 * share PGlite's single session, so another connection's Parse/Bind can land
 * between one client's Parse, Bind and Execute (unnamed statement and portal
 * replaced): a query then gets another query's rows, or "portal does not exist".
 * Serve the connection that sent the last message until its Sync as well.
 */
function keepProtocolBatchesTogether(server: PGLiteSocketServer) {
  const q = (server as unknown as { queryQueue: { queue: QueuedMessage[]; processing: boolean; lastHandlerId: number | null; db: PGlite; processQueue(): Promise<void>; clearQueueForHandler(id: number): void } }).queryQueue;
  let batchOpen = false;
  q.processQueue = async function processQueue() {
    if (q.processing || q.queue.length === 0) return;
    q.processing = true;
    try {
      while (q.queue.length > 0) {
        let item: QueuedMessage | undefined;
        if (q.lastHandlerId !== null && (batchOpen || q.db.isInTransaction())) {
          const i = q.queue.findIndex((m) => m.handlerId === q.lastHandlerId);
          if (i === -1) break; // its next message has not arrived yet; it will call processQueue
          item = q.queue.splice(i, 1)[0];
        } else {
          item = q.queue.shift()!;
        }
        let bytes = 0;
        try {
          await q.db.runExclusive(() => q.db.execProtocolRawStream(item.message, { onRawData: (d: Uint8Array) => { bytes += d.length; item.onData(d); } }));
        } catch (e) {
          item.reject(e);
          return;
        }
        q.lastHandlerId = item.handlerId;
        batchOpen = BATCH_MESSAGES.has(item.message[0]);
        item.resolve(bytes);
      }
    } finally {
      q.processing = false;
    }
  };
  const clear = q.clearQueueForHandler.bind(q);
  q.clearQueueForHandler = (id: number) => {
    if (q.lastHandlerId === id) batchOpen = false; // a client gone mid-batch must not stall the others
    clear(id);
  };
}
