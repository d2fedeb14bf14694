import { expect } from 'chai';
import { Secret, TOTP } from 'otpauth';
import { startTestEnv, csrfFrom, DEMO_PASSWORD, type TestEnv, type LoggedInAgent } from '../support/harness.js';

/** Posts a profile form with the page's CSRF token and follows the redirect back to the profile. */
async function postProfile(u: LoggedInAgent, url: string, fields: Record<string, string>) {
  const res = await u.agent.post(url).type('form').send({ _csrf: await u.csrf(), ...fields });
  if (res.status === 303) return u.agent.get(res.headers.location);
  return res;
}

async function signIn(env: TestEnv, username: string, password: string, otp?: string) {
  const agent = env.agent();
  const page = await agent.get('/login');
  return agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), username, password, ...(otp ? { otp } : {}) });
}

const userRow = (env: TestEnv, username: string) => env.ctx.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirstOrThrow();
const lastEntry = (env: TestEnv, action: string, actor: string) =>
  env.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', action).where('actor_name', '=', actor).orderBy('seq', 'desc').executeTakeFirst();

describe('account: two-step verification (TOTP)', () => {
  let env: TestEnv;
  let user: LoggedInAgent;
  let totp: TOTP;
  let secret = '';

  before(async () => {
    env = await startTestEnv();
    user = await env.loginAs('staf3');
  });
  after(() => env.close());

  it('shows a QR code and the secret when enrolment starts, but is not on yet', async () => {
    const page = await user.agent.post('/profile/totp/begin').type('form').send({ _csrf: await user.csrf() });
    expect(page.status).to.equal(200);
    expect(page.text).to.match(/<img src="data:image\/png;base64,[A-Za-z0-9+/=]+" alt="QR TOTP"/);
    secret = /<p><code>([A-Z2-7]+)<\/code><\/p>/.exec(page.text)![1];
    totp = new TOTP({ issuer: 'TNDE', label: 'staf3', algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) });
    expect((await userRow(env, 'staf3')).totp_enabled).to.equal(false);
    // Still off: signing in needs no code.
    expect((await signIn(env, 'staf3', DEMO_PASSWORD)).status).to.equal(303);
  });

  it('refuses a wrong confirmation code and stays off', async () => {
    const wrong = String((Number(totp.generate()) + 500_000) % 1_000_000).padStart(6, '0');
    const page = await postProfile(user, '/profile/totp/confirm', { otp: wrong });
    expect(page.text).to.contain('Kode OTP salah atau kedaluwarsa.');
    expect((await userRow(env, 'staf3')).totp_enabled).to.equal(false);
    expect(await lastEntry(env, 'auth.totp_enabled', 'staf3')).to.equal(undefined);
  });

  it('turns on with the code an authenticator app computes, and records it', async () => {
    const page = await postProfile(user, '/profile/totp/confirm', { otp: totp.generate() });
    expect(page.text).to.contain('Verifikasi dua langkah diaktifkan.').and.contain('Verifikasi dua langkah aktif.');
    expect((await userRow(env, 'staf3')).totp_enabled).to.equal(true);
    const entry = await lastEntry(env, 'auth.totp_enabled', 'staf3');
    expect(entry).to.include({ object_type: 'user', ip: '127.0.0.1' });
    expect(JSON.stringify(entry)).to.not.contain(secret);
  });

  it('then asks for the code at sign-in, refuses a wrong one, and accepts the right one', async () => {
    const noCode = await signIn(env, 'staf3', DEMO_PASSWORD);
    expect(noCode.status).to.equal(401);
    expect(noCode.text).to.contain('Akun ini memakai verifikasi dua langkah.');
    expect((await lastEntry(env, 'auth.login_failed', 'staf3'))!.details).to.deep.equal({ reason: 'otp_required' });

    const wrong = await signIn(env, 'staf3', DEMO_PASSWORD, '000000' === totp.generate() ? '111111' : '000000');
    expect(wrong.status).to.equal(401);
    expect(wrong.text).to.contain('Kode OTP salah atau kedaluwarsa.');
    expect((await lastEntry(env, 'auth.login_failed', 'staf3'))!.details).to.deep.equal({ reason: 'otp_invalid' });

    // A right code with a wrong password still fails as a wrong password.
    const badPassword = await signIn(env, 'staf3', 'bukan-sandinya', totp.generate());
    expect(badPassword.status).to.equal(401);
    expect(badPassword.text).to.contain('Nama pengguna atau kata sandi salah.');

    // The confirmation used up this period's code: the next period's is still accepted (clock drift).
    const next = totp.generate({ timestamp: Date.now() + 30_000 });
    const ok = await signIn(env, 'staf3', DEMO_PASSWORD, next);
    expect(ok.status).to.equal(303);
  });

  it('accepts a code only once: the same code again is refused', async () => {
    const used = totp.generate({ timestamp: Date.now() + 30_000 });
    const replay = await signIn(env, 'staf3', DEMO_PASSWORD, used);
    expect(replay.status).to.equal(401);
    expect(replay.text).to.contain('Kode OTP salah atau kedaluwarsa.');
    const older = await signIn(env, 'staf3', DEMO_PASSWORD, totp.generate());
    expect(older.status).to.equal(401);
  });

  it('cannot be switched off by starting a new enrolment (that would skip the password)', async () => {
    const res = await user.agent.post('/profile/totp/begin').type('form').send({ _csrf: await user.csrf() });
    expect(res.status).to.equal(400);
    expect(res.text).to.contain('Verifikasi dua langkah sudah aktif.');
    const row = await userRow(env, 'staf3');
    expect(row.totp_enabled).to.equal(true);
    expect((await signIn(env, 'staf3', DEMO_PASSWORD)).status).to.equal(401);
  });

  it('is switched off only with the password', async () => {
    const wrong = await postProfile(user, '/profile/totp/disable', { password: 'bukan-sandinya' });
    expect(wrong.text).to.contain('Kata sandi saat ini salah.');
    expect((await userRow(env, 'staf3')).totp_enabled).to.equal(true);
    const ok = await postProfile(user, '/profile/totp/disable', { password: DEMO_PASSWORD });
    expect(ok.text).to.contain('Verifikasi dua langkah dinonaktifkan.');
    expect((await userRow(env, 'staf3')).totp_enabled).to.equal(false);
    expect(await lastEntry(env, 'auth.totp_disabled', 'staf3')).to.not.equal(undefined);
    expect((await signIn(env, 'staf3', DEMO_PASSWORD)).status).to.equal(303);
  });
});

