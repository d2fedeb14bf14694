// Letters: kinds, archival classification codes, drafts and their versions,
// recipients, attachments, approval steps (paraf), chain templates, notifications.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql.raw(`
    CREATE TABLE letter_kinds (
      code         text PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z0-9_]{0,15}$'),
      name         text NOT NULL,
      family       text NOT NULL CHECK (family IN ('pengaturan','penetapan','penugasan','korespondensi','khusus')),
      scope        text NOT NULL CHECK (scope IN ('internal','external','both')),
      layout       text NOT NULL CHECK (layout IN ('surat','nota','naskah')),
      signer_rule  text NOT NULL CHECK (signer_rule IN ('kepala_daerah','kepala_pd','pejabat')),
      needs_addressees boolean NOT NULL DEFAULT true,
      sort_order   integer NOT NULL DEFAULT 100,
      active       boolean NOT NULL DEFAULT true
    );

    CREATE TABLE classification_codes (
      code                     text PRIMARY KEY CHECK (code ~ '^[0-9]{3}(\\.[0-9]{1,3}){0,5}$'),
      name                     text NOT NULL CHECK (length(name) BETWEEN 1 AND 500),
      parent_code              text REFERENCES classification_codes(code),
      retention_active_years   integer CHECK (retention_active_years BETWEEN 0 AND 100),
      retention_inactive_years integer CHECK (retention_inactive_years BETWEEN 0 AND 100),
      final_fate               text CHECK (final_fate IN ('musnah','permanen','dinilai_kembali')),
      active                   boolean NOT NULL DEFAULT true,
      updated_at               timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX classification_codes_parent_idx ON classification_codes(parent_code);

    CREATE TABLE letters (
      id                   bigserial PRIMARY KEY,
      kind_code            text NOT NULL REFERENCES letter_kinds(code),
      unit_id              bigint NOT NULL REFERENCES units(id),
      drafter_id           bigint NOT NULL REFERENCES users(id),
      drafter_position_id  bigint REFERENCES positions(id),
      signer_id            bigint NOT NULL REFERENCES users(id),
      signer_position_id   bigint NOT NULL REFERENCES positions(id),
      signer_prefix        text CHECK (signer_prefix IN ('an','ub','plh','plt')),
      signer_principal_position_id bigint REFERENCES positions(id),
      subject              text NOT NULL,
      urgency              text NOT NULL CHECK (urgency IN ('biasa','segera','sangat_segera')),
      security_class       text NOT NULL CHECK (security_class IN ('biasa','terbatas','rahasia','sangat_rahasia')),
      classification_code  text NOT NULL REFERENCES classification_codes(code),
      paper                text NOT NULL DEFAULT 'A4' CHECK (paper IN ('A4','F4')),
      state                text NOT NULL,
      version              integer NOT NULL DEFAULT 1,
      version_sha256       text NOT NULL,
      review_round         integer NOT NULL DEFAULT 0,
      awaiting_position_id bigint REFERENCES positions(id),
      awaiting_user_id     bigint REFERENCES users(id),
      number               text,
      reply_to_letter_id   bigint REFERENCES letters(id),
      created_at           timestamptz NOT NULL DEFAULT now(),
      updated_at           timestamptz NOT NULL DEFAULT now(),
      submitted_at         timestamptz,
      approved_at          timestamptz,
      signed_at            timestamptz
    );
    CREATE INDEX letters_drafter_state_idx ON letters(drafter_id, state, updated_at DESC);
    CREATE INDEX letters_awaiting_user_idx ON letters(awaiting_user_id, updated_at DESC) WHERE awaiting_user_id IS NOT NULL;
    CREATE INDEX letters_awaiting_position_idx ON letters(awaiting_position_id, updated_at DESC) WHERE awaiting_position_id IS NOT NULL;
    CREATE INDEX letters_signer_idx ON letters(signer_id, state);
    CREATE INDEX letters_unit_idx ON letters(unit_id, state);

    -- Every saved content is a version; the sha256 is over the canonical JSON of content.
    CREATE TABLE letter_versions (
      letter_id   bigint NOT NULL REFERENCES letters(id),
      version     integer NOT NULL,
      sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      content     jsonb NOT NULL,
      created_by  bigint NOT NULL REFERENCES users(id),
      created_at  timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (letter_id, version)
    );

    CREATE TABLE letter_recipients (
      id           bigserial PRIMARY KEY,
      letter_id    bigint NOT NULL REFERENCES letters(id),
      role         text NOT NULL CHECK (role IN ('to','cc')),
      ord          integer NOT NULL,
      user_id      bigint REFERENCES users(id),
      unit_id      bigint REFERENCES units(id),
      position_id  bigint REFERENCES positions(id),
      ext_name     text,
      ext_email    text,
      CHECK (num_nonnulls(user_id, unit_id, position_id, ext_name) = 1)
    );
    CREATE INDEX letter_recipients_letter_idx ON letter_recipients(letter_id);
    CREATE INDEX letter_recipients_user_idx ON letter_recipients(user_id) WHERE user_id IS NOT NULL;
    CREATE INDEX letter_recipients_unit_idx ON letter_recipients(unit_id) WHERE unit_id IS NOT NULL;

    CREATE TABLE letter_attachments (
      id             bigserial PRIMARY KEY,
      letter_id      bigint NOT NULL REFERENCES letters(id),
      object_sha256  text NOT NULL REFERENCES objects(sha256),
      filename       text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
      content_type   text NOT NULL,
      size           bigint NOT NULL,
      uploaded_by    bigint NOT NULL REFERENCES users(id),
      created_at     timestamptz NOT NULL DEFAULT now(),
      removed_at     timestamptz
    );
    CREATE INDEX letter_attachments_letter_idx ON letter_attachments(letter_id);

    -- The approval chain of a letter, one row per reviewer per review round.
    CREATE TABLE approval_steps (
      id              bigserial PRIMARY KEY,
      letter_id       bigint NOT NULL REFERENCES letters(id),
      round           integer NOT NULL,
      ord             integer NOT NULL,
      position_id     bigint NOT NULL REFERENCES positions(id),
      added_by_drafter boolean NOT NULL DEFAULT false,
      action          text CHECK (action IN ('approved','returned')),
      actor_id        bigint REFERENCES users(id),
      acting_as       text CHECK (acting_as IN ('self','plh','plt')),
      on_behalf_of_id bigint REFERENCES users(id),
      version         integer,
      version_sha256  text,
      note            text,
      acted_at        timestamptz,
      UNIQUE (letter_id, round, ord)
    );
    CREATE INDEX approval_steps_actor_idx ON approval_steps(actor_id);
    CREATE INDEX approval_steps_position_idx ON approval_steps(position_id);

    -- Admin-defined chains per kind and/or unit; steps are position ids in order.
    CREATE TABLE approval_templates (
      id               bigserial PRIMARY KEY,
      name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      kind_code        text REFERENCES letter_kinds(code),
      unit_id          bigint REFERENCES units(id),
      position_ids     bigint[] NOT NULL,
      allow_additional boolean NOT NULL DEFAULT true,
      active           boolean NOT NULL DEFAULT true,
      created_at       timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE notifications (
      id          bigserial PRIMARY KEY,
      user_id     bigint NOT NULL REFERENCES users(id),
      letter_id   bigint REFERENCES letters(id),
      kind        text NOT NULL,
      params      jsonb NOT NULL DEFAULT '{}',
      created_at  timestamptz NOT NULL DEFAULT now(),
      read_at     timestamptz
    );
    CREATE INDEX notifications_user_idx ON notifications(user_id, read_at, created_at DESC);
  `).execute(db);

  // Kinds of naskah dinas (Permendagri 1/2023 families).
  await sql.raw(`
    INSERT INTO letter_kinds (code, name, family, scope, layout, signer_rule, needs_addressees, sort_order) VALUES
      ('SD',    'Surat Dinas',        'korespondensi', 'external', 'surat', 'pejabat',       true,  10),
      ('ND',    'Nota Dinas',         'korespondensi', 'internal', 'nota',  'pejabat',       true,  20),
      ('MEMO',  'Memorandum',         'korespondensi', 'internal', 'nota',  'pejabat',       true,  30),
      ('UND',   'Undangan',           'korespondensi', 'both',     'surat', 'pejabat',       true,  40),
      ('SE',    'Surat Edaran',       'pengaturan',    'both',     'naskah','kepala_pd',     false, 50),
      ('INS',   'Instruksi',          'pengaturan',    'internal', 'naskah','kepala_daerah', false, 60),
      ('PER',   'Peraturan',          'pengaturan',    'external', 'naskah','kepala_daerah', false, 70),
      ('SOP',   'Standar Operasional Prosedur', 'pengaturan', 'internal', 'naskah', 'kepala_pd', false, 80),
      ('KEP',   'Keputusan',          'penetapan',     'both',     'naskah','kepala_pd',     false, 90),
      ('ST',    'Surat Tugas',        'penugasan',     'internal', 'naskah','pejabat',       false, 100),
      ('SPRIN', 'Surat Perintah',     'penugasan',     'internal', 'naskah','pejabat',       false, 110),
      ('PERJ',  'Perjanjian',         'khusus',        'external', 'naskah','kepala_pd',     false, 120),
      ('SKU',   'Surat Kuasa',        'khusus',        'both',     'naskah','pejabat',       false, 130),
      ('BA',    'Berita Acara',       'khusus',        'both',     'naskah','pejabat',       false, 140),
      ('SKET',  'Surat Keterangan',   'khusus',        'both',     'naskah','pejabat',       false, 150),
      ('SPENG', 'Surat Pengantar',    'khusus',        'both',     'surat', 'pejabat',       true,  160),
      ('PENG',  'Pengumuman',         'khusus',        'both',     'naskah','pejabat',       false, 170),
      ('LAP',   'Laporan',            'khusus',        'internal', 'naskah','pejabat',       false, 180),
      ('TS',    'Telaahan Staf',      'khusus',        'internal', 'nota',  'pejabat',       true,  190),
      ('NOT',   'Notula',             'khusus',        'internal', 'naskah','pejabat',       false, 200);
  `).execute(db);
}
