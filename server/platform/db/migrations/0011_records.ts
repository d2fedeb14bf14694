// Archival records: one row per letter (any state, from its creation) and per
// incoming letter that is not merely a copy of one of ours (source <> 'internal').
// The row is a denormalised, searchable copy of its source rows, kept in step by
// server/modules/archive/records.ts in the same transaction as every change; the
// retention, berkas and disposal tables (0012_archive) reference records.id.
//
// The source-to-record mapping lives once, in the views record_source_letters and
// record_source_incoming: the backfill below and the runtime sync both upsert
// from them, so the two cannot drift apart.
//
// Search: two generated tsvectors,
// 'indonesian' (Snowball stemmer: pembangunan, membangun, dibangun -> bangun)
// for words, and 'simple' (no stemming, no stop words) for numbers, names and codes.
// Checked on PostgreSQL 15 (PGlite has the same Snowball stemmer): keuangan/uang, perjalanan/menjalankan/jalan,
// pengadaan/diadakan/ada and kebijakan/bijak conflate; the Indonesian dictionary
// has no stop words (yang, dan, di are indexed); a few forms over-stem
// (pemusnahan -> pusnah, so it does not find musnah).
// Weights: A number and hal, B sender/recipients/codes, C body, D attachments.
import { sql, type Kysely } from 'kysely';

// Attachment text is capped so that a huge PDF cannot exceed the tsvector size limit (1 MB).
const ATTACHMENTS_TEXT_CAP = 200_000;

