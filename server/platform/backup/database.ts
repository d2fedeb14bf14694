// The database half of a backup: what is read from one snapshot (facts for the
// manifest, the objects list, the dump itself) and how it is loaded back.
//
// On a PostgreSQL server the dump is pg_dump's custom format, taken from the
// snapshot the manifest was read in (pg_export_snapshot + pg_dump --snapshot).
// On PGlite there is no pg_dump binary, and @electric-sql/pglite-tools needs the
// PGlite instance in this process, which the CLI has only when no server runs;
// a backup must also work while the server runs. So on PGlite the dump is
// logical, through SQL over the same socket the server uses: in one REPEATABLE
// READ READ ONLY transaction every table of the public schema, in foreign-key
// order, is read through a cursor as row_to_json lines (gzip, one part per
// table), with every sequence's position. Loading it back inserts the lines with
// json_populate_recordset into the freshly migrated empty schema, with triggers
// and foreign keys off (session_replication_role = replica), in one transaction.
// Text in, text out: PostgreSQL converts each value, so bigint, jsonb, bytea and
// timestamps come back exactly. Generated columns are computed again.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import readline from 'node:readline';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type pg from 'pg';

const run = promisify(execFile);
const FETCH = 2000;

/** Identifiers come from the catalog, never from users; quoted anyway. */
const ident = (s: string) => '"' + s.replace(/"/g, '""') + '"';

export interface SnapshotFacts {
  /** Tables of the public schema, referenced tables first. */
  tables: string[];
  counts: Record<string, number>;
  schemaVersion: string | null;
  auditHead: { seq: string; hash: string };
  signedLetters: number;
  serverVersion: string;
}

export async function readFacts(client: pg.PoolClient): Promise<SnapshotFacts> {
  const tables = await tablesInForeignKeyOrder(client);
  const counts: Record<string, number> = {};
  for (const t of tables) counts[t] = Number((await client.query(`SELECT count(*) AS n FROM public.${ident(t)}`)).rows[0].n);
  const version = await client.query(`SELECT name FROM schema_migrations ORDER BY name DESC LIMIT 1`);
  const head = (await client.query(`SELECT seq::text AS seq, hash FROM audit_head WHERE id = 1`)).rows[0] ?? { seq: '0', hash: '0'.repeat(64) };
  const signed = await client.query(`SELECT count(DISTINCT letter_id) AS n FROM letter_signatures`);
  const server = await client.query(`SELECT current_setting('server_version') AS v`);
  return {
    tables,
    counts,
    schemaVersion: version.rows[0]?.name ?? null,
    auditHead: { seq: head.seq, hash: head.hash },
    signedLetters: Number(signed.rows[0].n),
    serverVersion: server.rows[0].v,
  };
}

async function tablesInForeignKeyOrder(client: pg.PoolClient): Promise<string[]> {
  const names: string[] = (
    await client.query(`SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname`)
  ).rows.map((r) => r.relname);
  const edges: { from: string; to: string }[] = (
    await client.query(`SELECT c.relname AS "from", r.relname AS "to" FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE k.contype = 'f' AND n.nspname = 'public'`)
  ).rows;
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (t: string) => {
    if (state.get(t)) return; // done, or a cycle (a self-reference): loading runs with foreign keys off anyway
    state.set(t, 'visiting');
    for (const e of edges) if (e.from === t && e.to !== t) visit(e.to);
    state.set(t, 'done');
    order.push(t);
  };
  names.forEach(visit);
  return order;
}

/** Columns a dump carries: generated ones are computed again on load. */
async function storedColumns(client: pg.PoolClient, table: string): Promise<string[]> {
  const r = await client.query(`SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum`, [`public.${ident(table)}`]);
  return r.rows.map((x) => x.attname);
}

/** Every object still held (not destroyed), as manifest lines, from the snapshot. */
export async function writeObjectList(client: pg.PoolClient, file: string): Promise<{ count: number; bytes: number }> {
  let count = 0;
  let bytes = 0;
  const out = fs.createWriteStream(file);
  await client.query(`DECLARE backup_objects NO SCROLL CURSOR FOR SELECT sha256, size::text AS size, content_type FROM objects WHERE destroyed_at IS NULL ORDER BY sha256`);
  for (;;) {
    const rows = (await client.query(`FETCH ${FETCH} FROM backup_objects`)).rows;
    if (!rows.length) break;
    for (const r of rows) {
      count++;
      bytes += Number(r.size);
      out.write(JSON.stringify({ sha256: r.sha256, size: Number(r.size), type: r.content_type }) + '\n');
    }
  }
  await client.query(`CLOSE backup_objects`);
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  return { count, bytes };
}

export interface ObjectLine {
  sha256: string;
  size: number;
  type: string;
}

export async function readObjectList(file: string): Promise<ObjectLine[]> {
  const lines: ObjectLine[] = [];
  for await (const line of readline.createInterface({ input: fs.createReadStream(file) })) if (line) lines.push(JSON.parse(line));
  return lines;
}

// ---------- PGlite: the logical dump ----------

/** One gzip part per table (`db/<table>.ndjson.gz`) and `db/sequences.json`; returns the part names. */
export async function dumpLogical(client: pg.PoolClient, tables: string[], dir: string): Promise<string[]> {
  fs.mkdirSync(path.join(dir, 'db'), { recursive: true });
  const parts: string[] = [];
  for (const t of tables) {
    const cols = (await storedColumns(client, t)).map(ident).join(', ');
    const name = `db/${t}.ndjson.gz`;
    const gz = zlib.createGzip({ level: 6 });
    const done = new Promise<void>((resolve, reject) => {
      const ws = fs.createWriteStream(path.join(dir, name));
      gz.pipe(ws).on('finish', resolve).on('error', reject);
    });
    await client.query(`DECLARE backup_rows NO SCROLL CURSOR FOR SELECT row_to_json(x)::text AS j FROM (SELECT ${cols} FROM public.${ident(t)}) x`);
    for (;;) {
      const rows = (await client.query(`FETCH ${FETCH} FROM backup_rows`)).rows;
      if (!rows.length) break;
      if (!gz.write(rows.map((r) => r.j).join('\n') + '\n')) await new Promise((r) => gz.once('drain', r));
    }
    await client.query(`CLOSE backup_rows`);
    gz.end();
    await done;
    parts.push(name);
  }
  const seqs = (await client.query(`SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' ORDER BY sequencename`)).rows;
  const positions: Record<string, { last: string; called: boolean }> = {};
  for (const s of seqs) {
    const r = (await client.query(`SELECT last_value::text AS last, is_called AS called FROM public.${ident(s.sequencename)}`)).rows[0];
    positions[s.sequencename] = r;
  }
  fs.writeFileSync(path.join(dir, 'db/sequences.json'), JSON.stringify(positions));
  parts.push('db/sequences.json');
  return parts;
}

/** Loads a logical dump into the migrated, empty schema of the same version, in one transaction. */
export async function loadLogical(client: pg.PoolClient, tables: string[], dir: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL session_replication_role = replica`);
    // What the migrations seeded (e.g. the audit head, reference data) is replaced by the backup's rows.
    for (const t of [...tables].reverse()) await client.query(`DELETE FROM public.${ident(t)}`);
    for (const t of tables) {
      const cols = (await storedColumns(client, t)).map(ident).join(', ');
      const insert = `INSERT INTO public.${ident(t)} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM json_populate_recordset(NULL::public.${ident(t)}, $1::json)`;
      let batch: string[] = [];
      let bytes = 0;
      const flush = async () => {
        if (batch.length) await client.query(insert, ['[' + batch.join(',') + ']']);
        batch = [];
        bytes = 0;
      };
      const input = fs.createReadStream(path.join(dir, `db/${t}.ndjson.gz`)).pipe(zlib.createGunzip());
      for await (const line of readline.createInterface({ input, crlfDelay: Infinity })) {
        if (!line) continue;
        batch.push(line);
        bytes += line.length;
        if (batch.length >= 1000 || bytes > 8 << 20) await flush();
      }
      await flush();
    }
    const positions: Record<string, { last: string; called: boolean }> = JSON.parse(fs.readFileSync(path.join(dir, 'db/sequences.json'), 'utf8'));
    for (const [seq, p] of Object.entries(positions)) await client.query(`SELECT setval($1::regclass, $2::bigint, $3)`, [`public.${ident(seq)}`, p.last, p.called]);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

// ---------- PostgreSQL server: pg_dump / pg_restore ----------

/** The URL without its password, which goes to the child in PGPASSWORD (not on its command line). */
function connectionFor(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { dbname: u.toString(), env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) } };
}

export async function toolMajor(tool: 'pg_dump' | 'pg_restore'): Promise<{ major: number; version: string }> {
  let out: string;
  try {
    out = (await run(tool, ['--version'])).stdout;
  } catch {
    throw new Error(`${tool} was not found on PATH: install the PostgreSQL client tools of the server's major version (or newer)`);
  }
  const m = /(\d+)(?:\.(\d+))?/.exec(out);
  if (!m) throw new Error(`cannot read the version of ${tool}: ${out.trim()}`);
  return { major: Number(m[1]), version: m[0] };
}

