// Kysely's view of the tables. One interface per table; modules add theirs here
// as they add migrations, so the whole schema reads in one place.
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Id = ColumnType<string, string | number | bigint | undefined, string | number>;
type Ref = ColumnType<string | null, string | number | null | undefined, string | number | null>;
type RefNN = ColumnType<string, string | number, string | number>;

export interface UnitTable {
  id: Id;
  parent_id: Ref;
  code: string;
  name: string;
  kind: string;
  address: string | null;
  phone: string | null;
  email: string | null;
  website: string | null;
  active: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PositionTable {
  id: Id;
  unit_id: RefNN;
  code: string;
  title: string;
  superior_id: Ref;
  is_head: Generated<boolean>;
  active: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface UserTable {
  id: Id;
  username: string;
  nip: string | null;
  name: string;
  email: string | null;
  password_hash: string;
  position_id: Ref;
  roles: ColumnType<string[], string[] | undefined, string[]>;
  active: Generated<boolean>;
  locale: Generated<string>;
  failed_logins: Generated<number>;
  locked_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  totp_secret: string | null;
  totp_enabled: Generated<boolean>;
  /** The last accepted TOTP time step: a code is good once. */
  totp_last_step: number | null;
  must_change_password: Generated<boolean>;
  password_changed_at: Timestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface DelegationTable {
  id: Id;
  kind: 'plh' | 'plt' | 'an' | 'ub';
  principal_position_id: RefNN;
  delegate_user_id: RefNN;
  legal_basis: string;
  starts_on: ColumnType<string, string, string>;
  ends_on: ColumnType<string, string, string>;
  note: string | null;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_by: Ref;
  created_at: Timestamp;
}

export interface ApiTokenTable {
  id: Id;
  user_id: RefNN;
  name: string;
  token_hash: string;
  prefix: string;
  created_at: Timestamp;
  last_used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface RateLimitTable {
  key: string;
  hits: number;
  reset_at: Timestamp;
}

export interface ObjectTable {
  sha256: string;
  size: ColumnType<string, number | string, number | string>;
  content_type: string;
  created_by: Ref;
  created_at: Timestamp;
  /** When the copy reached the backup store. */
  backed_up_at: NullableTs;
  /** When a disposal destroyed the bytes (the row remains as evidence). */
  destroyed_at: NullableTs;
}

export interface AuditLogTable {
  seq: ColumnType<string, number | string, never>;
  at: string;
  actor_id: Ref;
  actor_name: string | null;
  action: string;
  object_type: string | null;
  object_id: string | null;
  ip: string | null;
  details: ColumnType<Record<string, unknown>, string, never>;
  doc_sha256: string | null;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadTable {
  id: number;
  seq: ColumnType<string, number | string, number | string>;
  hash: string;
}


export interface ScanRunTable {
  id: Id;
  trigger: 'scheduled' | 'manual' | 'cli';
  started_by: Ref;
  repair: boolean;
  started_at: Generated<Date>;
  progress_at: Generated<Date>;
  finished_at: NullableTs;
  objects_checked: Generated<number>;
  findings: Generated<number>;
  repaired: Generated<number>;
  audit_ok: boolean | null;
  checkpoints_ok: boolean | null;
}

export interface ScanFindingTable {
  id: Id;
  run_id: RefNN;
  kind: 'missing' | 'altered' | 'lost' | 'destroyed_present' | 'audit_chain' | 'checkpoint';
  store: 'primary' | 'backup' | 'both' | null;
  sha256: string | null;
  detail: string;
  repaired: Generated<boolean>;
}

export interface AuditCheckpointTable {
  id: Id;
  seq: ColumnType<string, number | string, number | string>;
  head_hash: string;
  installation: string;
  signed_at: ColumnType<Date, Date | string, Date | string>;
  key_fingerprint: string;
  signature: string;
}

export interface LetterKindTable {
  code: string;
  name: string;
  family: string;
  scope: 'internal' | 'external' | 'both';
  layout: 'surat' | 'nota' | 'naskah';
  signer_rule: 'kepala_daerah' | 'kepala_pd' | 'pejabat';
  needs_addressees: Generated<boolean>;
  sort_order: Generated<number>;
  active: Generated<boolean>;
}

export interface ClassificationCodeTable {
  code: string;
  name: string;
  parent_code: string | null;
  retention_active_years: number | null;
  retention_inactive_years: number | null;
  final_fate: 'musnah' | 'permanen' | 'dinilai_kembali' | null;
  active: Generated<boolean>;
  updated_at: Timestamp;
}

type NullableTs = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface LetterTable {
  id: Id;
  kind_code: string;
  unit_id: RefNN;
  drafter_id: RefNN;
  drafter_position_id: Ref;
  signer_id: RefNN;
  signer_position_id: RefNN;
  signer_prefix: 'an' | 'ub' | 'plh' | 'plt' | null;
  signer_principal_position_id: Ref;
  subject: string;
  urgency: 'biasa' | 'segera' | 'sangat_segera';
  security_class: 'biasa' | 'terbatas' | 'rahasia' | 'sangat_rahasia';
  classification_code: string;
  paper: Generated<'A4' | 'F4'>;
  state: string;
  version: Generated<number>;
  version_sha256: string;
  review_round: Generated<number>;
  awaiting_position_id: Ref;
  awaiting_user_id: Ref;
  number: string | null;
  reply_to_letter_id: Ref;
  /** The received letter this draft answers ("Balas"). */
  reply_to_incoming_id: Ref;
  created_at: Timestamp;
  updated_at: Timestamp;
  submitted_at: NullableTs;
  approved_at: NullableTs;
  signed_at: NullableTs;
}

export interface LetterVersionTable {
  letter_id: RefNN;
  version: number;
  sha256: string;
  content: ColumnType<LetterContentJson, string, never>;
  created_by: RefNN;
  created_at: Timestamp;
}

/** The canonical content of one version, as hashed. */
export interface LetterContentJson {
  kind: string;
  subject: string;
  urgency: string;
  securityClass: string;
  classificationCode: string;
  paper: string;
  to: RecipientJson[];
  cc: RecipientJson[];
  signer: { userId: string; positionId: string; prefix: string | null; principalPositionId: string | null };
  body: string;
  attachments: { sha256: string; filename: string; size: number; contentType: string }[];
}

export type RecipientJson =
  | { user: string; userId: string }
  | { unit: string; unitId: string }
  | { position: string; positionId: string }
  | { external: { name: string; email: string | null } }
  /** A peer installation's agency (exchange); the name as registered, printed in the letter. */
  | { peer: string; peerId: string; name: string };

export interface LetterRecipientTable {
  id: Id;
  letter_id: RefNN;
  role: 'to' | 'cc';
  ord: number;
  user_id: Ref;
  unit_id: Ref;
  position_id: Ref;
  ext_name: string | null;
  ext_email: string | null;
  peer_id: Ref;
}

export interface LetterAttachmentTable {
  id: Id;
  letter_id: RefNN;
  object_sha256: string;
  filename: string;
  content_type: string;
  size: ColumnType<string, number | string, number | string>;
  uploaded_by: RefNN;
  created_at: Timestamp;
  removed_at: NullableTs;
  /** Text extracted at upload (PDF), for search. */
  extracted_text: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface ApprovalStepTable {
  id: Id;
  letter_id: RefNN;
  round: number;
  ord: number;
  position_id: RefNN;
  added_by_drafter: Generated<boolean>;
  action: 'approved' | 'returned' | null;
  actor_id: Ref;
  acting_as: 'self' | 'plh' | 'plt' | null;
  on_behalf_of_id: Ref;
  version: number | null;
  version_sha256: string | null;
  note: string | null;
  acted_at: NullableTs;
}

export interface ApprovalTemplateTable {
  id: Id;
  name: string;
  kind_code: string | null;
  unit_id: Ref;
  position_ids: ColumnType<string[], (string | number)[], (string | number)[]>;
  allow_additional: Generated<boolean>;
  active: Generated<boolean>;
  created_at: Timestamp;
}

export interface NotificationTable {
  id: Id;
  user_id: RefNN;
  letter_id: Ref;
  kind: string;
  params: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Timestamp;
  read_at: NullableTs;
}

export interface NumberSeriesTable {
  id: Id;
  unit_id: RefNN;
  scope: 'outgoing' | 'incoming';
  kind_code: string | null;
  name: string;
  format: string;
  unit_token: string;
  active: Generated<boolean>;
  created_at: Timestamp;
}

export interface NumberCounterTable {
  series_id: RefNN;
  year: number;
  value: number;
}

export interface IssuedNumberTable {
  id: Id;
  series_id: RefNN;
  year: number;
  seq: number;
  number: string;
  letter_id: Ref;
  issued_by: Ref;
  issued_at: Timestamp;
  voided_at: NullableTs;
  void_reason: string | null;
  voided_by: Ref;
}

export interface TrustAnchorTable {
  id: Id;
  name: string;
  cert_pem: string;
  fingerprint: string;
  internal: Generated<boolean>;
  active: Generated<boolean>;
  added_by: Ref;
  created_at: Timestamp;
}

export interface CertificateTable {
  id: Id;
  user_id: RefNN;
  status: 'pending' | 'active' | 'revoked' | 'expired';
  source: 'internal' | 'imported';
  serial_hex: string | null;
  issuer_dn: string | null;
  subject_dn: string | null;
  cert_pem: string | null;
  chain_pem: string | null;
  pkcs12: Buffer | null;
  not_before: NullableTs;
  not_after: NullableTs;
  issued_by: Ref;
  created_at: Timestamp;
  activated_at: NullableTs;
  revoked_at: NullableTs;
  revocation_reason: string | null;
}

export interface LetterSignatureTable {
  letter_id: RefNN;
  certificate_id: RefNN;
  signer_id: RefNN;
  pdf_sha256: string;
  issued_number_id: RefNN;
  signed_at: Timestamp;
  on_behalf: string | null;
  verification_id: string;
}

export interface PeerTable {
  id: Id;
  code: string;
  name: string;
  url: string;
  public_key_pem: string;
  active: Generated<boolean>;
  created_by: Ref;
  created_at: Timestamp;
}

export interface ExchangeNonceTable {
  peer_id: RefNN;
  nonce: string;
  expires_at: Timestamp;
}

export interface ExchangeInboundTable {
  id: Id;
  peer_id: RefNN;
  letter_ref: string;
  pdf_sha256: string;
  metadata: ColumnType<unknown, string, string>;
  incoming_id: RefNN;
  receipt: ColumnType<unknown, string, string>;
  received_at: Timestamp;
}

export interface IncomingLetterTable {
  id: Id;
  unit_id: RefNN;
  source: 'internal' | 'paper' | 'email' | 'exchange';
  letter_id: Ref;
  sender_name: string;
  sender_number: string | null;
  sender_date: ColumnType<string | null, string | null | undefined, string | null>;
  subject: string;
  urgency: 'biasa' | 'segera' | 'sangat_segera';
  security_class: 'biasa' | 'terbatas' | 'rahasia' | 'sangat_rahasia';
  classification_code: string | null;
  pdf_sha256: string | null;
  agenda_number: string | null;
  issued_number_id: Ref;
  state: Generated<'registered' | 'disposed' | 'done'>;
  registered_by: Ref;
  registered_at: Timestamp;
  external_ref: string | null;
  /** Text extracted from the scan (PDF), for search. */
  extracted_text: ColumnType<string | null, string | null | undefined, string | null>;
}

/** One archival record per letter and per incoming letter not from our own letters (migration 0011_records). */
export interface RecordTable {
  id: Id;
  letter_id: Ref;
  incoming_letter_id: Ref;
  unit_id: RefNN;
  kind_code: string | null;
  number: string | null;
  sender_number: string | null;
  subject: string;
  security_class: 'biasa' | 'terbatas' | 'rahasia' | 'sangat_rahasia';
  classification_code: string | null;
  state: string;
  /** Signing date (letters) or registration date (incoming) in Asia/Jakarta: retention counts from it. */
  record_date: ColumnType<string | null, string | null | undefined, string | null>;
  sender: Generated<string>;
  recipients: Generated<string>;
  body_text: Generated<string>;
  attachments_text: Generated<string>;
  created_at: Timestamp;
  updated_at: Timestamp;
  search_stem: ColumnType<string, never, never>;
  search_simple: ColumnType<string, never, never>;
  /** Retention marks (migration 0012_archive): moved to the records centre, transferred for good, destroyed. */
  inactive_at: NullableTs;
  inactive_by: Ref;
  permanent_at: NullableTs;
  permanent_by: Ref;
  permanent_note: string | null;
  destroyed_at: NullableTs;
  disposal_id: Ref;
  /** The tombstone's evidence: the hashes whose bytes the disposal deleted. */
  destroyed_sha256: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
}

/** A case file (berkas) of records. */
export interface ArchiveFileTable {
  id: Id;
  unit_id: RefNN;
  number: string;
  title: string;
  classification_code: string | null;
  description: string | null;
  created_by: RefNN;
  created_at: Timestamp;
  closed_at: NullableTs;
}

export interface ArchiveFileRecordTable {
  file_id: RefNN;
  record_id: RefNN;
  added_by: RefNN;
  added_at: Timestamp;
}

export interface LegalHoldTable {
  id: Id;
  record_id: RefNN;
  reason: string;
  placed_by: RefNN;
  placed_at: Timestamp;
  lifted_by: Ref;
  lifted_at: NullableTs;
  lift_reason: string | null;
}

export interface DisposalTable {
  id: Id;
  state: Generated<'proposed' | 'approved' | 'rejected' | 'executed'>;
  note: string | null;
  proposed_by: RefNN;
  proposed_at: Timestamp;
  decided_by: Ref;
  decided_at: NullableTs;
  decision_note: string | null;
  executed_at: NullableTs;
  number: string | null;
  issued_number_id: Ref;
  berita_acara_sha256: string | null;
  purged_at: NullableTs;
}

export interface DisposalRecordTable {
  disposal_id: RefNN;
  record_id: RefNN;
}

export interface DeliveryTable {
  id: Id;
  letter_id: Ref;
  role: 'to' | 'cc';
  user_id: RefNN;
  incoming_letter_id: RefNN;
  delivered_at: Timestamp;
  read_at: NullableTs;
}

export interface OutboundMessageTable {
  id: Id;
  letter_id: RefNN;
  recipient_id: RefNN;
  channel: 'email' | 'exchange';
  address: string | null;
  peer_id: Ref;
  status: Generated<'queued' | 'sent' | 'failed' | 'delivered'>;
  attempts: Generated<number>;
  last_error: string | null;
  next_attempt_at: Timestamp;
  sent_at: NullableTs;
  receipt: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  created_at: Timestamp;
}

export interface DisposisiTable {
  id: Id;
  incoming_letter_id: RefNN;
  parent_id: Ref;
  from_user_id: RefNN;
  to_user_id: RefNN;
  instructions: ColumnType<string[], string[] | undefined, string[]>;
  note: string | null;
  due_date: ColumnType<string | null, string | null | undefined, string | null>;
  state: Generated<'open' | 'done'>;
  done_note: string | null;
  done_attachment_sha256: string | null;
  created_at: Timestamp;
  read_at: NullableTs;
  done_at: NullableTs;
}

export interface DisposisiReplyTable {
  id: Id;
  disposisi_id: RefNN;
  user_id: RefNN;
  note: string;
  created_at: Timestamp;
}

export interface Database {
  peers: PeerTable;
  exchange_nonces: ExchangeNonceTable;
  exchange_inbound: ExchangeInboundTable;
  units: UnitTable;
  positions: PositionTable;
  users: UserTable;
  delegations: DelegationTable;
  api_tokens: ApiTokenTable;
  rate_limits: RateLimitTable;
  objects: ObjectTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  audit_checkpoints: AuditCheckpointTable;
  scan_runs: ScanRunTable;
  scan_findings: ScanFindingTable;
  letter_kinds: LetterKindTable;
  classification_codes: ClassificationCodeTable;
  letters: LetterTable;
  letter_versions: LetterVersionTable;
  letter_recipients: LetterRecipientTable;
  letter_attachments: LetterAttachmentTable;
  approval_steps: ApprovalStepTable;
  approval_templates: ApprovalTemplateTable;
  notifications: NotificationTable;
  number_series: NumberSeriesTable;
  number_counters: NumberCounterTable;
  issued_numbers: IssuedNumberTable;
  trust_anchors: TrustAnchorTable;
  certificates: CertificateTable;
  letter_signatures: LetterSignatureTable;
  incoming_letters: IncomingLetterTable;
  deliveries: DeliveryTable;
  outbound_messages: OutboundMessageTable;
  disposisi: DisposisiTable;
  disposisi_replies: DisposisiReplyTable;
  records: RecordTable;
  archive_files: ArchiveFileTable;
  archive_file_records: ArchiveFileRecordTable;
  legal_holds: LegalHoldTable;
  disposals: DisposalTable;
  disposal_records: DisposalRecordTable;
}

export type Unit = Selectable<UnitTable>;
export type Position = Selectable<PositionTable>;
export type User = Selectable<UserTable>;
export type NewUser = Insertable<UserTable>;
export type UserUpdate = Updateable<UserTable>;
export type Delegation = Selectable<DelegationTable>;
export type AuditEntry = Selectable<AuditLogTable>;
export type Letter = Selectable<LetterTable>;
export type ApprovalStep = Selectable<ApprovalStepTable>;
