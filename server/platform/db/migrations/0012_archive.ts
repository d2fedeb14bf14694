// The records' life after filing (DOMAIN.md section 4): retention marks on the
// record (moved to the records centre, transferred for good, destroyed), case
// files (berkas), legal holds and disposals with their berita acara.
//
// A destroyed record keeps its row as a tombstone: number, hal, dates, code and
// the hashes of the bytes that were destroyed; its text is cleared.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql.raw(`
    ALTER TABLE records
      ADD COLUMN inactive_at      timestamptz,
      ADD COLUMN inactive_by      bigint REFERENCES users(id),
      ADD COLUMN permanent_at     timestamptz,
      ADD COLUMN permanent_by     bigint REFERENCES users(id),
      ADD COLUMN permanent_note   text CHECK (length(permanent_note) <= 2000),
      ADD COLUMN destroyed_at     timestamptz,
      ADD COLUMN disposal_id      bigint,
      ADD COLUMN destroyed_sha256 text[],
      ADD CONSTRAINT records_inactive_by_check CHECK ((inactive_at IS NULL) = (inactive_by IS NULL)),
      ADD CONSTRAINT records_permanent_by_check CHECK ((permanent_at IS NULL) = (permanent_by IS NULL)),
      ADD CONSTRAINT records_destroyed_check CHECK ((destroyed_at IS NULL) = (disposal_id IS NULL));
    -- The due lists walk, per classification code, the records dated before that code's cut-off.
    CREATE INDEX records_retention_idx ON records (classification_code, record_date) WHERE destroyed_at IS NULL;

    CREATE TABLE archive_files (
      id                  bigserial PRIMARY KEY,
      unit_id             bigint NOT NULL REFERENCES units(id),
      number              text NOT NULL CHECK (length(number) BETWEEN 1 AND 100),
      title               text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
      classification_code text REFERENCES classification_codes(code),
      description         text CHECK (length(description) <= 2000),
      created_by          bigint NOT NULL REFERENCES users(id),
      created_at          timestamptz NOT NULL DEFAULT now(),
      closed_at           timestamptz,
      UNIQUE (unit_id, number)
    );
    CREATE INDEX archive_files_created_idx ON archive_files (created_at DESC, id DESC);

    CREATE TABLE archive_file_records (
      file_id    bigint NOT NULL REFERENCES archive_files(id),
      record_id  bigint NOT NULL REFERENCES records(id),
      added_by   bigint NOT NULL REFERENCES users(id),
      added_at   timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (file_id, record_id)
    );
    CREATE INDEX archive_file_records_record_idx ON archive_file_records (record_id);

    -- A record under hold cannot be destroyed; a lifted hold stays as history.
    CREATE TABLE legal_holds (
      id           bigserial PRIMARY KEY,
      record_id    bigint NOT NULL REFERENCES records(id),
      reason       text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
      placed_by    bigint NOT NULL REFERENCES users(id),
      placed_at    timestamptz NOT NULL DEFAULT now(),
      lifted_by    bigint REFERENCES users(id),
      lifted_at    timestamptz,
      lift_reason  text CHECK (length(lift_reason) BETWEEN 1 AND 2000),
      CHECK ((lifted_at IS NULL) = (lifted_by IS NULL) AND (lifted_at IS NULL) = (lift_reason IS NULL))
    );
    CREATE UNIQUE INDEX legal_holds_active_idx ON legal_holds (record_id) WHERE lifted_at IS NULL;
    CREATE INDEX legal_holds_placed_idx ON legal_holds (placed_at DESC);

    -- proposed -> approved -> executed, or proposed -> rejected.
    CREATE TABLE disposals (
      id                   bigserial PRIMARY KEY,
      state                text NOT NULL DEFAULT 'proposed' CHECK (state IN ('proposed','approved','rejected','executed')),
      note                 text CHECK (length(note) <= 2000),
      proposed_by          bigint NOT NULL REFERENCES users(id),
      proposed_at          timestamptz NOT NULL DEFAULT now(),
      decided_by           bigint REFERENCES users(id),
      decided_at           timestamptz,
      decision_note        text CHECK (length(decision_note) <= 2000),
      executed_at          timestamptz,
      number               text,
      issued_number_id     bigint REFERENCES issued_numbers(id),
      berita_acara_sha256  text REFERENCES objects(sha256),
      -- Set once the destroyed bytes are gone from both stores (deleted after the commit).
      purged_at            timestamptz,
      CHECK ((state IN ('approved','rejected','executed')) = (decided_at IS NOT NULL)),
      CHECK ((state = 'executed') = (executed_at IS NOT NULL AND berita_acara_sha256 IS NOT NULL))
    );
    CREATE INDEX disposals_state_idx ON disposals (state, proposed_at DESC);
    CREATE INDEX disposals_unpurged_idx ON disposals (executed_at) WHERE state = 'executed' AND purged_at IS NULL;

    CREATE TABLE disposal_records (
      disposal_id  bigint NOT NULL REFERENCES disposals(id),
      record_id    bigint NOT NULL REFERENCES records(id),
      PRIMARY KEY (disposal_id, record_id)
    );
    CREATE INDEX disposal_records_record_idx ON disposal_records (record_id);

    -- A disposal deletes bytes only when no other record refers to them: these find the other referrers by hash.
    CREATE INDEX letter_attachments_object_idx ON letter_attachments (object_sha256);
    CREATE INDEX incoming_letters_pdf_idx ON incoming_letters (pdf_sha256) WHERE pdf_sha256 IS NOT NULL;
    CREATE INDEX disposisi_attachment_idx ON disposisi (done_attachment_sha256) WHERE done_attachment_sha256 IS NOT NULL;

    ALTER TABLE records ADD CONSTRAINT records_disposal_fk FOREIGN KEY (disposal_id) REFERENCES disposals(id);
  `).execute(db);
}
