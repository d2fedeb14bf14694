// Certificates end to end: the internal CA on disk, an administrator issues,
// the user activates with their own passphrase, the signing step unlocks,
// revocation reaches the CRL (read by openssl), import of a PKCS#12 from an
// OpenSSL-made CA once it is a trust anchor, and refusals that change nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { startTestEnv, snapshotCounts, csrfFrom, DEMO_PASSWORD, type TestEnv, type LoggedInAgent } from '../support/harness.js';
import { requireTools } from '../support/nss.js';
import { loadConfig, ConfigError } from '../../server/config.js';
import { ensureCa, unlockSigningIdentity } from '../../server/modules/signing/service.js';

describe('certificates: internal CA, issue, activate, unlock, revoke, CRL, import', function () {
  this.timeout(60000);
  let env: TestEnv;
  let dir: string;
  const users: Record<string, LoggedInAgent> = {};
  const as = (who: string) => users[who].agent;
  const post = async (who: string, url: string, fields: Record<string, string>) => as(who).post(url).type('form').send({ _csrf: await users[who].csrf(), ...fields });
  const userId = async (username: string) => String((await env.ctx.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirstOrThrow()).id);
  const certsOf = async (username: string) =>
    env.ctx.db.selectFrom('certificates').selectAll().where('user_id', '=', await userId(username)).orderBy('id').execute();
  const auditActions = async (since: string) =>
    (await env.ctx.db.selectFrom('audit_log').select(['action', 'details']).where('seq', '>', since).orderBy('seq').execute()).map((r) => r.action);
  const auditHead = async () => String((await env.ctx.db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow()).seq);
  const caPem = () => fs.readFileSync(path.join(env.config.certsDir, 'ca.crt'), 'utf8');
  const openssl = (args: string[], input?: Buffer) => {
    const r = spawnSync('openssl', args, { input, encoding: 'buffer' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
    return r;
  };

  before(async function () {
    requireTools(this, 'openssl');
    env = await startTestEnv();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-certs-'));
    for (const u of ['admin', 'pemeriksa1', 'pemeriksa2', 'penandatangan', 'konseptor']) users[u] = await env.loginAs(u);
  });
  after(async () => {
    await env?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('the internal CA', () => {
    it('lives in CERTS_DIR with its key encrypted, is a trust anchor, and penandatangan holds a demo certificate', async () => {
      const files = fs.readdirSync(env.config.certsDir).sort();
      expect(files).to.deep.equal(['ca-passphrase', 'ca.crt', 'ca.key']);
      expect(fs.readFileSync(path.join(env.config.certsDir, 'ca.key'), 'utf8')).to.contain('BEGIN ENCRYPTED PRIVATE KEY');
      expect(fs.statSync(path.join(env.config.certsDir, 'ca-passphrase')).mode & 0o777).to.equal(0o600);
      expect(fs.statSync(path.join(env.config.certsDir, 'ca.key')).mode & 0o777).to.equal(0o600);
      const text = execFileSync('openssl', ['x509', '-in', path.join(env.config.certsDir, 'ca.crt'), '-noout', '-subject']).toString();
      expect(text).to.contain('CN = TNDE Internal CA Pemerintah Provinsi Sukamaju');

      const anchors = await env.ctx.db.selectFrom('trust_anchors').selectAll().execute();
      expect(anchors).to.have.length(1);
      expect(anchors[0]).to.include({ internal: true, active: true });
      // Idempotent: a restart registers nothing new.
      await ensureCa(env.ctx);
      expect(await env.ctx.db.selectFrom('trust_anchors').selectAll().execute()).to.have.length(1);

      const [demo] = await certsOf('penandatangan');
      expect(demo).to.include({ status: 'active', source: 'internal' });
      const unlocked = await unlockSigningIdentity(env.ctx.db, await userId('penandatangan'), DEMO_PASSWORD);
      expect(unlocked.info.nip).to.equal('197002141995031005');
      expect(unlocked.info.subjectName).to.equal('Dr. Bambang Wijaya, S.Sos., M.Si.');
    });

    it('CA_PASSPHRASE is required in production', () => {
      expect(() => loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40) })).to.throw(ConfigError, /CA_PASSPHRASE: required in production/);
      expect(loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40), CA_PASSPHRASE: 'y'.repeat(32) }).certsDir).to.equal(path.resolve('certs'));
    });
  });

  describe('lifecycle of an internal certificate', () => {
    let serial = '';

    it('an administrator issues one: a pending row, nothing secret yet', async () => {
      const since = await auditHead();
      const page = await as('admin').get('/admin/sertifikat');
      expect(page.status).to.equal(200);
      expect(page.text).to.contain('Dr. Bambang Wijaya'); // the demo certificate is listed
      const res = await as('admin').post('/admin/sertifikat').type('form').send({ _csrf: csrfFrom(page.text), username: 'pemeriksa1' });
      expect(res.status, res.text).to.equal(303);
      const [c] = await certsOf('pemeriksa1');
      expect(c).to.include({ status: 'pending', source: 'internal', pkcs12: null, cert_pem: null });
      expect(await auditActions(since)).to.deep.equal(['signing.certificate_issued']);
      const again = await post('admin', '/admin/sertifikat', { username: 'pemeriksa1' });
      expect(again.status).to.equal(409);
      expect(again.text).to.contain('sudah memiliki sertifikat yang menunggu aktivasi');
    });

    it('the user activates it with a passphrase chosen twice; refusals keep it pending', async () => {
      const page = await as('pemeriksa1').get('/profil/sertifikat');
      expect(page.text).to.contain('Aktifkan sertifikat');
      const [pending] = await certsOf('pemeriksa1');
      const url = `/profil/sertifikat/${pending.id}/aktifkan`;
      const short = await post('pemeriksa1', url, { passphrase: 'pendek', passphrase_confirm: 'pendek' });
      expect(short.status).to.equal(400);
      expect(short.text).to.contain('Frasa sandi minimal 8 karakter.');
      const mismatch = await post('pemeriksa1', url, { passphrase: 'frasa sandi saya', passphrase_confirm: 'frasa sandi kamu' });
      expect(mismatch.status).to.equal(400);
      expect(mismatch.text).to.contain('Kedua frasa sandi tidak sama.');
      // Someone else's pending certificate does not exist for them.
      expect((await post('pemeriksa2', url, { passphrase: 'frasa sandi saya', passphrase_confirm: 'frasa sandi saya' })).status).to.equal(404);
      expect((await certsOf('pemeriksa1'))[0].status).to.equal('pending');

      const since = await auditHead();
      const ok = await post('pemeriksa1', url, { passphrase: 'frasa sandi saya', passphrase_confirm: 'frasa sandi saya' });
      expect(ok.status, ok.text).to.equal(303);
      const [active] = await certsOf('pemeriksa1');
      expect(active.status).to.equal('active');
      expect(active.pkcs12).to.be.instanceOf(Buffer);
      serial = active.serial_hex!;
      expect(await auditActions(since)).to.deep.equal(['signing.certificate_activated']);
      const shown = await as('pemeriksa1').get('/profil/sertifikat');
      expect(shown.text).to.contain(serial).and.contain('Ganti frasa sandi');

      // The certificate: NIP as serialNumber, unit, the CRL URL of this installation.
      const text = openssl(['x509', '-noout', '-text'], Buffer.from(active.cert_pem!)).stdout.toString();
      expect(text).to.contain('serialNumber = 198508172009011003').and.contain('OU = Seksi Pengembangan Aplikasi');
      expect(text).to.contain(`URI:${env.config.publicUrl}/pki/crl`);
      expect(text).to.match(/Digital Signature, Non Repudiation/);
    });

    it('the signing step unlocks it; a wrong passphrase is refused and changes nothing', async () => {
      const id = await userId('pemeriksa1');
      const unlocked = await unlockSigningIdentity(env.ctx.db, id, 'frasa sandi saya');
      expect(unlocked.info.serialHex).to.equal(serial);
      const before = await certsOf('pemeriksa1');
      const counts = await snapshotCounts(env.ctx, ['certificates', 'audit_log']);
      let err: { status?: number; messageKey?: string; details?: unknown } = {};
      await unlockSigningIdentity(env.ctx.db, id, 'frasa sandi salah').catch((e) => (err = e));
      expect(err.status).to.equal(400);
      expect(err.messageKey).to.equal('signing.wrong_passphrase');
      expect(err.details).to.deep.equal([{ field: 'passphrase', message: 'signing.wrong_passphrase', params: {} }]);
      expect(await certsOf('pemeriksa1')).to.deep.equal(before);
      expect(await snapshotCounts(env.ctx, ['certificates', 'audit_log'])).to.deep.equal(counts);
    });

    it('changing the passphrase needs the old one (a wrong one is a security event) and re-wraps the key', async () => {
      const since = await auditHead();
      const wrong = await post('pemeriksa1', '/profil/sertifikat/frasa-sandi', { old_passphrase: 'bukan ini', passphrase: 'frasa sandi baru', passphrase_confirm: 'frasa sandi baru' });
      expect(wrong.status).to.equal(400);
      expect(wrong.text).to.contain('Frasa sandi salah.');
      expect(await auditActions(since)).to.deep.equal(['signing.unlock_refused']);
      const ok = await post('pemeriksa1', '/profil/sertifikat/frasa-sandi', { old_passphrase: 'frasa sandi saya', passphrase: 'frasa sandi baru', passphrase_confirm: 'frasa sandi baru' });
      expect(ok.status).to.equal(303);
      const id = await userId('pemeriksa1');
      expect((await unlockSigningIdentity(env.ctx.db, id, 'frasa sandi baru')).info.serialHex).to.equal(serial);
      let err: { messageKey?: string } = {};
      await unlockSigningIdentity(env.ctx.db, id, 'frasa sandi saya').catch((e) => (err = e));
      expect(err.messageKey).to.equal('signing.wrong_passphrase');
    });

    it('revocation (audited) puts the serial on the CRL that openssl reads, and the certificate no longer unlocks', async () => {
      const [c] = await certsOf('pemeriksa1');
      const since = await auditHead();
      const res = await post('admin', `/admin/sertifikat/${c.id}/cabut`, { reason: 'keyCompromise' });
      expect(res.status).to.equal(303);
      expect(await auditActions(since)).to.deep.equal(['signing.certificate_revoked']);
      expect((await certsOf('pemeriksa1'))[0]).to.include({ status: 'revoked', revocation_reason: 'keyCompromise' });

      const crl = await env.agent().get('/pki/crl').responseType('blob');
      expect(crl.status).to.equal(200);
      expect(crl.headers['content-type']).to.contain('application/pkix-crl');
      fs.writeFileSync(path.join(dir, 'ca.pem'), caPem());
      const out = spawnSync('openssl', ['crl', '-inform', 'DER', '-text', '-noout', '-CAfile', path.join(dir, 'ca.pem')], { input: crl.body as Buffer, encoding: 'utf8' });
      expect(out.status, out.stderr).to.equal(0);
      expect(out.stderr).to.contain('verify OK');
      expect(out.stdout).to.contain(`Serial Number: ${serial.toUpperCase()}`).and.contain('Key Compromise');

      let err: { status?: number; messageKey?: string } = {};
      await unlockSigningIdentity(env.ctx.db, await userId('pemeriksa1'), 'frasa sandi baru').catch((e) => (err = e));
      expect(err).to.include({ status: 409, messageKey: 'signing.no_certificate' });
    });

    it('a new certificate supersedes the active one (revoked as superseded, on the CRL)', async () => {
      const before = await certsOf('penandatangan');
      expect(before.map((c) => c.status)).to.deep.equal(['active']);
      const issued = await as('admin').post('/api/v1/certificates').set('Authorization', `Bearer ${await env.tokenFor('admin')}`).send({ username: 'penandatangan' });
      expect(issued.status).to.equal(201);
      const res = await post('penandatangan', `/profil/sertifikat/${issued.body.id}/aktifkan`, { passphrase: 'frasa sandi kedua', passphrase_confirm: 'frasa sandi kedua' });
      expect(res.status).to.equal(303);
      const after = await certsOf('penandatangan');
      expect(after.map((c) => [c.status, c.revocation_reason])).to.deep.equal([['revoked', 'superseded'], ['active', null]]);
      const crl = (await env.agent().get('/pki/crl').responseType('blob')).body as Buffer;
      const text = spawnSync('openssl', ['crl', '-inform', 'DER', '-text', '-noout'], { input: crl, encoding: 'utf8' }).stdout;
      expect(text).to.contain(`Serial Number: ${before[0].serial_hex!.toUpperCase()}`).and.contain('Superseded');
    });

    it('an active certificate past its validity is listed as expired and no longer unlocks', async () => {
      const issued = await as('admin').post('/api/v1/certificates').set('Authorization', `Bearer ${await env.tokenFor('admin')}`).send({ username: 'pemeriksa2' });
      expect((await post('pemeriksa2', `/profil/sertifikat/${issued.body.id}/aktifkan`, { passphrase: 'frasa sandi lama', passphrase_confirm: 'frasa sandi lama' })).status).to.equal(303);
      await env.ctx.db.updateTable('certificates').set({ not_after: new Date(Date.now() - 60_000) }).where('id', '=', issued.body.id).execute();
      const list = await as('admin').get('/admin/sertifikat?status=expired');
      expect(list.text).to.contain('Ir. Siti Nurhaliza, M.Si.').and.contain('Kedaluwarsa');
      expect((await as('admin').get('/admin/sertifikat?status=active')).text).not.to.contain('Ir. Siti Nurhaliza, M.Si.');
      let err: { messageKey?: string } = {};
      await unlockSigningIdentity(env.ctx.db, await userId('pemeriksa2'), 'frasa sandi lama').catch((e) => (err = e));
      expect(err.messageKey).to.equal('signing.no_certificate');
    });

    it('publishes the CA certificate at /pki/ca.crt (DER)', async () => {
      const res = await env.agent().get('/pki/ca.crt').responseType('blob');
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.contain('application/pkix-cert');
      const subject = spawnSync('openssl', ['x509', '-inform', 'DER', '-noout', '-subject'], { input: res.body as Buffer, encoding: 'utf8' }).stdout;
      expect(subject).to.contain('TNDE Internal CA');
    });
  });

  describe('import of a PKCS#12 from another CA', () => {
    const p12 = (name: string) => fs.readFileSync(path.join(dir, name));
    const importAs = async (who: string, file: Buffer, passphrase: string) => {
      const token = await users[who].csrf();
      return as(who).post(`/profil/sertifikat/impor?_csrf=${encodeURIComponent(token)}`).field('passphrase', passphrase).attach('file', file, 'sertifikat.p12');
    };

    before(() => {
      const f = (n: string) => path.join(dir, n);
      fs.writeFileSync(f('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n');
      fs.writeFileSync(f('signer.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=emailProtection\n');
      fs.writeFileSync(f('tls.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,keyEncipherment\n');
      openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('other-ca.key'), '-out', f('other-ca.pem'), '-days', '365', '-subj', '/C=ID/O=Balai Sertifikasi Uji/CN=CA Uji OpenSSL', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
      for (const [name, ext] of [['signer', 'signer.ext'], ['tls', 'tls.ext']]) {
        openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/C=ID/O=Pemerintah Provinsi Sukamaju/serialNumber=197002141995031005/CN=Dr. Bambang Wijaya`]);
        openssl(['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('other-ca.pem'), '-CAkey', f('other-ca.key'), '-CAcreateserial', '-days', '90', '-extfile', f(ext), '-out', f(`${name}.pem`)]);
        openssl(['pkcs12', '-export', '-inkey', f(`${name}.key`), '-in', f(`${name}.pem`), '-certfile', f('other-ca.pem'), '-out', f(`${name}.p12`), '-passout', 'pass:sandi berkas BSrE']);
      }
    });

    it('is refused while its CA is not a trust anchor, with a clear message, storing nothing', async () => {
      const counts = await snapshotCounts(env.ctx, ['certificates']);
      const res = await importAs('penandatangan', p12('signer.p12'), 'sandi berkas BSrE');
      expect(res.status).to.equal(400);
      expect(res.text).to.contain('tidak diterbitkan oleh CA yang dipercaya sistem');
      const wrong = await importAs('penandatangan', p12('signer.p12'), 'salah');
      expect(wrong.status).to.equal(400);
      expect(wrong.text).to.contain('Frasa sandi salah.');
      const garbage = await importAs('penandatangan', Buffer.from('bukan pkcs12'), 'x');
      expect(garbage.text).to.contain('bukan PKCS#12');
      expect(await snapshotCounts(env.ctx, ['certificates'])).to.deep.equal(counts);
    });

    it('after an administrator adds the CA as a trust anchor: imported, active, unlocks with the file passphrase', async () => {
      const page = await as('admin').get('/admin/sertifikat/trust-anchor');
      const added = await as('admin').post('/admin/sertifikat/trust-anchor').type('form').send({ _csrf: csrfFrom(page.text), name: 'CA Uji OpenSSL', pem: fs.readFileSync(path.join(dir, 'other-ca.pem'), 'utf8') });
      expect(added.status, added.text).to.equal(303);
      expect((await as('admin').get('/admin/sertifikat/trust-anchor')).text).to.contain('CA Uji OpenSSL');

      const notForSigning = await importAs('penandatangan', p12('tls.p12'), 'sandi berkas BSrE');
      expect(notForSigning.status).to.equal(400);
      expect(notForSigning.text).to.contain('tidak diperuntukkan bagi tanda tangan elektronik');

      const since = await auditHead();
      const res = await importAs('penandatangan', p12('signer.p12'), 'sandi berkas BSrE');
      expect(res.status, res.text).to.equal(303);
      const active = (await certsOf('penandatangan')).filter((c) => c.status === 'active');
      expect(active).to.have.length(1);
      expect(active[0]).to.include({ source: 'imported' });
      expect(active[0].issuer_dn).to.equal('CN=CA Uji OpenSSL,O=Balai Sertifikasi Uji,C=ID');
      expect(await auditActions(since)).to.deep.equal(['signing.certificate_revoked', 'signing.certificate_imported']);
      const unlocked = await unlockSigningIdentity(env.ctx.db, await userId('penandatangan'), 'sandi berkas BSrE');
      expect(unlocked.identity.chain).to.have.length(1);
      expect(unlocked.certificateId).to.equal(String(active[0].id));

      // Deactivating the anchor: the certificate can no longer sign.
      const anchor = await env.ctx.db.selectFrom('trust_anchors').select('id').where('name', '=', 'CA Uji OpenSSL').executeTakeFirstOrThrow();
      expect((await post('admin', `/admin/sertifikat/trust-anchor/${anchor.id}/nonaktifkan`, {})).status).to.equal(303);
      let err: { messageKey?: string } = {};
      await unlockSigningIdentity(env.ctx.db, await userId('penandatangan'), 'sandi berkas BSrE').catch((e) => (err = e));
      expect(err.messageKey).to.equal('signing.certificate_untrusted');
    });
  });

  describe('authorisation', () => {
    it('non-administrators get 403 on the pages and the API, and nothing changes', async () => {
      const counts = await snapshotCounts(env.ctx, ['certificates', 'trust_anchors']);
      const statuses = await env.ctx.db.selectFrom('certificates').select(['id', 'status']).orderBy('id').execute();
      expect((await as('konseptor').get('/admin/sertifikat')).status).to.equal(403);
      expect((await as('konseptor').get('/admin/sertifikat/trust-anchor')).status).to.equal(403);
      expect((await post('konseptor', '/admin/sertifikat', { username: 'konseptor' })).status).to.equal(403);
      expect((await post('konseptor', `/admin/sertifikat/${statuses[0].id}/cabut`, { reason: 'keyCompromise' })).status).to.equal(403);
      expect((await post('konseptor', '/admin/sertifikat/trust-anchor', { name: 'x', pem: caPem() })).status).to.equal(403);
      const token = await env.tokenFor('konseptor');
      const api = (m: 'get' | 'post', url: string, body?: object) => env.agent()[m](url).set('Authorization', `Bearer ${token}`).send(body);
      expect((await api('get', '/api/v1/certificates')).status).to.equal(403);
      expect((await api('post', '/api/v1/certificates', { username: 'konseptor' })).status).to.equal(403);
      expect((await api('post', `/api/v1/certificates/${statuses[0].id}/revoke`, { reason: 'keyCompromise' })).status).to.equal(403);
      expect((await api('get', '/api/v1/trust-anchors')).status).to.equal(403);
      expect((await api('post', '/api/v1/trust-anchors/1/deactivate')).status).to.equal(403);
      const adminToken = await env.tokenFor('admin');
      expect((await env.agent().post('/api/v1/certificates/abc/revoke').set('Authorization', `Bearer ${adminToken}`).send({ reason: 'keyCompromise' })).status).to.equal(404);
      // Import is for signers.
      expect((await as('konseptor').get('/profil/sertifikat')).text).not.to.contain('Impor sertifikat');
      expect(await snapshotCounts(env.ctx, ['certificates', 'trust_anchors'])).to.deep.equal(counts);
      expect(await env.ctx.db.selectFrom('certificates').select(['id', 'status']).orderBy('id').execute()).to.deep.equal(statuses);
      expect(await env.ctx.db.selectFrom('trust_anchors').select('active').where('internal', '=', true).executeTakeFirstOrThrow()).to.deep.equal({ active: true });
    });

    it('the API lists certificates and anchors for administrators', async () => {
      const token = await env.tokenFor('admin');
      const list = await env.agent().get('/api/v1/certificates?status=revoked').set('Authorization', `Bearer ${token}`);
      expect(list.status).to.equal(200);
      expect(list.body.items.map((c: { user: string; revocationReason: string }) => [c.user, c.revocationReason])).to.deep.include.members([['pemeriksa1', 'keyCompromise'], ['penandatangan', 'superseded']]);
      const anchors = await env.agent().get('/api/v1/trust-anchors').set('Authorization', `Bearer ${token}`);
      expect(anchors.body.items.map((a: { internal: boolean; active: boolean }) => [a.internal, a.active])).to.deep.equal([[true, true], [false, false]]);
    });
  });
});
