// E-mail dispatch against a real SMTP server on loopback (smtp-server): a signed
// letter to an external addressee arrives with its signed PDF attached; with the
// server down the message stays queued and is retried with back-off (the sweep
// is driven with a clock instead of waiting minutes); a refused address fails
// with the server's reason; without SMTP_HOST nothing is attempted; and the
// background job (pg-boss on the test database) sends by itself.
import crypto from 'node:crypto';
import { expect } from 'chai';
import supertest from 'supertest';
import { SmtpSink, parseMime } from '../support/smtp.js';
import { startTestEnv, DEMO_PASSWORD, type TestEnv } from '../support/harness.js';
import { sendDueEmails, SMTP_NOT_CONFIGURED, retryDelayMs } from '../../server/modules/dispatch/email.js';

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const MAIL_FROM = '"TNDE Pemprov Sukamaju" <tnde@sukamaju.go.id>';

const TOKEN_USERS = ['konseptor', 'pemeriksa1', 'pemeriksa2', 'penandatangan'];

interface Setup {
  env: TestEnv;
  smtp: SmtpSink;
  tokens: Record<string, string>;
}

/** Hooks for a describe: an SMTP sink on loopback and a test env whose SMTP_* point at it. */
function smtpTestEnv(opts: { jobs?: boolean } = {}): Setup {
  const s = { smtp: new SmtpSink(), tokens: {} } as Setup;
  before(async () => {
    await s.smtp.start();
    s.env = await startTestEnv({ SMTP_HOST: '127.0.0.1', SMTP_PORT: String(s.smtp.port), MAIL_FROM, PUBLIC_URL: 'https://tnde.sukamaju.go.id' }, opts);
    for (const u of TOKEN_USERS) s.tokens[u] = await s.env.tokenFor(u);
  });
  after(async () => {
    await s.env?.close();
    await s.smtp.stop();
  });
  return s;
}

/** Signs a letter to one external e-mail addressee through the API; dispatch queues the e-mail. */
async function signedLetterTo({ env, tokens }: Setup, email: string, subject: string) {
  const as = (who: string) => ({ post: (u: string) => supertest(env.app).post(u).set('Authorization', `Bearer ${tokens[who]}`) });
  const created = await as('konseptor')
    .post('/api/v1/letters')
    .send({
      kind: 'SD', subject, urgency: 'biasa', securityClass: 'biasa', classificationCode: '000.1.5', signer: 'penandatangan',
      to: [{ unit: 'DISDIK' }, { external: { name: 'Kepala Dinas Kominfo Kabupaten Contoh', email } }], cc: [],
      body: '<p>Dengan hormat, kami sampaikan undangan rapat koordinasi.</p>',
    });
  expect(created.status, JSON.stringify(created.body)).to.equal(201);
  const id = String(created.body.id);
  await as('konseptor').post(`/api/v1/letters/${id}/submit`).send({}).expect(200);
  await as('pemeriksa1').post(`/api/v1/letters/${id}/approve`).send({ version: 1 }).expect(200);
  await as('pemeriksa2').post(`/api/v1/letters/${id}/approve`).send({ version: 1 }).expect(200);
  const signed = await as('penandatangan').post(`/api/v1/letters/${id}/sign`).send({ passphrase: DEMO_PASSWORD });
  expect(signed.status, JSON.stringify(signed.body)).to.equal(200);
  const sig = await env.ctx.db.selectFrom('letter_signatures').select(['pdf_sha256', 'verification_id']).where('letter_id', '=', id).executeTakeFirstOrThrow();
  const outbound = await env.ctx.db.selectFrom('outbound_messages').select(['id', 'status', 'address']).where('letter_id', '=', id).where('channel', '=', 'email').execute();
  expect(outbound, 'dispatch queued one e-mail').to.have.length(1);
  expect(outbound[0].status).to.equal('queued');
  expect(outbound[0].address).to.equal(email);
  return { letterId: id, outboundId: String(outbound[0].id), number: String(signed.body.number), pdfSha256: sig.pdf_sha256, verificationId: sig.verification_id };
}

