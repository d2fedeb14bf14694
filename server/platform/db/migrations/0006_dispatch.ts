// Dispatch: what a unit received (incoming_letters, from our own signed letters
// or registered from paper, e-mail or the exchange), who got it in their inbox
// (deliveries, with read receipts), what waits to leave for external addressees
// (outbound_messages, sent by the e-mail and exchange workers), and the
// disposisi tree that routes a received letter to completion.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql.raw(`
    CREATE TABLE incoming_letters (
      id                   bigserial PRIMARY KEY,
      unit_id              bigint NOT NULL REFERENCES units(id),
      source               text NOT NULL CHECK (source IN ('internal','paper','email','exchange')),
      letter_id            bigint REFERENCES letters(id),
      sender_name          text NOT NULL CHECK (length(sender_name) BETWEEN 1 AND 300),
      sender_number        text CHECK (length(sender_number) <= 200),
      sender_date          date,
      subject              text NOT NULL CHECK (length(subject) BETWEEN 1 AND 500),
      urgency              text NOT NULL CHECK (urgency IN ('biasa','segera','sangat_segera')),
      security_class       text NOT NULL CHECK (security_class IN ('biasa','terbatas','rahasia','sangat_rahasia')),
      classification_code  text REFERENCES classification_codes(code),
      pdf_sha256           text REFERENCES objects(sha256),
      agenda_number        text,
      issued_number_id     bigint REFERENCES issued_numbers(id),
      state                text NOT NULL DEFAULT 'registered' CHECK (state IN ('registered','disposed','done')),
      registered_by        bigint REFERENCES users(id),
      registered_at        timestamptz NOT NULL DEFAULT now(),
      external_ref         text,
      CHECK ((source = 'internal') = (letter_id IS NOT NULL)),
      UNIQUE (source, external_ref),
      UNIQUE (letter_id, unit_id)
    );
    CREATE INDEX incoming_letters_unit_idx ON incoming_letters(unit_id, registered_at DESC);

    -- One row per internal person a letter reached; read_at is the read receipt.
    CREATE TABLE deliveries (
      id                  bigserial PRIMARY KEY,
      letter_id           bigint REFERENCES letters(id),
      role                text NOT NULL CHECK (role IN ('to','cc')),
      user_id             bigint NOT NULL REFERENCES users(id),
      incoming_letter_id  bigint NOT NULL REFERENCES incoming_letters(id),
      delivered_at        timestamptz NOT NULL DEFAULT now(),
      read_at             timestamptz,
      UNIQUE (incoming_letter_id, user_id)
    );
    CREATE INDEX deliveries_user_idx ON deliveries(user_id, delivered_at DESC);
    CREATE INDEX deliveries_letter_idx ON deliveries(letter_id);

    -- One row per external addressee of a signed letter; the senders pick up 'queued' rows.
    -- peer_id gets its foreign key with the peers table (migration 0007_exchange).
    CREATE TABLE outbound_messages (
      id               bigserial PRIMARY KEY,
      letter_id        bigint NOT NULL REFERENCES letters(id),
      recipient_id     bigint NOT NULL REFERENCES letter_recipients(id),
      channel          text NOT NULL CHECK (channel IN ('email','exchange')),
      address          text,
      peer_id          bigint,
      status           text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued','sent','failed','delivered')),
      attempts         integer NOT NULL DEFAULT 0,
      last_error       text,
      next_attempt_at  timestamptz NOT NULL DEFAULT now(),
      sent_at          timestamptz,
      receipt          jsonb,
      created_at       timestamptz NOT NULL DEFAULT now(),
      CHECK ((channel = 'email') = (address IS NOT NULL)),
      UNIQUE (recipient_id, channel)
    );
    CREATE INDEX outbound_messages_queue_idx ON outbound_messages(status, next_attempt_at);
    CREATE INDEX outbound_messages_letter_idx ON outbound_messages(letter_id);

    CREATE TABLE disposisi (
      id                      bigserial PRIMARY KEY,
      incoming_letter_id      bigint NOT NULL REFERENCES incoming_letters(id),
      parent_id               bigint REFERENCES disposisi(id),
      from_user_id            bigint NOT NULL REFERENCES users(id),
      to_user_id              bigint NOT NULL REFERENCES users(id),
      instructions            text[] NOT NULL DEFAULT '{}' CHECK (instructions <@ ARRAY['tindak_lanjuti','pelajari','hadiri','untuk_diketahui','siapkan_jawaban','koordinasikan','arsipkan']::text[]),
      note                    text CHECK (length(note) <= 2000),
      due_date                date,
      state                   text NOT NULL DEFAULT 'open' CHECK (state IN ('open','done')),
      done_note               text CHECK (length(done_note) <= 2000),
      done_attachment_sha256  text REFERENCES objects(sha256),
      created_at              timestamptz NOT NULL DEFAULT now(),
      read_at                 timestamptz,
      done_at                 timestamptz,
      CHECK (from_user_id <> to_user_id),
      CHECK ((state = 'done') = (done_at IS NOT NULL))
    );
    CREATE INDEX disposisi_incoming_idx ON disposisi(incoming_letter_id);
    CREATE INDEX disposisi_to_idx ON disposisi(to_user_id, state);

    -- Notes exchanged on one disposisi (a question, an interim report) without closing it.
    CREATE TABLE disposisi_replies (
      id            bigserial PRIMARY KEY,
      disposisi_id  bigint NOT NULL REFERENCES disposisi(id),
      user_id       bigint NOT NULL REFERENCES users(id),
      note          text NOT NULL CHECK (length(note) BETWEEN 1 AND 2000),
      created_at    timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX disposisi_replies_idx ON disposisi_replies(disposisi_id);
  `).execute(db);
}
