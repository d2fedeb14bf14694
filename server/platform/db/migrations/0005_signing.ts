// Signing: users' certificates (private keys only inside PKCS#12 encrypted under
// the user's own passphrase), trust anchors, and each letter's signature.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql.raw(`
    CREATE TABLE trust_anchors (
      id          bigserial PRIMARY KEY,
      name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      cert_pem    text NOT NULL,
      fingerprint text NOT NULL UNIQUE,
      internal    boolean NOT NULL DEFAULT false,
      active      boolean NOT NULL DEFAULT true,
      added_by    bigint REFERENCES users(id),
      created_at  timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE certificates (
      id                 bigserial PRIMARY KEY,
      user_id            bigint NOT NULL REFERENCES users(id),
      status             text NOT NULL CHECK (status IN ('pending','active','revoked','expired')),
      source             text NOT NULL CHECK (source IN ('internal','imported')),
      serial_hex         text,
      issuer_dn          text,
      subject_dn         text,
      cert_pem           text,
      chain_pem          text,
      pkcs12             bytea,
      not_before         timestamptz,
      not_after          timestamptz,
      issued_by          bigint REFERENCES users(id),
      created_at         timestamptz NOT NULL DEFAULT now(),
      activated_at       timestamptz,
      revoked_at         timestamptz,
      revocation_reason  text,
      UNIQUE (issuer_dn, serial_hex)
    );
    CREATE INDEX certificates_user_idx ON certificates(user_id, status);
    -- One certificate in use per user: a new one supersedes (revokes) the old in the same transaction.
    CREATE UNIQUE INDEX certificates_one_active_idx ON certificates(user_id) WHERE status = 'active';
    CREATE UNIQUE INDEX certificates_one_pending_idx ON certificates(user_id) WHERE status = 'pending';

    CREATE TABLE letter_signatures (
      letter_id       bigint PRIMARY KEY REFERENCES letters(id),
      certificate_id  bigint NOT NULL REFERENCES certificates(id),
      signer_id       bigint NOT NULL REFERENCES users(id),
      pdf_sha256      text NOT NULL REFERENCES objects(sha256),
      issued_number_id bigint NOT NULL REFERENCES issued_numbers(id),
      signed_at       timestamptz NOT NULL,
      on_behalf       text,
      -- The id in the QR code (/v/<id>): random, so letters cannot be enumerated.
      verification_id text NOT NULL UNIQUE CHECK (length(verification_id) BETWEEN 16 AND 64)
    );
    CREATE UNIQUE INDEX letter_signatures_pdf_idx ON letter_signatures(pdf_sha256);
  `).execute(db);
}
