// Platform tables: organisation, accounts, sessions, audit trail, objects.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql.raw(`
    CREATE TABLE units (
      id          bigserial PRIMARY KEY,
      parent_id   bigint REFERENCES units(id),
      code        text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$'),
      name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      kind        text NOT NULL,
      address     text,
      phone       text,
      email       text,
      website     text,
      active      boolean NOT NULL DEFAULT true,
      created_at  timestamptz NOT NULL DEFAULT now(),
      updated_at  timestamptz NOT NULL DEFAULT now(),
      CHECK (parent_id IS NULL OR parent_id <> id)
    );
    CREATE INDEX units_parent_idx ON units(parent_id);

    CREATE TABLE positions (
      id           bigserial PRIMARY KEY,
      unit_id      bigint NOT NULL REFERENCES units(id),
      code         text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$'),
      title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
      superior_id  bigint REFERENCES positions(id),
      is_head      boolean NOT NULL DEFAULT false,
      active       boolean NOT NULL DEFAULT true,
      created_at   timestamptz NOT NULL DEFAULT now(),
      updated_at   timestamptz NOT NULL DEFAULT now(),
      CHECK (superior_id IS NULL OR superior_id <> id)
    );
    CREATE INDEX positions_unit_idx ON positions(unit_id);
    CREATE INDEX positions_superior_idx ON positions(superior_id);

    CREATE TABLE users (
      id                  bigserial PRIMARY KEY,
      username            text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,49}$'),
      nip                 text UNIQUE CHECK (nip ~ '^[0-9]{18}$'),
      name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      email               text,
      password_hash       text NOT NULL,
      position_id         bigint REFERENCES positions(id),
      roles               text[] NOT NULL DEFAULT '{}',
      active              boolean NOT NULL DEFAULT true,
      locale              text NOT NULL DEFAULT 'id' CHECK (locale IN ('id','en')),
      failed_logins       integer NOT NULL DEFAULT 0,
      locked_until        timestamptz,
      totp_secret         text,
      totp_enabled        boolean NOT NULL DEFAULT false,
      must_change_password boolean NOT NULL DEFAULT false,
      password_changed_at timestamptz NOT NULL DEFAULT now(),
      created_at          timestamptz NOT NULL DEFAULT now(),
      updated_at          timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX users_position_idx ON users(position_id);

    -- Plh./Plt. (acting) and a.n./u.b. (signing by mandate): who acts for which position.
    CREATE TABLE delegations (
      id                     bigserial PRIMARY KEY,
      kind                   text NOT NULL CHECK (kind IN ('plh','plt','an','ub')),
      principal_position_id  bigint NOT NULL REFERENCES positions(id),
      delegate_user_id       bigint NOT NULL REFERENCES users(id),
      legal_basis            text NOT NULL CHECK (length(legal_basis) BETWEEN 1 AND 200),
      starts_on              date NOT NULL,
      ends_on                date NOT NULL,
      note                   text,
      revoked_at             timestamptz,
      created_by             bigint REFERENCES users(id),
      created_at             timestamptz NOT NULL DEFAULT now(),
      CHECK (ends_on >= starts_on)
    );
    CREATE INDEX delegations_principal_idx ON delegations(principal_position_id);
    CREATE INDEX delegations_delegate_idx ON delegations(delegate_user_id);

    CREATE TABLE api_tokens (
      id           bigserial PRIMARY KEY,
      user_id      bigint NOT NULL REFERENCES users(id),
      name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
      token_hash   text NOT NULL UNIQUE,
      prefix       text NOT NULL,
      created_at   timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz,
      revoked_at   timestamptz
    );
    CREATE INDEX api_tokens_user_idx ON api_tokens(user_id);

    -- express-session store (connect-pg-simple's layout).
    CREATE TABLE session (
      sid    varchar NOT NULL PRIMARY KEY,
      sess   json NOT NULL,
      expire timestamp(6) NOT NULL
    );
    CREATE INDEX session_expire_idx ON session(expire);

    -- express-rate-limit counters, shared by every app node.
    CREATE TABLE rate_limits (
      key       text PRIMARY KEY,
      hits      integer NOT NULL,
      reset_at  timestamptz NOT NULL
    );

    -- Immutable content-addressed objects; the key is derived from sha256, never from user text.
    CREATE TABLE objects (
      sha256        text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      size          bigint NOT NULL CHECK (size >= 0),
      content_type  text NOT NULL,
      created_by    bigint REFERENCES users(id),
      created_at    timestamptz NOT NULL DEFAULT now()
    );

    -- Append-only, hash-chained audit trail (DESIGN.md section 7).
    CREATE TABLE audit_log (
      seq          bigint PRIMARY KEY,
      at           text NOT NULL,
      actor_id     bigint,
      actor_name   text,
      action       text NOT NULL,
      object_type  text,
      object_id    text,
      ip           text,
      details      jsonb NOT NULL DEFAULT '{}',
      doc_sha256   text,
      prev_hash    text NOT NULL,
      hash         text NOT NULL
    );
    CREATE INDEX audit_log_action_idx ON audit_log(action);
    CREATE INDEX audit_log_actor_idx ON audit_log(actor_id);
    CREATE INDEX audit_log_object_idx ON audit_log(object_type, object_id);

    CREATE TABLE audit_head (
      id    integer PRIMARY KEY CHECK (id = 1),
      seq   bigint NOT NULL,
      hash  text NOT NULL
    );
    INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, repeat('0', 64));

    CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_log is append-only';
    END $$;
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
  `).execute(db);
}