export async function up(db: Kysely<any>): Promise<void> {
  await sql.raw(`
    -- Text extracted at upload time (PDF), for search; NULL when nothing could be extracted.
    ALTER TABLE letter_attachments ADD COLUMN extracted_text text;
    ALTER TABLE incoming_letters ADD COLUMN extracted_text text;

    CREATE TABLE records (
      id                  bigserial PRIMARY KEY,
      letter_id           bigint UNIQUE REFERENCES letters(id),
      incoming_letter_id  bigint UNIQUE REFERENCES incoming_letters(id),
      unit_id             bigint NOT NULL REFERENCES units(id),
      kind_code           text,
      number              text,
      -- The sender's own number of an incoming letter (the agenda number is in number).
      sender_number       text,
      subject             text NOT NULL,
      security_class      text NOT NULL CHECK (security_class IN ('biasa','terbatas','rahasia','sangat_rahasia')),
      classification_code text,
      state               text NOT NULL,
      record_date         date,
      sender              text NOT NULL DEFAULT '',
      recipients          text NOT NULL DEFAULT '',
      body_text           text NOT NULL DEFAULT '',
      attachments_text    text NOT NULL DEFAULT '',
      created_at          timestamptz NOT NULL DEFAULT now(),
      updated_at          timestamptz NOT NULL DEFAULT now(),
      CHECK (num_nonnulls(letter_id, incoming_letter_id) = 1),
      search_stem tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('indonesian'::regconfig, coalesce(number, '') || ' ' || subject), 'A') ||
        setweight(to_tsvector('indonesian'::regconfig, sender || ' ' || recipients), 'B') ||
        setweight(to_tsvector('indonesian'::regconfig, body_text), 'C') ||
        setweight(to_tsvector('indonesian'::regconfig, attachments_text), 'D')
      ) STORED,
      search_simple tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, coalesce(number, '') || ' ' || coalesce(sender_number, '') || ' ' || subject), 'A') ||
        setweight(to_tsvector('simple'::regconfig, sender || ' ' || recipients || ' ' || coalesce(kind_code, '') || ' ' || coalesce(classification_code, '')), 'B') ||
        setweight(to_tsvector('simple'::regconfig, body_text), 'C') ||
        setweight(to_tsvector('simple'::regconfig, attachments_text), 'D')
      ) STORED
    );
    CREATE INDEX records_search_stem_idx ON records USING gin (search_stem);
    CREATE INDEX records_search_simple_idx ON records USING gin (search_simple);
    CREATE INDEX records_unit_idx ON records (unit_id, record_date DESC);
    CREATE INDEX records_record_date_idx ON records (record_date DESC, id DESC);
    CREATE INDEX records_created_idx ON records (created_at DESC, id DESC);
    CREATE INDEX records_number_idx ON records (number);
    CREATE INDEX records_sender_number_idx ON records (sender_number) WHERE sender_number IS NOT NULL;
    CREATE INDEX records_code_idx ON records (classification_code text_pattern_ops);
    CREATE INDEX records_class_state_idx ON records (security_class, state);

    -- Plain text of a canonical (sanitised) body: the tags are known-simple, so
    -- removing them and decoding the five entities the sanitiser writes is exact.
    CREATE FUNCTION record_html_text(html text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
      SELECT btrim(replace(replace(replace(replace(replace(
        regexp_replace(regexp_replace(html, '</(p|li|tr)>|<br>', E'\\n', 'g'), '<[^>]*>', ' ', 'g'),
        '&lt;', '<'), '&gt;', '>'), '&quot;', '"'), '&#39;', ''''), '&amp;', '&'), E' \\n')
    $$;

    CREATE VIEW record_source_letters AS
    SELECT l.id AS letter_id, NULL::bigint AS incoming_letter_id, l.unit_id, l.kind_code, l.number,
           NULL::text AS sender_number, l.subject, l.security_class, l.classification_code, l.state,
           (l.signed_at AT TIME ZONE 'Asia/Jakarta')::date AS record_date,
           concat_ws(' ', u.name, s.name) AS sender,
           coalesce((SELECT string_agg(coalesce(ru.name, run.name, rp.title, r.ext_name, pe.name), '; ' ORDER BY r.role DESC, r.ord)
                       FROM letter_recipients r
                       LEFT JOIN users ru ON ru.id = r.user_id
                       LEFT JOIN units run ON run.id = r.unit_id
                       LEFT JOIN positions rp ON rp.id = r.position_id
                       LEFT JOIN peers pe ON pe.id = r.peer_id
                      WHERE r.letter_id = l.id), '') AS recipients,
           coalesce(record_html_text(v.content->>'body'), '') AS body_text,
           left(coalesce((SELECT string_agg(a.filename || ' ' || coalesce(a.extracted_text, ''), E'\\n' ORDER BY a.id)
                            FROM letter_attachments a WHERE a.letter_id = l.id AND a.removed_at IS NULL), ''), ${ATTACHMENTS_TEXT_CAP}) AS attachments_text,
           l.created_at
      FROM letters l
      JOIN units u ON u.id = l.unit_id
      JOIN users s ON s.id = l.signer_id
      LEFT JOIN letter_versions v ON v.letter_id = l.id AND v.version = l.version;

    CREATE VIEW record_source_incoming AS
    SELECT NULL::bigint AS letter_id, i.id AS incoming_letter_id, i.unit_id, NULL::text AS kind_code, i.agenda_number AS number,
           i.sender_number, i.subject, i.security_class, i.classification_code, i.state,
           (i.registered_at AT TIME ZONE 'Asia/Jakarta')::date AS record_date,
           i.sender_name AS sender, u.name AS recipients, ''::text AS body_text,
           left(coalesce(i.extracted_text, ''), ${ATTACHMENTS_TEXT_CAP}) AS attachments_text,
           i.registered_at AS created_at
      FROM incoming_letters i
      JOIN units u ON u.id = i.unit_id
     WHERE i.source <> 'internal';

    INSERT INTO records (letter_id, incoming_letter_id, unit_id, kind_code, number, sender_number, subject, security_class,
                         classification_code, state, record_date, sender, recipients, body_text, attachments_text, created_at)
    SELECT * FROM record_source_letters
    UNION ALL
    SELECT * FROM record_source_incoming;
  `).execute(db);
}
