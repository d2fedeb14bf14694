// The sign step end to end: an approved letter is numbered, rendered, signed
// (PAdES), stored and registered in one transaction; independent tools check the
// downloaded PDF; refusals change nothing; bulk signing; 200 concurrent signings.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import supertest from 'supertest';
import type { Response as AgentResponse } from 'superagent';
import { Secret, TOTP } from 'otpauth';
import { startTestEnv, snapshotCounts, DEMO_PASSWORD, type TestEnv, type LoggedInAgent, bearerClient } from '../support/harness.js';
import { requireTools, nssTrustDb, type NssTrust } from '../support/nss.js';
import { signatureParts } from '../support/pdf-signature.js';
import { loadCurrentUser } from '../../server/platform/auth/current-user.js';
import { createDelegation } from '../../server/modules/org/service.js';
import { jakartaDate } from '../../server/modules/org/hierarchy.js';
import { seedDemoCertificate } from '../../server/modules/signing/service.js';

const NUMBER = /^000\.1\.5\/(\d+)\/DKIS\/20\d\d$/;

/** supertest: collect a binary body as a Buffer. */
function binary(res: AgentResponse, cb: (err: Error | null, body: Buffer) => void) {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => cb(null, Buffer.concat(chunks)));
}

describe('signing letters: number, PAdES, storage and registry in one step', function () {
  this.timeout(180_000);
  let env: TestEnv;
  let dir: string;
  let nss: NssTrust;
  let caFile: string;
  const tokens: Record<string, string> = {};
  const pages: Record<string, LoggedInAgent> = {};
  const as = (who: string) => bearerClient(env.app, tokens[who]);
  // A Surat Dinas of DKIS, to an agency and an outside addressee, copied to a reviewer.
  const recipients = { to: [{ unit: 'DISDIK' }, { external: { name: 'Kepala Dinas Kominfo Kabupaten Contoh', email: 'kominfo@contoh.go.id' } }], cc: [{ user: 'pemeriksa2' }] };
  const draft = { kind: 'SD', subject: 'Undangan Rapat Koordinasi SPBE', urgency: 'segera', securityClass: 'biasa', classificationCode: '000.1.5', signer: 'penandatangan', ...recipients, body: '<p>Dengan hormat, kami mengundang Bapak/Ibu untuk hadir pada rapat koordinasi SPBE.</p>' };

  /** A letter through the whole chain: drafted, submitted, paraf by both reviewers. */
  async function approvedLetter(subject = draft.subject): Promise<string> {
    const created = await as('konseptor').post('/api/v1/letters').send({ ...draft, subject });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const id = created.body.id as string;
    await as('konseptor').post(`/api/v1/letters/${id}/submit`).send({}).expect(200);
    await as('pemeriksa1').post(`/api/v1/letters/${id}/approve`).send({ version: 1 }).expect(200);
    const last = await as('pemeriksa2').post(`/api/v1/letters/${id}/approve`).send({ version: 1 });
    expect(last.body.state).to.equal('approved');
    return id;
  }

  /** `n` copies of an approved letter, made in SQL (200 approval chains over HTTP would dominate the test). */
  async function cloneApproved(sourceId: string, n: number): Promise<string[]> {
    const { pool } = env.ctx.dbHandle;
    const columns = async (table: string, except: string[]) =>
      (await pool.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, [table])).rows
        .map((r: { column_name: string }) => r.column_name)
        .filter((c: string) => !except.includes(c));
    const letterCols = (await columns('letters', ['id'])).join(', ');
    const ids: string[] = (await pool.query(`INSERT INTO letters (${letterCols}) SELECT ${letterCols} FROM letters, generate_series(1, $2) WHERE id = $1 RETURNING id`, [sourceId, n])).rows.map((r: { id: string }) => String(r.id));
    for (const table of ['letter_versions', 'letter_recipients']) {
      const cols = await columns(table, ['id', 'letter_id']);
      const list = cols.join(', ');
      await pool.query(`INSERT INTO ${table} (letter_id, ${list}) SELECT n.id, ${cols.map((c) => `t.${c}`).join(', ')} FROM ${table} t, unnest($2::bigint[]) AS n(id) WHERE t.letter_id = $1`, [sourceId, ids]);
    }
    return ids;
  }

  const counter = async () => Number((await env.ctx.dbHandle.pool.query(`SELECT coalesce(sum(value), 0)::int AS v FROM number_counters`)).rows[0].v);
  const write = (name: string, bytes: Buffer) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  };
  const seqOf = (number: string) => Number(NUMBER.exec(number)![1]);

  before(async function () {
    requireTools(this, 'pdfsig', 'qpdf', 'openssl', 'certutil', 'pdftotext');
    env = await startTestEnv();
    for (const u of ['konseptor', 'pemeriksa1', 'pemeriksa2', 'penandatangan', 'staf2']) tokens[u] = await env.tokenFor(u);
    for (const u of ['konseptor', 'penandatangan']) pages[u] = await env.loginAs(u);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-sign-'));
    const anchors = (await env.ctx.db.selectFrom('trust_anchors').select('cert_pem').where('active', '=', true).execute()).map((a) => a.cert_pem);
    expect(anchors, 'the internal CA is a trust anchor').to.have.length.greaterThan(0);
    caFile = write('ca.pem', Buffer.from(anchors.join('')));
    nss = nssTrustDb(anchors);
  });
  after(async () => {
    nss?.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await env?.close();
  });

  describe('one letter over the API', () => {
    let id: string;
    let number: string;
    let pdf: Buffer;

    it('signs an approved letter: state signed, a number in the series format', async () => {
      id = await approvedLetter();
      const res = await as('penandatangan').post(`/api/v1/letters/${id}/sign`).send({ passphrase: DEMO_PASSWORD });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      // Signed, then at once dispatched to its recipients (modules/dispatch).
      expect(res.body.state).to.equal('dispatched');
      expect(res.body.number).to.match(NUMBER);
      expect(res.body.actions).to.deep.equal([]);
      expect(res.body.signature.verificationUrl).to.match(/\/v\/[A-Za-z0-9_-]{22}$/);
      number = res.body.number;
      const issued = await env.ctx.db.selectFrom('issued_numbers').select(['number', 'letter_id']).where('letter_id', '=', id).execute();
      expect(issued.map((n) => n.number)).to.deep.equal([number]);
    });

    it('gives a PDF that pdfsig calls valid for the whole document, with the number in its text', async () => {
      const res = await as('konseptor').get(`/api/v1/letters/${id}/pdf`).buffer(true).parse(binary);
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.equal('application/pdf');
      expect(res.headers['content-disposition']).to.match(/^attachment; filename="?naskah-000\.1\.5_\d+_DKIS_20\d\d\.pdf"?$/);
      pdf = res.body as Buffer;
      const file = write('signed.pdf', pdf);
      const report = nss.pdfsig(file);
      expect(report).to.contain('Signature is Valid.');
      expect(report).to.contain('Total document signed');
      expect(report).to.contain('ETSI.CAdES.detached');
      expect(report).to.contain('Dr. Bambang Wijaya');
      const text = spawnSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
      expect(text).to.contain(number);
      expect(text).to.contain('ditandatangani secara elektronik');
      expect(text).not.to.contain('KONSEP');
    });

    it('has a CMS that openssl cms -verify accepts over the ByteRange bytes, and passes qpdf --check', () => {
      const { cms, signed } = signatureParts(pdf);
      const r = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', write('sig.der', cms), '-content', write('signed-bytes.bin', signed), '-CAfile', caFile, '-purpose', 'any', '-out', '/dev/null']);
      expect(r.stderr.toString()).to.contain('Verification successful');
      expect(r.status).to.equal(0);
      const q = spawnSync('qpdf', ['--check', path.join(dir, 'signed.pdf')], { encoding: 'utf8' });
      expect(q.stdout).to.contain('No syntax or stream encoding errors found');
      expect(q.status).to.equal(0);
    });

    it('records the PDF\'s SHA-256 in the audit entry and the registry', async () => {
      const sha256 = crypto.createHash('sha256').update(pdf).digest('hex');
      const entry = await env.ctx.db.selectFrom('audit_log').select(['actor_name', 'doc_sha256', 'details']).where('action', '=', 'letter.signed').where('object_id', '=', id).executeTakeFirstOrThrow();
      expect(entry.doc_sha256).to.equal(sha256);
      const letter = await as('penandatangan').get(`/api/v1/letters/${id}`);
      expect(entry.details).to.include({ number, version: 1, versionSha256: letter.body.versionSha256 });
      expect((entry.details as { certificateSerial: string }).certificateSerial).to.match(/^[0-9a-f]+$/);
      const sig = await env.ctx.db.selectFrom('letter_signatures').selectAll().where('letter_id', '=', id).executeTakeFirstOrThrow();
      expect(sig.pdf_sha256).to.equal(sha256);
      const notified = await env.ctx.db.selectFrom('notifications as n').innerJoin('users as u', 'u.id', 'n.user_id').select('u.username').where('n.letter_id', '=', id).where('n.kind', '=', 'signed').execute();
      expect(notified.map((n) => n.username)).to.deep.equal(['konseptor']);
    });

    it('is no longer valid for pdfsig with one byte changed', () => {
      const tampered = Buffer.from(pdf);
      const [a, b] = signatureParts(pdf).byteRange;
      const at = tampered.indexOf('/MediaBox', a) + 2; // inside the first signed range
      expect(at).to.be.within(a + 2, a + b);
      tampered[at] ^= 0x20; // /MediaBox -> /MEdiaBox: still parses, no longer the signed bytes
      const report = nss.pdfsig(write('tampered.pdf', tampered));
      expect(report).not.to.contain('Signature is Valid.');
    });

    it('refuses to sign it twice: 409, no second number', async () => {
      const before = await snapshotCounts(env.ctx, ['issued_numbers', 'letter_signatures']);
      const res = await as('penandatangan').post(`/api/v1/letters/${id}/sign`).send({ passphrase: DEMO_PASSWORD });
      expect(res.status).to.equal(409);
      expect(res.body.error.message).to.equal(`Naskah ini sudah ditandatangani dengan nomor ${number}.`);
      expect(await snapshotCounts(env.ctx, ['issued_numbers', 'letter_signatures'])).to.deep.equal(before);
    });

    it('shows number, signing time, signer, SHA-256, download and verification link on the letter page', async () => {
      const page = await pages.konseptor.agent.get(`/surat/${id}`);
      expect(page.status).to.equal(200);
      const sha256 = crypto.createHash('sha256').update(pdf).digest('hex');
      expect(page.text).to.contain(number).and.contain(sha256).and.contain('Dr. Bambang Wijaya');
      expect(page.text).to.contain(`href="/surat/${id}/pdf"`);
      expect(page.text).to.match(/href="http:\/\/localhost:\d+\/v\/[A-Za-z0-9_-]{22}"/);
      expect(page.text).not.to.contain(`/surat/${id}/tandatangan`);
      const download = await pages.konseptor.agent.get(`/surat/${id}/pdf`).buffer(true).parse(binary);
      expect(download.status).to.equal(200);
      expect((download.body as Buffer).equals(pdf)).to.equal(true);
    });

    it('hides the PDF from someone who may not see the letter', async () => {
      expect((await as('staf2').get(`/api/v1/letters/${id}/pdf`)).status).to.equal(404);
    });
  });

  describe('refusals change nothing', () => {
    let id: string;
    const tables = ['issued_numbers', 'letter_signatures', 'objects', 'notifications'];
    before(async () => {
      id = await approvedLetter('Nota tentang penolakan');
    });

    it('wrong passphrase: 400 in words, letter still approved, no number, the refusal audited', async () => {
      const before = await snapshotCounts(env.ctx, tables);
      const counterBefore = await counter();
      const res = await as('penandatangan').post(`/api/v1/letters/${id}/sign`).send({ passphrase: 'bukan-frasa-sandinya' });
      expect(res.status).to.equal(400);
      expect(res.body.error.message).to.equal('Frasa sandi salah.');
      const letter = await as('penandatangan').get(`/api/v1/letters/${id}`);
      expect(letter.body).to.include({ state: 'approved', number: null });
      expect(letter.body.actions).to.include('sign');
      expect(await snapshotCounts(env.ctx, tables)).to.deep.equal(before);
      expect(await counter()).to.equal(counterBefore);
      const refusal = await env.ctx.db.selectFrom('audit_log').select(['actor_name', 'details']).where('action', '=', 'signing.unlock_refused').orderBy('seq', 'desc').executeTakeFirstOrThrow();
      expect(refusal.actor_name).to.equal('penandatangan');
      expect(refusal.details).to.deep.include({ during: 'sign', reason: 'wrong_passphrase', letters: [id] });
      const english = await as('penandatangan').post(`/api/v1/letters/${id}/sign?lang=en`).send({ passphrase: 'x' });
      expect(english.body.error.message).to.equal('Wrong passphrase.');
    });

    it('someone who may not see the letter gets 404, its drafter and a reviewer 403; nothing changes', async () => {
      const before = await snapshotCounts(env.ctx, tables);
      const counterBefore = await counter();
      const stranger = await as('staf2').post(`/api/v1/letters/${id}/sign`).send({ passphrase: DEMO_PASSWORD });
      expect(stranger.status).to.equal(404);
      for (const who of ['konseptor', 'pemeriksa1']) {
        const res = await as(who).post(`/api/v1/letters/${id}/sign`).send({ passphrase: DEMO_PASSWORD });
        expect(res.status, who).to.equal(403);
        expect(res.body.error.message).to.contain('Hanya penandatangan');
      }
      expect(await snapshotCounts(env.ctx, tables)).to.deep.equal(before);
      expect(await counter()).to.equal(counterBefore);
      expect((await as('penandatangan').get(`/api/v1/letters/${id}`)).body.state).to.equal('approved');
    });

    it('a letter still in review cannot be signed: 409', async () => {
      const created = await as('konseptor').post('/api/v1/letters').send(draft);
      await as('konseptor').post(`/api/v1/letters/${created.body.id}/submit`).send({}).expect(200);
      const res = await as('penandatangan').post(`/api/v1/letters/${created.body.id}/sign`).send({ passphrase: DEMO_PASSWORD });
      expect(res.status).to.equal(409);
    });
  });

  describe('in the browser', () => {
    it('reviews and signs one letter through the form; a wrong passphrase shows the form again', async () => {
      const id = await approvedLetter('Surat dari halaman tanda tangan');
      const agent = pages.penandatangan.agent;
      const letterPage = await agent.get(`/surat/${id}`);
      expect(letterPage.text).to.contain(`href="/surat/${id}/tandatangan"`);
      const form = await agent.get(`/surat/${id}/tandatangan`);
      expect(form.status).to.equal(200);
      expect(form.text).to.contain('name="passphrase"').and.contain(`/surat/${id}/tandatangan/pratinjau`).and.not.contain('name="otp"');
      // The final layout, as it will be signed: no KONSEP watermark; number and date still blank.
      const preview = await agent.get(`/surat/${id}/tandatangan/pratinjau`).buffer(true).parse((r, cb) => { const c: Buffer[] = []; r.on('data', (d: Buffer) => c.push(d)); r.on('end', () => cb(null, Buffer.concat(c))); });
      expect(preview.status).to.equal(200);
      expect(preview.headers['content-type']).to.equal('application/pdf');
      const previewFile = path.join(os.tmpdir(), `tnde-final-preview-${id}.pdf`);
      fs.writeFileSync(previewFile, preview.body as Buffer);
      const previewText = spawnSync('pdftotext', [previewFile, '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
      fs.rmSync(previewFile);
      expect(previewText).to.contain('Surat dari halaman tanda tangan').and.not.contain('KONSEP');
      // Only for the signer: the drafter may not see it.
      expect((await pages.konseptor.agent.get(`/surat/${id}/tandatangan/pratinjau`)).status).to.equal(403);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1];
      const wrong = await agent.post(`/surat/${id}/tandatangan`).type('form').send({ _csrf: csrf, passphrase: 'salah-sekali', version: '1' });
      expect(wrong.status).to.equal(400);
      expect(wrong.text).to.contain('Frasa sandi salah.').and.contain('name="passphrase"');
      const ok = await agent.post(`/surat/${id}/tandatangan`).type('form').send({ _csrf: csrf, passphrase: DEMO_PASSWORD, version: '1' });
      expect(ok.status, ok.text).to.equal(303);
      expect(ok.headers.location).to.equal(`/surat/${id}`);
      const after = await agent.get(`/surat/${id}`);
      expect(after.text).to.match(/Naskah ditandatangani dengan nomor 000\.1\.5\/\d+\/DKIS\/20\d\d\./);
      // The sign page of a signed letter sends the signer back with the reason.
      const again = await agent.get(`/surat/${id}/tandatangan`);
      expect(again.status).to.equal(303);
    });

    it('refuses the form to the drafter and hides it from a stranger', async () => {
      const id = await approvedLetter('Surat yang bukan untuk konseptor');
      const drafter = await pages.konseptor.agent.get(`/surat/${id}/tandatangan`);
      expect(drafter.status).to.equal(303);
      expect((await pages.konseptor.agent.get(`/surat/${id}`)).text).to.contain('Hanya penandatangan');
      const stranger = await env.loginAs('staf2');
      expect((await stranger.agent.get(`/surat/${id}/tandatangan`)).status).to.equal(404);
    });
  });

  describe('bulk signing', () => {
    it('over the API: 3 approved and 1 in review -> 3 signed with consecutive numbers, 1 refused with its reason', async () => {
      const approved = [await approvedLetter('Massal 1'), await approvedLetter('Massal 2'), await approvedLetter('Massal 3')];
      const inReview = (await as('konseptor').post('/api/v1/letters').send({ ...draft, subject: 'Massal belum disetujui' })).body.id as string;
      await as('konseptor').post(`/api/v1/letters/${inReview}/submit`).send({}).expect(200);
      const res = await as('penandatangan').post('/api/v1/letters/bulk-sign').send({ ids: [...approved, inReview], passphrase: DEMO_PASSWORD });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ signed: 3, failed: 1 });
      const byId = new Map(res.body.results.map((r: { id: string }) => [r.id, r]));
      const seqs = approved.map((id) => seqOf((byId.get(id) as { number: string }).number));
      expect(seqs).to.deep.equal([seqs[0], seqs[0] + 1, seqs[0] + 2]);
      expect(byId.get(inReview)).to.deep.include({ ok: false, error: { code: 'conflict', message: 'Tindakan ini tidak dapat dilakukan pada naskah dengan status saat ini.' } });
      expect((await as('konseptor').get(`/api/v1/letters/${inReview}`)).body).to.include({ state: 'in_review', number: null });
    });

    it('over the API: a wrong passphrase refuses the whole batch; more than 100 letters are refused', async () => {
      const id = await approvedLetter('Massal frasa salah');
      const before = await snapshotCounts(env.ctx, ['issued_numbers', 'letter_signatures']);
      const wrong = await as('penandatangan').post('/api/v1/letters/bulk-sign').send({ ids: [id], passphrase: 'salah' });
      expect(wrong.status).to.equal(400);
      expect(wrong.body.error.message).to.equal('Frasa sandi salah.');
      const many = await as('penandatangan').post('/api/v1/letters/bulk-sign').send({ ids: Array.from({ length: 101 }, (_, i) => String(i + 1)), passphrase: DEMO_PASSWORD });
      expect(many.status).to.equal(400);
      expect(many.body.error.message).to.equal('Paling banyak 100 naskah sekali tanda tangan; Anda memilih 101.');
      expect(await snapshotCounts(env.ctx, ['issued_numbers', 'letter_signatures'])).to.deep.equal(before);
      expect((await as('penandatangan').get(`/api/v1/letters/${id}`)).body.state).to.equal('approved');
    });

    it('on the page: lists what waits for a signature; without JS the results page, with JS one streamed line per letter', async () => {
      const agent = pages.penandatangan.agent;
      const a = await approvedLetter('Halaman massal A');
      const b = await approvedLetter('Halaman massal B');
      const list = await agent.get('/surat/tandatangan');
      expect(list.status).to.equal(200);
      expect(list.text).to.contain(`name="ids" value="${a}"`).and.contain(`name="ids" value="${b}"`).and.contain('/static/js/sign.js');
      expect((await agent.get('/surat?box=action')).text).to.contain('href="/surat/tandatangan"');
      const csrf = /name="_csrf" value="([^"]+)"/.exec(list.text)![1];

      const plain = await agent.post('/surat/tandatangan').type('form').send(`_csrf=${encodeURIComponent(csrf)}&ids=${a}&passphrase=${encodeURIComponent(DEMO_PASSWORD)}`);
      expect(plain.status).to.equal(200);
      expect(plain.text).to.contain('1 naskah ditandatangani, 0 gagal.').and.contain('Halaman massal A').and.match(/Ditandatangani: 000\.1\.5\/\d+\/DKIS\/20\d\d/);

      const streamed = await agent
        .post('/surat/tandatangan')
        .set('Accept', 'application/x-ndjson')
        .type('form')
        .send(`_csrf=${encodeURIComponent(csrf)}&ids=${a}&ids=${b}&passphrase=${encodeURIComponent(DEMO_PASSWORD)}`);
      expect(streamed.status).to.equal(200);
      expect(streamed.headers['content-type']).to.match(/^application\/x-ndjson/);
      const lines = streamed.text.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines).to.have.length(2);
      expect(lines[0]).to.deep.include({ id: a, ok: false });
      expect(lines[0].error.message).to.match(/sudah ditandatangani/);
      expect(lines[1]).to.include({ id: b, ok: true });
      expect(lines[1].number).to.match(NUMBER);

      const wrong = await agent.post('/surat/tandatangan').set('Accept', 'application/x-ndjson').type('form').send(`_csrf=${encodeURIComponent(csrf)}&ids=${a}&passphrase=salah`);
      expect(wrong.status).to.equal(400);
      expect(wrong.body.error).to.include({ message: 'Frasa sandi salah.', field: 'passphrase' });
      const none = await agent.post('/surat/tandatangan').type('form').send({ _csrf: csrf, passphrase: DEMO_PASSWORD });
      expect(none.status).to.equal(400);
      expect(none.text).to.contain('Pilih paling sedikit satu naskah.');
    });
  });

  describe('a Plh. of the signer\'s position', () => {
    it('signs in the signer\'s absence: "Plh." in the signature block, the registry and the letter page', async () => {
      const id = await approvedLetter('Surat ditandatangani Plh.');
      const { db } = env.ctx;
      const ids = Object.fromEntries((await db.selectFrom('users').select(['id', 'username']).where('username', 'in', ['admin', 'pemeriksa2']).execute()).map((u) => [u.username, String(u.id)]));
      const kadis = String((await db.selectFrom('positions').select('id').where('code', '=', 'KADIS-DKIS').executeTakeFirstOrThrow()).id);
      const admin = (await loadCurrentUser(db, ids.admin, 'session', null))!;
      const today = jakartaDate(new Date());
      await createDelegation(env.ctx, admin, { kind: 'plh', principalPositionId: kadis, delegateUserId: ids.pemeriksa2, legalBasis: 'Surat Perintah Kepala Dinas Nomor 800/12/DKIS', startsOn: today, endsOn: today });
      await seedDemoCertificate(env.ctx, 'pemeriksa2', 'frasa-sandi-plh-2026');
      const res = await as('pemeriksa2').post(`/api/v1/letters/${id}/sign`).send({ passphrase: 'frasa-sandi-plh-2026' });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.signature).to.include({ signer: 'Ir. Siti Nurhaliza, M.Si.', onBehalf: 'Plh. Kepala Dinas Komunikasi, Informatika dan Statistik' });
      const pdf = (await as('pemeriksa2').get(`/api/v1/letters/${id}/pdf`).buffer(true).parse(binary)).body as Buffer;
      const file = write('plh.pdf', pdf);
      expect(nss.pdfsig(file)).to.contain('Signature is Valid.').and.contain('Ir. Siti Nurhaliza');
      const text = spawnSync('pdftotext', [file, '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
      expect(text).to.contain('Plh. Kepala Dinas Komunikasi').and.contain('Ir. Siti Nurhaliza, M.Si.').and.not.contain('Bambang');
      expect((await pages.konseptor.agent.get(`/surat/${id}`)).text).to.contain('Plh. Kepala Dinas Komunikasi, Informatika dan Statistik');
    });
  });

  describe('concurrency', () => {
    it('200 concurrent signings over the API give 200 distinct consecutive numbers', async () => {
      const source = await approvedLetter('Surat serentak');
      const ids = [source, ...(await cloneApproved(source, 199))];
      const results = await Promise.all(ids.map((id) => as('penandatangan').post(`/api/v1/letters/${id}/sign`).send({ passphrase: DEMO_PASSWORD })));
      const failed = results.filter((r) => r.status !== 200);
      expect(failed.map((r) => JSON.stringify(r.body)), 'all signed').to.deep.equal([]);
      const seqs = results.map((r) => seqOf(r.body.number)).sort((x, y) => x - y);
      expect(new Set(seqs).size).to.equal(200);
      expect(seqs[199] - seqs[0]).to.equal(199);
      const registered = await env.ctx.db.selectFrom('letter_signatures').select((eb) => eb.fn.countAll<string>().as('n')).where('letter_id', 'in', ids).executeTakeFirstOrThrow();
      expect(Number(registered.n)).to.equal(200);
    });
  });

  describe('with two-step verification enrolled', () => {
    it('asks for the TOTP code and refuses a wrong one (audited) before touching the key', async () => {
      const id = await approvedLetter('Surat dengan TOTP');
      const secret = new Secret({ size: 20 });
      const signer = await env.ctx.db.selectFrom('users').select('id').where('username', '=', 'penandatangan').executeTakeFirstOrThrow();
      await env.ctx.db.updateTable('users').set({ totp_secret: env.ctx.secrets.seal(secret.base32), totp_enabled: true }).where('id', '=', signer.id).execute();
      const totp = new TOTP({ issuer: 'TNDE', label: 'penandatangan', algorithm: 'SHA1', digits: 6, period: 30, secret });
      try {
        const before = await snapshotCounts(env.ctx, ['issued_numbers', 'letter_signatures']);
        const missing = await as('penandatangan').post(`/api/v1/letters/${id}/sign`).send({ passphrase: DEMO_PASSWORD });
        expect(missing.status).to.equal(400);
        expect(missing.body.error.message).to.contain('kode verifikasi dua langkah');
        const wrongCode = String((Number(totp.generate()) + 500_000) % 1_000_000).padStart(6, '0');
        const wrong = await as('penandatangan').post(`/api/v1/letters/${id}/sign`).send({ passphrase: DEMO_PASSWORD, otp: wrongCode });
        expect(wrong.status).to.equal(400);
        expect(wrong.body.error.message).to.contain('salah atau kedaluwarsa');
        const refusal = await env.ctx.db.selectFrom('audit_log').select('details').where('action', '=', 'signing.unlock_refused').orderBy('seq', 'desc').executeTakeFirstOrThrow();
        expect(refusal.details).to.deep.include({ reason: 'otp_invalid', letters: [id] });
        expect(await snapshotCounts(env.ctx, ['issued_numbers', 'letter_signatures'])).to.deep.equal(before);
        const page = await (await env.loginAs('konseptor')).agent.get(`/surat/${id}`);
        expect(page.text).to.contain('Menunggu Tanda Tangan');
        const ok = await as('penandatangan').post(`/api/v1/letters/${id}/sign`).send({ passphrase: DEMO_PASSWORD, otp: totp.generate() });
        expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
        expect(ok.body.number).to.match(NUMBER);
      } finally {
        await env.ctx.db.updateTable('users').set({ totp_secret: null, totp_enabled: false }).where('id', '=', signer.id).execute();
      }
    });
  });
});
