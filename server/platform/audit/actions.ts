// Every kind of audit entry, in one commented list. A new event is one line here.
export const AUDIT_ACTIONS = {
  'auth.login': 'sign-in succeeded',
  'auth.login_failed': 'sign-in refused (wrong password, unknown user, inactive, wrong OTP)',
  'auth.locked': 'account locked after repeated failures',
  'auth.logout': 'sign-out',
  'auth.password_changed': 'a user changed their own password',
  'auth.totp_enabled': 'second factor enrolled',
  'auth.totp_disabled': 'second factor removed',
  'auth.csrf_rejected': 'a form was posted without a valid CSRF token',
  'auth.forbidden': 'an authenticated request was refused for lack of permission',
  'token.created': 'a personal API token was issued',
  'token.revoked': 'a personal API token was revoked',
  'org.unit_created': 'unit created',
  'org.unit_updated': 'unit changed (including deactivation)',
  'org.position_created': 'position created',
  'org.position_updated': 'position changed',
  'org.user_created': 'user created',
  'org.user_updated': 'user changed (profile, position, roles, active)',
  'org.user_password_reset': 'an administrator reset a password',
  'org.delegation_created': 'Plh./Plt./a.n./u.b. delegation created',
  'org.delegation_revoked': 'delegation revoked',
  'system.demo_seeded': 'demo organisation created on first start',
  'storage.object_stored': 'an object was stored',
} as const;

export type AuditAction = keyof typeof AUDIT_ACTIONS;
