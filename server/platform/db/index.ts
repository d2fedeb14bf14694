// One pg pool and one Kysely instance per process. Repositories take an
// `Executor` (the Kysely instance or a transaction) so a service decides where a
// transaction starts and every write inside it, including the audit entry,
// commits or rolls back together.
import pg from 'pg';
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import type { Database } from './schema.js';

// bigint ids come back as strings (exact); counts are parsed where used.
export type Db = Kysely<Database>;
export type Executor = Kysely<Database> | Transaction<Database>;

export interface DbHandle {
  db: Db;
  pool: pg.Pool;
  close(): Promise<void>;
}

export function connectDatabase(url: string, poolMax: number): DbHandle {
  const pool = new pg.Pool({ connectionString: url, max: poolMax, idleTimeoutMillis: 30_000 });
  // A dropped connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    async close() {
      await db.destroy(); // ends the pool too
    },
  };
}
