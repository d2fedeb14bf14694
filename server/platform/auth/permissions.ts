// Roles and what each may do: one explicit table. A route or service asks
// `can(user, 'org.manage')`; nobody checks role names directly.
export const ROLES = ['admin', 'konseptor', 'pemeriksa', 'penandatangan', 'agendaris', 'arsiparis', 'auditor', 'staf'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = {
  'org.manage': 'administer units, positions, users and delegations',
  'org.view': 'see the organisation tree and the directory of users',
  'audit.read': 'read and filter the audit trail',
  'audit.verify': 'verify the audit chain',
  'letter.draft': 'draft letters (konsep)',
  'letter.review': 'review and initial letters (paraf)',
  'letter.sign': 'sign letters (TTE)',
  'incoming.register': 'register incoming letters (agenda)',
  'archive.manage': 'file, retain and dispose of records',
  'archive.approve_disposal': 'approve a disposal of records and sign its berita acara pemusnahan',
  'numbering.manage': 'configure number series and void numbers',
  'numbering.view': 'read the registers of issued numbers (buku agenda)',
  'token.own': 'hold personal API tokens',
  'cert.manage': 'issue and revoke signing certificates, manage trust anchors',
  'report.view': "see the leaders' dashboard (letters, lead times, TTE share, overdue disposisi) for their own unit's subtree",
  'report.all': 'the dashboard for the whole organisation, any unit',
  'system.health': 'see the system health page (database, both object stores, replication lag, integrity scans, audit checkpoints), start a scan and sign a checkpoint',
} as const;
export type Permission = keyof typeof PERMISSIONS;

const everyone: Permission[] = ['org.view', 'token.own', 'letter.draft'];

export const ROLE_PERMISSIONS: Record<Role, Permission[]> = {
  // admin, arsiparis and auditor answer for the whole installation (operation, records, inspection): the whole organisation's dashboard.
  admin: [...everyone, 'org.manage', 'audit.read', 'audit.verify', 'numbering.manage', 'numbering.view', 'cert.manage', 'report.view', 'report.all', 'system.health'],
  konseptor: [...everyone],
  pemeriksa: [...everyone, 'letter.review'],
  // A signing official leads a unit: the dashboard of that unit and its sub-units only.
  penandatangan: [...everyone, 'letter.review', 'letter.sign', 'report.view', 'archive.approve_disposal'],
  agendaris: [...everyone, 'incoming.register', 'numbering.manage', 'numbering.view'],
  arsiparis: [...everyone, 'archive.manage', 'numbering.view', 'report.view', 'report.all'],
  auditor: ['org.view', 'token.own', 'audit.read', 'audit.verify', 'report.view', 'report.all'],
  staf: [...everyone],
};

export const ROLE_LABELS: Record<Role, { id: string; en: string }> = {
  admin: { id: 'Administrator', en: 'Administrator' },
  konseptor: { id: 'Konseptor', en: 'Drafter' },
  pemeriksa: { id: 'Pemeriksa / Verifikator', en: 'Reviewer' },
  penandatangan: { id: 'Penandatangan', en: 'Signer' },
  agendaris: { id: 'Agendaris / Tata Usaha', en: 'Registry clerk' },
  arsiparis: { id: 'Arsiparis', en: 'Archivist' },
  auditor: { id: 'Auditor (Inspektorat)', en: 'Auditor' },
  staf: { id: 'Staf', en: 'Staff' },
};

export function isRole(r: string): r is Role {
  return (ROLES as readonly string[]).includes(r);
}

export function can(user: { roles: string[] } | undefined | null, permission: Permission): boolean {
  if (!user) return false;
  return user.roles.some((r) => isRole(r) && ROLE_PERMISSIONS[r].includes(permission));
}
