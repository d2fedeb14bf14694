// Who may do what with certificates and signatures. Certificates are managed by
// administrators (`cert.manage`); a user activates, imports and re-protects only
// their own; verification is public.
import { can } from '../../platform/auth/permissions.js';

type User = { roles: string[] } | undefined | null;

export function mayManageCertificates(user: User): boolean {
  return can(user, 'cert.manage');
}

/** Importing a certificate from another CA is for those who sign. */
export function mayImportCertificate(user: User): boolean {
  return can(user, 'letter.sign');
}

/** The public page of a Rahasia or Sangat Rahasia letter shows the verdict only. */
export function verdictOnly(securityClass: string): boolean {
  return securityClass === 'rahasia' || securityClass === 'sangat_rahasia';
}
