// Who may see and change organisation records. Administrators (org.manage)
// manage everything; everyone with org.view sees the tree, the positions and a
// directory of active colleagues (name, position, unit: no e-mail, roles or
// account state). The service asks these questions; routes never do.
import { can } from '../../platform/auth/permissions.js';

type Subject = { id?: string; roles: string[] } | undefined | null;

export function mayViewOrganisation(user: Subject): boolean {
  return can(user, 'org.view') || can(user, 'org.manage');
}

export function mayManageOrganisation(user: Subject): boolean {
  return can(user, 'org.manage');
}

/** How much of a user record the viewer may see, or null when it stays hidden (404). */
export function userRecordView(viewer: Subject, record: { active: boolean }): 'full' | 'directory' | null {
  if (mayManageOrganisation(viewer)) return 'full';
  if (!mayViewOrganisation(viewer) || !record.active) return null;
  return 'directory';
}

/** Inactive units and positions are history: only administrators see them. */
export function mayViewInactive(user: Subject): boolean {
  return mayManageOrganisation(user);
}

/**
 * Lock-out protection: an administrator may not switch off their own account
 * or take away their own admin role (there would be nobody left to undo it).
 * Returns the message key of the refusal, or null.
 */
export function selfLockoutRefusal(actor: { id: string }, targetId: string, change: { active?: boolean; roles?: string[] }): string | null {
  if (actor.id !== targetId) return null;
  if (change.active === false) return 'org.refuse.self_deactivate';
  if (change.roles && !change.roles.includes('admin')) return 'org.refuse.self_admin';
  return null;
}
