// Durability (DESIGN.md sections 6-7): the integrity scanner's runs and what
// each found, and the signed checkpoints of the audit chain's head.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql.raw(`
    CREATE TABLE scan_runs (
      id              bigserial PRIMARY KEY,
      trigger         text NOT NULL CHECK (trigger IN ('scheduled', 'manual', 'cli')),
      started_by      bigint REFERENCES users(id),
      repair          boolean NOT NULL,
      started_at      timestamptz NOT NULL DEFAULT now(),
      -- Touched after every batch of objects: a run unfinished and untouched for a while has died.
      progress_at     timestamptz NOT NULL DEFAULT now(),
      finished_at     timestamptz,
      objects_checked integer NOT NULL DEFAULT 0,
      findings        integer NOT NULL DEFAULT 0,
      repaired        integer NOT NULL DEFAULT 0,
      audit_ok        boolean,
      checkpoints_ok  boolean
    );
    CREATE INDEX scan_runs_started_idx ON scan_runs(started_at);

    CREATE TABLE scan_findings (
      id       bigserial PRIMARY KEY,
      run_id   bigint NOT NULL REFERENCES scan_runs(id),
      -- object: missing/altered in one store, lost (no good copy), destroyed but still present;
      -- audit_chain: the chain breaks; checkpoint: a signed checkpoint does not match the chain.
      kind     text NOT NULL CHECK (kind IN ('missing', 'altered', 'lost', 'destroyed_present', 'audit_chain', 'checkpoint')),
      store    text CHECK (store IN ('primary', 'backup', 'both')),
      sha256   text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      detail   text NOT NULL,
      repaired boolean NOT NULL DEFAULT false
    );
    CREATE INDEX scan_findings_run_idx ON scan_findings(run_id);

    CREATE TABLE audit_checkpoints (
      id              bigserial PRIMARY KEY,
      -- The chain's size and head hash at signing: entry number seq has hash head_hash.
      seq             bigint NOT NULL UNIQUE CHECK (seq > 0),
      head_hash       text NOT NULL CHECK (head_hash ~ '^[0-9a-f]{64}$'),
      installation    text NOT NULL,
      signed_at       timestamptz NOT NULL,
      key_fingerprint text NOT NULL CHECK (key_fingerprint ~ '^[0-9a-f]{64}$'),
      -- Ed25519 over the canonical statement (server/platform/audit/checkpoints.ts), base64.
      signature       text NOT NULL
    );
  `).execute(db);
}
