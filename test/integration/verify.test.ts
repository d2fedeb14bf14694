// Public verification: /verify (page), POST /api/v1/verify (JSON, no sign-in)
// and the QR target /v/:id. PDFs are made with pdf-lib and signed with signPdf:
// by the demo signer, by a stranger CA, by a revoked certificate; then changed
// by one byte or by an incremental update.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { startTestEnv, DEMO_PASSWORD, type TestEnv } from '../support/harness.js';
import { loadCurrentUser, type CurrentUser } from '../../server/platform/auth/current-user.js';
import { createCa, generateKeyPair, issueSigningCertificate } from '../../server/modules/signing/ca.js';
import { signPdf, type SigningIdentity } from '../../server/modules/signing/pades.js';
import { activateCertificate, issueCertificate, revokeCertificate, unlockSigningIdentity } from '../../server/modules/signing/service.js';

async function letterPdf(text: string): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.addPage([595.28, 841.89]).drawText(text, { x: 85, y: 760, size: 11, font: await doc.embedFont(StandardFonts.Helvetica) });
  return doc.save({ useObjectStreams: false });
}

/** What an editor does when it "adds a note" to a signed file: a new object, xref and trailer after %%EOF. */
function withIncrementalUpdate(pdf: Buffer): Buffer {
  const s = pdf.toString('latin1');
  const last = <T>(re: RegExp, f: (m: RegExpMatchArray) => T) => f([...s.matchAll(re)].at(-1)!);
  const size = last(/\/Size (\d+)/g, (m) => Number(m[1]));
  const prevXref = last(/startxref\s+(\d+)/g, (m) => m[1]);
  const root = /\/Root (\d+ \d+ R)/.exec(s)![1];
  const body = `${size} 0 obj\n<< /Author (diubah) >>\nendobj\n`;
  const xrefAt = pdf.length + body.length;
  const xref = `xref\n${size} 1\n${String(pdf.length).padStart(10, '0')} 00000 n \ntrailer\n<< /Size ${size + 1} /Root ${root} /Info ${size} 0 R /Prev ${prevXref} >>\nstartxref\n${xrefAt}\n%%EOF\n`;
  return Buffer.concat([pdf, Buffer.from(body + xref, 'latin1')]);
}