describe('e-mail dispatch: the signed PDF to external addressees over SMTP', function () {
  this.timeout(120_000);
  const s = smtpTestEnv();
  const row = (id: string) => s.env.ctx.db.selectFrom('outbound_messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('sends a queued e-mail: the addressee receives "[nomor] hal" with the signed PDF attached, and the row says sent', async () => {
    const l = await signedLetterTo(s, 'kominfo@contoh.go.id', 'Undangan Rapat Koordinasi SPBE');
    const sweep = await sendDueEmails(s.env.ctx);
    expect(sweep).to.include({ sent: 1, retrying: 0, failed: 0 });

    const mails = s.smtp.to('kominfo@contoh.go.id');
    expect(mails).to.have.length(1);
    const mime = parseMime(mails[0].raw);
    expect(mime.header('Subject')).to.equal(`[${l.number}] Undangan Rapat Koordinasi SPBE`);
    expect(mime.header('From')).to.contain('tnde@sukamaju.go.id');
    expect(mime.header('To')).to.contain('kominfo@contoh.go.id');
    const pdfs = mime.parts.filter((p) => /Content-Type: application\/pdf/i.test(p.headers));
    expect(pdfs, 'one PDF attached').to.have.length(1);
    expect(sha256(pdfs[0].bytes), 'the attachment is the signed PDF, byte for byte').to.equal(l.pdfSha256);
    const text = mime.parts.find((p) => /Content-Type: text\/plain/i.test(p.headers))!.bytes.toString('utf8');
    expect(text).to.contain(`https://tnde.sukamaju.go.id/v/${l.verificationId}`);
    expect(text).to.contain(l.number);

    const r = await row(l.outboundId);
    expect(r.status).to.equal('sent');
    expect(r.attempts).to.equal(1);
    expect(r.last_error).to.equal(null);
    expect(r.sent_at).to.be.instanceOf(Date);
    expect(r.receipt).to.include({ messageId: mime.header('Message-ID') });

    const audit = await s.env.ctx.db.selectFrom('audit_log').select(['doc_sha256', 'details']).where('action', '=', 'letter.emailed').where('object_id', '=', l.letterId).execute();
    expect(audit).to.have.length(1);
    expect(audit[0].doc_sha256).to.equal(l.pdfSha256);
    expect(audit[0].details).to.include({ to: 'kominfo@contoh.go.id', outboundId: l.outboundId });

    expect(await sendDueEmails(s.env.ctx), 'a sent e-mail is not sent again').to.include({ sent: 0 });
    expect(s.smtp.to('kominfo@contoh.go.id')).to.have.length(1);
  });

  it('with the SMTP server down: stays queued with the reason and a later attempt, backs off, and is sent once when the server is back', async () => {
    const l = await signedLetterTo(s, 'sekretariat@kabupaten-lain.go.id', 'Permohonan Data Kepegawaian');
    const other = await signedLetterTo(s, 'tu@kecamatan.go.id', 'Laporan Bulanan');
    const address = 'sekretariat@kabupaten-lain.go.id';
    await s.smtp.stop();
    const t0 = new Date(Date.now() + 1000);

    expect(await sendDueEmails(s.env.ctx, t0)).to.include({ sent: 0, retrying: 2 });
    let r = await row(l.outboundId);
    expect(r.status).to.equal('queued');
    expect(r.attempts).to.equal(1);
    expect(r.last_error).to.match(/ECONNREFUSED/);
    expect(r.next_attempt_at.getTime()).to.equal(t0.getTime() + 60_000);
    expect(await row(other.outboundId), 'the other message waits with the same reason').to.include({ status: 'queued', attempts: 1, last_error: r.last_error });

    // Before its time nothing is attempted, even once the server is back.
    await s.smtp.start(s.smtp.port);
    expect(await sendDueEmails(s.env.ctx, new Date(t0.getTime() + 30_000))).to.include({ sent: 0, retrying: 0 });
    expect((await row(l.outboundId)).attempts).to.equal(1);
    expect(s.smtp.to(address)).to.have.length(0);

    // Down again at the second attempt: the wait doubles.
    await s.smtp.stop();
    const t1 = new Date(t0.getTime() + 61_000);
    expect(await sendDueEmails(s.env.ctx, t1)).to.include({ retrying: 2 });
    r = await row(l.outboundId);
    expect(r.attempts).to.equal(2);
    expect(r.next_attempt_at.getTime()).to.equal(t1.getTime() + 120_000);
    expect(retryDelayMs(3)).to.equal(240_000);

    await s.smtp.start(s.smtp.port);
    const t2 = new Date(t1.getTime() + 121_000);
    expect(await sendDueEmails(s.env.ctx, t2)).to.include({ sent: 2 });
    r = await row(l.outboundId);
    expect(r.status).to.equal('sent');
    expect(r.attempts).to.equal(3);
    expect(r.last_error).to.equal(null);
    expect(r.sent_at!.getTime()).to.equal(t2.getTime());
    const mails = s.smtp.to(address);
    expect(mails, 'nothing lost, nothing doubled').to.have.length(1);
    expect(s.smtp.to('tu@kecamatan.go.id')).to.have.length(1);
    const pdf = parseMime(mails[0].raw).parts.find((p) => /application\/pdf/i.test(p.headers))!;
    expect(sha256(pdf.bytes)).to.equal(l.pdfSha256);
  });

  it('an address the server refuses (550) fails with the server\'s reason, is audited, and is not retried', async () => {
    const l = await signedLetterTo(s, 'ditolak@contoh.go.id', 'Pemberitahuan Jadwal Audit');
    expect(await sendDueEmails(s.env.ctx)).to.include({ failed: 1, sent: 0 });
    const r = await row(l.outboundId);
    expect(r.status).to.equal('failed');
    expect(r.last_error).to.match(/^EENVELOPE: 550 .*Mailbox unavailable/);
    const audit = await s.env.ctx.db.selectFrom('audit_log').select('details').where('action', '=', 'letter.email_failed').where('object_id', '=', l.letterId).execute();
    expect(audit).to.have.length(1);
    expect(await sendDueEmails(s.env.ctx, new Date(Date.now() + 24 * 3600e3))).to.include({ sent: 0, failed: 0, retrying: 0 });
    expect((await row(l.outboundId)).attempts).to.equal(1);
  });

  it('without SMTP_HOST the e-mail waits: "SMTP belum dikonfigurasi", no attempt counted, sent once SMTP is configured', async () => {
    const l = await signedLetterTo(s, 'bappeda@contoh.go.id', 'Undangan Musrenbang');
    const unconfigured = { ...s.env.ctx, config: { ...s.env.ctx.config, SMTP_HOST: undefined } };
    expect(await sendDueEmails(unconfigured)).to.include({ waiting: 1, sent: 0 });
    let r = await row(l.outboundId);
    expect(r.status).to.equal('queued');
    expect(r.attempts).to.equal(0);
    expect(r.last_error).to.equal(SMTP_NOT_CONFIGURED);
    expect(s.smtp.to('bappeda@contoh.go.id')).to.have.length(0);

    expect(await sendDueEmails(s.env.ctx)).to.include({ sent: 1 });
    r = await row(l.outboundId);
    expect(r.status).to.equal('sent');
    expect(r.last_error).to.equal(null);
    expect(s.smtp.to('bappeda@contoh.go.id')).to.have.length(1);
  });
});

describe('e-mail dispatch as a background job (pg-boss)', function () {
  this.timeout(120_000);
  const s = smtpTestEnv({ jobs: true });


  it('sends a queued e-mail without anyone driving it, within seconds of signing', async () => {
    const l = await signedLetterTo(s, 'humas@contoh.go.id', 'Undangan Peresmian Gedung');
    const deadline = Date.now() + 30_000;
    let status = 'queued';
    while (status === 'queued' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      status = (await s.env.ctx.db.selectFrom('outbound_messages').select('status').where('id', '=', l.outboundId).executeTakeFirstOrThrow()).status;
    }
    expect(status).to.equal('sent');
    expect(s.smtp.to('humas@contoh.go.id')).to.have.length(1);
  });
});
