import { expect } from 'chai';
import { ROLES } from '../../server/platform/auth/permissions.js';
import { mayManageOrganisation, mayViewOrganisation, userRecordView, selfLockoutRefusal } from '../../server/modules/org/policy.js';

describe('organisation policy', () => {
  it('lets only administrators manage, and every role view', () => {
    const matrix = Object.fromEntries(ROLES.map((r) => [r, [mayViewOrganisation({ roles: [r] }), mayManageOrganisation({ roles: [r] })]]));
    expect(matrix).to.deep.equal({
      admin: [true, true], konseptor: [true, false], pemeriksa: [true, false], penandatangan: [true, false],
      agendaris: [true, false], arsiparis: [true, false], auditor: [true, false], staf: [true, false],
    });
    expect(mayViewOrganisation(undefined)).to.equal(false);
    expect(mayViewOrganisation({ roles: ['unknown'] })).to.equal(false);
  });

  it('shows a user record in full to admins, as a directory card to others, and hides inactive ones from non-admins', () => {
    for (const active of [true, false]) expect(userRecordView({ roles: ['admin'] }, { active })).to.equal('full');
    expect(userRecordView({ roles: ['staf'] }, { active: true })).to.equal('directory');
    expect(userRecordView({ roles: ['staf'] }, { active: false })).to.equal(null);
    expect(userRecordView({ roles: [] }, { active: true })).to.equal(null);
  });

  it('refuses an administrator locking themselves out, and nothing else', () => {
    const me = { id: '1' };
    expect(selfLockoutRefusal(me, '1', { active: false })).to.equal('org.refuse.self_deactivate');
    expect(selfLockoutRefusal(me, '1', { roles: ['staf'] })).to.equal('org.refuse.self_admin');
    expect(selfLockoutRefusal(me, '1', { active: true, roles: ['admin'] })).to.equal(null);
    expect(selfLockoutRefusal(me, '2', { active: false, roles: [] })).to.equal(null);
  });
});
