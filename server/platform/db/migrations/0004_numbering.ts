// Numbering (penomoran): series per issuing unit, scope and optionally kind; a
// counter row per series and year; and every number ever issued, kept for good
// (a voided number stays, with its reason).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql.raw(`
    CREATE TABLE number_series (
      id          bigserial PRIMARY KEY,
      unit_id     bigint NOT NULL REFERENCES units(id),
      scope       text NOT NULL CHECK (scope IN ('outgoing','incoming')),
      kind_code   text REFERENCES letter_kinds(code),
      name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      format      text NOT NULL CHECK (length(format) BETWEEN 1 AND 200),
      unit_token  text NOT NULL CHECK (length(unit_token) BETWEEN 1 AND 40),
      active      boolean NOT NULL DEFAULT true,
      created_at  timestamptz NOT NULL DEFAULT now(),
      UNIQUE NULLS NOT DISTINCT (unit_id, scope, kind_code)
    );

    CREATE TABLE number_counters (
      series_id  bigint NOT NULL REFERENCES number_series(id),
      year       integer NOT NULL CHECK (year BETWEEN 2000 AND 2999),
      value      integer NOT NULL CHECK (value > 0),
      PRIMARY KEY (series_id, year)
    );

    CREATE TABLE issued_numbers (
      id           bigserial PRIMARY KEY,
      series_id    bigint NOT NULL REFERENCES number_series(id),
      year         integer NOT NULL,
      seq          integer NOT NULL CHECK (seq > 0),
      number       text NOT NULL,
      letter_id    bigint REFERENCES letters(id),
      issued_by    bigint REFERENCES users(id),
      issued_at    timestamptz NOT NULL DEFAULT now(),
      voided_at    timestamptz,
      void_reason  text,
      voided_by    bigint REFERENCES users(id),
      UNIQUE (series_id, year, seq),
      CHECK ((voided_at IS NULL) = (void_reason IS NULL))
    );
    CREATE INDEX issued_numbers_letter_idx ON issued_numbers(letter_id);
  `).execute(db);
}
