// Exchange between installations (peers): registered peers, the nonces of
// accepted requests (replay protection), and letters received from peers with
// the receipt we answered (so the same letter twice gets the same receipt).
// Letters can be addressed to a peer; outbound exchange messages point at one.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql.raw(`
    CREATE TABLE peers (
      id             bigserial PRIMARY KEY,
      -- The peer's installation id, as it sends it in X-TNDE-Peer.
      code           text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
      name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      url            text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 500),
      public_key_pem text NOT NULL,
      active         boolean NOT NULL DEFAULT true,
      created_by     bigint REFERENCES users(id),
      created_at     timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE exchange_nonces (
      peer_id    bigint NOT NULL REFERENCES peers(id),
      nonce      text NOT NULL,
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (peer_id, nonce)
    );
    CREATE INDEX exchange_nonces_expiry_idx ON exchange_nonces(expires_at);

    CREATE TABLE exchange_inbound (
      id           bigserial PRIMARY KEY,
      peer_id      bigint NOT NULL REFERENCES peers(id),
      -- The sender's letter id: with peer_id, what makes a second delivery the same letter.
      letter_ref   text NOT NULL CHECK (length(letter_ref) BETWEEN 1 AND 64),
      pdf_sha256   text NOT NULL REFERENCES objects(sha256),
      metadata     jsonb NOT NULL,
      incoming_id  bigint NOT NULL REFERENCES incoming_letters(id),
      receipt      jsonb NOT NULL,
      received_at  timestamptz NOT NULL DEFAULT now(),
      UNIQUE (peer_id, letter_ref)
    );

    ALTER TABLE letter_recipients ADD COLUMN peer_id bigint REFERENCES peers(id);
    ALTER TABLE letter_recipients DROP CONSTRAINT letter_recipients_check;
    ALTER TABLE letter_recipients ADD CONSTRAINT letter_recipients_one_addressee
      CHECK (num_nonnulls(user_id, unit_id, position_id, ext_name, peer_id) = 1);

    ALTER TABLE outbound_messages ADD CONSTRAINT outbound_messages_peer_fk FOREIGN KEY (peer_id) REFERENCES peers(id);
  `).execute(db);
}