describe('verification: /verify, POST /api/v1/verify and /v/:id', function () {
  this.timeout(60000);
  let env: TestEnv;
  let demo: SigningIdentity;
  let signed: Buffer;
  const user = async (username: string): Promise<CurrentUser> => {
    const { id } = await env.ctx.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirstOrThrow();
    return (await loadCurrentUser(env.ctx.db, String(id), 'session', null))!;
  };
  const verifyApi = (file: Buffer, name = 'surat.pdf') => env.agent().post('/api/v1/verify').attach('file', file, name);
  const verifyPage = async (file: Buffer, lang?: 'en') => {
    const agent = env.agent();
    const form = await agent.get(`/verify${lang ? `?lang=${lang}` : ''}`);
    // A multipart form carries its CSRF token in the action's query string (see app.ts).
    const action = /action="(\/verify\?_csrf=[^"]+)"/.exec(form.text)![1];
    return agent.post(action).attach('file', file, 'surat.pdf');
  };

  /** A signed letter in the registry (letters, issued_numbers, objects, letter_signatures), as the signing step leaves it. */
  async function registerSignedLetter(securityClass: 'biasa' | 'rahasia', pdf: Buffer): Promise<{ verificationId: string; number: string }> {
    const db = env.ctx.db;
    const signer = await user('penandatangan');
    const drafter = await user('konseptor');
    const cert = await db.selectFrom('certificates').select('id').where('user_id', '=', signer.id).where('status', '=', 'active').executeTakeFirstOrThrow();
    const series = await db.selectFrom('number_series').select('id').where('unit_id', '=', signer.unitId!).where('scope', '=', 'outgoing').where('kind_code', 'is', null).executeTakeFirstOrThrow();
    const seq = Number((await db.selectFrom('issued_numbers').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n) + 1;
    const number = `000.1.5/${seq}/DKIS/2026`;
    const verificationId = crypto.randomBytes(16).toString('base64url');
    await db.transaction().execute(async (trx) => {
      const letter = await trx.insertInto('letters').values({
        kind_code: 'SD', unit_id: drafter.unitId!, drafter_id: drafter.id, signer_id: signer.id, signer_position_id: signer.positionId!,
        subject: 'Undangan Rapat Koordinasi SPBE', urgency: 'biasa', security_class: securityClass, classification_code: '000.1.5',
        state: 'signed', version_sha256: '0'.repeat(64), number, signed_at: new Date(),
      }).returning('id').executeTakeFirstOrThrow();
      const issued = await trx.insertInto('issued_numbers').values({ series_id: series.id, year: 2026, seq, number, letter_id: letter.id, issued_by: signer.id }).returning('id').executeTakeFirstOrThrow();
      const stored = await env.ctx.store.put(trx, pdf, 'application/pdf', signer.id);
      await trx.insertInto('letter_signatures').values({
        letter_id: letter.id, certificate_id: cert.id, signer_id: signer.id, pdf_sha256: stored.sha256, issued_number_id: issued.id,
        signed_at: new Date(), on_behalf: null, verification_id: verificationId,
      }).execute();
    });
    return { verificationId, number };
  }

  before(async () => {
    env = await startTestEnv();
    demo = (await unlockSigningIdentity(env.ctx.db, (await user('penandatangan')).id, DEMO_PASSWORD)).identity;
    signed = await signPdf(await letterPdf('SURAT DINAS - Nomor: 000.1.5/1/DKIS/2026'), demo, { reason: 'Uji verifikasi', location: 'Kota Sukamaju' });
  });
  after(() => env?.close());

  it('a file signed by the demo signer: valid over the API (no sign-in), not registered', async () => {
    const res = await verifyApi(signed);
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.include({ valid: true, registered: null });
    expect(res.body.reasons).to.deep.equal([]);
    expect(res.body.sha256).to.equal(crypto.createHash('sha256').update(signed).digest('hex'));
    expect(res.body.signatures).to.have.length(1);
    expect(res.body.signatures[0]).to.include({ signer: 'Dr. Bambang Wijaya, S.Sos., M.Si.', nip: '197002141995031005', coversWholeDocument: true });
  });

  it('the page says VALID with each check in words; ?lang=en in English', async () => {
    const page = await verifyPage(signed);
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('data-verdict="valid"').and.contain('>VALID<');
    expect(page.text).to.contain('Tanda tangan elektronik sah secara kriptografis').and.contain('Tanda tangan mencakup seluruh berkas');
    expect(page.text).to.contain('Tidak terdaftar di sistem ini');
    expect(page.text).to.contain('Dr. Bambang Wijaya, S.Sos., M.Si.');
    const en = await verifyPage(signed, 'en');
    expect(en.text).to.contain('The electronic signature is cryptographically valid').and.contain('>VALID<');
  });

  it('one byte changed: invalid with digest_mismatch, on the page as TIDAK VALID and why', async () => {
    const tampered = Buffer.from(signed);
    const at = tampered.indexOf('595.28') + 4; // the page width 595.28 -> 595.38, inside the signed range
    expect(at).to.be.greaterThan(4);
    tampered[at] = '3'.charCodeAt(0);
    const res = await verifyApi(tampered);
    expect(res.body.valid).to.equal(false);
    expect(res.body.reasons).to.deep.include({ code: 'digest_mismatch', message: 'Isi dokumen telah diubah setelah ditandatangani.' });
    const page = await verifyPage(tampered);
    expect(page.text).to.contain('data-verdict="invalid"').and.contain('TIDAK VALID').and.contain('Isi dokumen telah diubah setelah ditandatangani.');
  });

  it('an incremental update appended after signing: content_after_signature', async () => {
    const res = await verifyApi(withIncrementalUpdate(signed));
    expect(res.body.valid).to.equal(false);
    expect(res.body.reasons.map((r: { code: string }) => r.code)).to.deep.equal(['content_after_signature']);
  });

  it('signed by a CA that is not a trust anchor: untrusted_chain', async () => {
    const ca = await createCa({ commonName: 'CA Tidak Dikenal', organization: 'Entah', validYears: 1 });
    const kp = await generateKeyPair();
    const certificate = issueSigningCertificate(ca, { name: 'Orang Lain', nip: '199001012020011001', organization: 'Entah', validDays: 30, publicKeyPem: kp.publicKeyPem, crlUrl: 'http://entah.example/crl' });
    const stranger = await signPdf(await letterPdf('Surat palsu'), { privateKey: crypto.createPrivateKey(kp.privateKeyPem), certificate, chain: [ca.certPem] });
    const res = await verifyApi(stranger);
    expect(res.body.valid).to.equal(false);
    expect(res.body.reasons).to.deep.equal([{ code: 'untrusted_chain', message: 'Sertifikat penanda tangan tidak diterbitkan oleh CA yang dipercaya.' }]);
  });

  it('signed with a certificate revoked before signing: certificate_revoked', async () => {
    const admin = await user('admin');
    const holder = await user('pemeriksa2');
    const { id } = await issueCertificate(env.ctx, admin, { username: 'pemeriksa2' });
    await activateCertificate(env.ctx, holder, id, { passphrase: 'frasa sandi pemeriksa', passphrase_confirm: 'frasa sandi pemeriksa' });
    const { identity } = await unlockSigningIdentity(env.ctx.db, holder.id, 'frasa sandi pemeriksa');
    const beforeRevocation = await signPdf(await letterPdf('Nota Dinas sebelum pencabutan'), identity);
    await revokeCertificate(env.ctx, admin, id, { reason: 'keyCompromise' });
    const afterRevocation = await signPdf(await letterPdf('Nota Dinas setelah pencabutan'), identity);
    const res = await verifyApi(afterRevocation);
    expect(res.body.valid).to.equal(false);
    expect(res.body.reasons.map((r: { code: string }) => r.code)).to.deep.equal(['certificate_revoked']);
    // Key compromise: a claimed earlier time is not believed without our registry's record of the signing.
    expect((await verifyApi(beforeRevocation)).body.reasons.map((r: { code: string }) => r.code)).to.deep.equal(['certificate_revoked']);
  });

  it('a file that is not a PDF: 400 with a clear message (API and page)', async () => {
    const res = await verifyApi(Buffer.from('MZ\x90\x00 bukan pdf'), 'surat.pdf');
    expect(res.status).to.equal(400);
    expect(res.body.error.message).to.equal('Berkas ini bukan PDF. Unggah dokumen PDF yang ditandatangani.');
    const page = await verifyPage(Buffer.from('GIF89a'));
    expect(page.status).to.equal(400);
    expect(page.text).to.contain('Berkas ini bukan PDF.');
    const none = await env.agent().post('/api/v1/verify').field('x', 'y');
    expect(none.status).to.equal(400);
  });

  describe('/v/:id (the QR target) and the registry', () => {
    let open: { verificationId: string; number: string };
    let secret: { verificationId: string; number: string };
    let openPdf: Buffer;

    before(async () => {
      openPdf = await signPdf(await letterPdf('Surat Dinas terdaftar'), demo);
      open = await registerSignedLetter('biasa', openPdf);
      secret = await registerSignedLetter('rahasia', await signPdf(await letterPdf('Surat rahasia terdaftar'), demo));
    });

    it('shows number, date, kind, signer, position, signing time, SHA-256 and the verdict, without signing in', async () => {
      const res = await env.agent().get(`/v/${open.verificationId}`);
      expect(res.status).to.equal(200);
      expect(res.headers['set-cookie'] ?? []).to.deep.equal([]); // no session for a QR scan
      expect(res.text).to.contain('data-verdict="valid"');
      expect(res.text).to.contain(open.number).and.contain('Surat Dinas').and.contain('Dr. Bambang Wijaya, S.Sos., M.Si.');
      expect(res.text).to.contain('Kepala Dinas Komunikasi, Informatika dan Statistik');
      expect(res.text).to.contain(crypto.createHash('sha256').update(openPdf).digest('hex'));
      expect(res.text).to.contain('name="viewport"');
    });

    it('for a Rahasia letter shows the verdict only', async () => {
      const res = await env.agent().get(`/v/${secret.verificationId}`);
      expect(res.status).to.equal(200);
      expect(res.text).to.contain('data-verdict="valid"').and.contain('hanya hasil verifikasi yang ditampilkan');
      expect(res.text).not.to.contain(secret.number);
      expect(res.text).not.to.contain('Dr. Bambang Wijaya');
    });

    it('an unknown id is a 404 page', async () => {
      const res = await env.agent().get(`/v/${crypto.randomBytes(16).toString('base64url')}`);
      expect(res.status).to.equal(404);
      expect(res.text).to.contain('tidak terdaftar');
      expect((await env.agent().get('/v/1')).status).to.equal(404);
    });

    it('an uploaded copy of a registered letter names it', async () => {
      const res = await verifyApi(openPdf);
      expect(res.body.valid).to.equal(true);
      expect(res.body.registered).to.include({ number: open.number, signer: 'Dr. Bambang Wijaya, S.Sos., M.Si.', kind: 'Surat Dinas', verificationUrl: `/v/${open.verificationId}` });
      const page = await verifyPage(openPdf);
      expect(page.text).to.contain(open.number).and.contain('Naskah dinas terdaftar');
    });

    it('a registered letter stays valid after its certificate is revoked later: our record dates the signing', async () => {
      const cert = await env.ctx.db.selectFrom('certificates').select('id').where('user_id', '=', (await user('penandatangan')).id).where('status', '=', 'active').executeTakeFirstOrThrow();
      await revokeCertificate(env.ctx, await user('admin'), String(cert.id), { reason: 'keyCompromise' });
      const registered = await env.agent().get(`/v/${open.verificationId}`);
      expect(registered.text).to.contain('data-verdict="valid"');
      const unregistered = await verifyApi(signed);
      expect(unregistered.body.reasons.map((r: { code: string }) => r.code)).to.deep.equal(['certificate_revoked']);
    });
  });
});
