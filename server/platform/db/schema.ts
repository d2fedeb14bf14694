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

export interface Database {
  units: UnitTable;
  positions: PositionTable;
  users: UserTable;
  delegations: DelegationTable;
  api_tokens: ApiTokenTable;
  rate_limits: RateLimitTable;
  objects: ObjectTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
}

export type Unit = Selectable<UnitTable>;
export type Position = Selectable<PositionTable>;
export type User = Selectable<UserTable>;
export type NewUser = Insertable<UserTable>;
export type UserUpdate = Updateable<UserTable>;
export type Delegation = Selectable<DelegationTable>;
export type AuditEntry = Selectable<AuditLogTable>;