describe('account: password change', () => {
  let env: TestEnv;
  let user: LoggedInAgent;
  const NEW = 'sandi-baru-yang-panjang-7';

  before(async () => {
    env = await startTestEnv();
    user = await env.loginAs('agendaris');
  });
  after(() => env.close());

  it('refuses a wrong current password, and nothing changes', async () => {
    const before = (await userRow(env, 'agendaris')).password_hash;
    const page = await postProfile(user, '/profile/password', { current: 'salah-sekali', next: NEW, confirm: NEW });
    expect(page.text).to.contain('Kata sandi saat ini salah.');
    expect((await userRow(env, 'agendaris')).password_hash).to.equal(before);
    expect(await lastEntry(env, 'auth.password_changed', 'agendaris')).to.equal(undefined);
  });

  it('refuses a repeat that does not match, and a password equal to the username', async () => {
    expect((await postProfile(user, '/profile/password', { current: DEMO_PASSWORD, next: NEW, confirm: NEW + 'x' })).text).to.contain('Kata sandi baru dan ulangannya tidak sama.');
    expect((await postProfile(user, '/profile/password', { current: DEMO_PASSWORD, next: 'Agendaris', confirm: 'Agendaris' })).text).to.contain('Kata sandi tidak boleh sama dengan nama pengguna.');
    expect((await signIn(env, 'agendaris', DEMO_PASSWORD)).status).to.equal(303);
  });

  it('changes it: the new one works, the old one no longer does, and the audit entry holds no password', async () => {
    const elsewhere = await env.loginAs('agendaris'); // e.g. a forgotten browser, or a stolen session
    expect((await elsewhere.agent.get('/profile')).status).to.equal(200);
    const page = await postProfile(user, '/profile/password', { current: DEMO_PASSWORD, next: NEW, confirm: NEW });
    // The other session ended; the one that made the change goes on.
    expect((await elsewhere.agent.get('/profile')).status).to.equal(303);
    expect((await user.agent.get('/profile')).status).to.equal(200);
    expect(page.text).to.contain('Kata sandi berhasil diganti.');
    expect((await signIn(env, 'agendaris', NEW)).status).to.equal(303);
    const old = await signIn(env, 'agendaris', DEMO_PASSWORD);
    expect(old.status).to.equal(401);
    expect(old.text).to.contain('Nama pengguna atau kata sandi salah.');
    const entry = await lastEntry(env, 'auth.password_changed', 'agendaris');
    expect(entry).to.include({ object_type: 'user', ip: '127.0.0.1' });
    expect(JSON.stringify(entry)).to.not.contain(NEW).and.not.contain(DEMO_PASSWORD);
  });
});