/** pg_dump of the public schema (custom format) from an exported snapshot; refuses an older pg_dump than the server. */
export async function pgDump(url: string, snapshot: string, serverVersion: string, file: string): Promise<string> {
  const tool = await toolMajor('pg_dump');
  const serverMajor = Number(/^(\d+)/.exec(serverVersion)?.[1]);
  if (tool.major < serverMajor) {
    throw new Error(`pg_dump ${tool.version} is older than the server (PostgreSQL ${serverVersion}); pg_dump's major version must be at least the server's: install postgresql-client-${serverMajor} and put its pg_dump first on PATH`);
  }
  const c = connectionFor(url);
  await spawnChecked('pg_dump', ['-Fc', '--no-owner', '--no-privileges', '-n', 'public', `--snapshot=${snapshot}`, '-f', file, '--dbname', c.dbname], c.env);
  return tool.version;
}

/** pg_restore reads archives of its own major version and older. */
export async function checkPgRestore(dumpedWith: string): Promise<void> {
  const tool = await toolMajor('pg_restore');
  if (tool.major < Number(/^(\d+)/.exec(dumpedWith)?.[1])) {
    throw new Error(`pg_restore ${tool.version} is older than the pg_dump ${dumpedWith} that wrote this backup: install a pg_restore of at least that major version`);
  }
}

/** pg_restore into an empty database (no public schema), in one transaction. */
export async function pgRestore(url: string, file: string): Promise<void> {
  const c = connectionFor(url);
  await spawnChecked('pg_restore', ['--no-owner', '--no-privileges', '--single-transaction', '--exit-on-error', '--dbname', c.dbname, file], c.env);
}

function spawnChecked(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} failed (exit ${code}): ${err.trim()}`))));
  });
}
