// Exchange between two installations (two apps, two databases, two installation
// keys) over loopback HTTP: a letter signed at A and addressed to the peer B
// arrives at B as an incoming letter whose signature verifies; A records the
// signed receipt; a second delivery registers nothing new; forged, stale,
// replayed or unknown requests are refused with nothing stored but an audit entry.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import supertest from 'supertest';
import { startTestEnv, snapshotCounts, DEMO_PASSWORD, type TestEnv } from '../support/harness.js';
import { deliverDueExchangeMessages } from '../../server/modules/exchange/service.js';
import { installationKey } from '../../server/modules/exchange/keys.js';
import { INBOUND_PATH, receiptValid, sha256Hex, signRequest, type LetterMetadata, type SignedReceipt } from '../../server/modules/exchange/protocol.js';
import { verificationOptions } from '../../server/modules/signing/service.js';
import { verifyPdf } from '../../server/modules/signing/verify.js';

interface Installation {
  id: string;
  env: TestEnv;
  server: http.Server;
  url: string;
  certsDir: string;
}

async function startInstallation(id: string): Promise<Installation> {
  const certsDir = fs.mkdtempSync(path.join(os.tmpdir(), `tnde-${id}-`));
  const env = await startTestEnv({ INSTALLATION_ID: id, CERTS_DIR: certsDir });
  const server = http.createServer(env.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { id, env, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, certsDir };
}

describe('exchange between two installations (peers)', function () {
  this.timeout(180_000);
  let a: Installation;
  let b: Installation;
  const TABLES = ['incoming_letters', 'exchange_inbound', 'exchange_nonces', 'objects', 'deliveries'];

  /** `at`'s administrator registers `other` through the page, with the key `other` publishes. */
  async function registerPeer(at: Installation, other: Installation) {
    const card = await (await fetch(`${other.url}/api/v1/exchange/key`)).json();
    const admin = await at.env.loginAs('admin');
    const res = await admin.agent
      .post('/admin/peers')
      .type('form')
      .send({ _csrf: await admin.csrf(), code: card.installationId, name: `Pemerintah ${other.id.toUpperCase()}`, url: other.url, public_key_pem: card.publicKeyPem });
    expect(res.status, res.text.slice(0, 500)).to.equal(303);
  }

  /** A letter drafted, approved and signed at `at` over its API, addressed as given. */
  async function signedLetter(at: Installation, to: object[], subject: string): Promise<string> {
    const token = async (u: string) => `Bearer ${await at.env.tokenFor(u)}`;
    const api = supertest(at.env.app);
    const created = await api.post('/api/v1/letters').set('Authorization', await token('konseptor')).send({
      kind: 'SD', subject, urgency: 'segera', securityClass: 'biasa', classificationCode: '000.1.5', signer: 'penandatangan', to, cc: [],
      body: '<p>Dengan hormat, bersama ini kami sampaikan undangan rapat koordinasi SPBE antarpemerintah daerah.</p>',
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const id = created.body.id as string;
    await api.post(`/api/v1/letters/${id}/submit`).set('Authorization', await token('konseptor')).send({}).expect(200);
    await api.post(`/api/v1/letters/${id}/approve`).set('Authorization', await token('pemeriksa1')).send({ version: 1 }).expect(200);
    await api.post(`/api/v1/letters/${id}/approve`).set('Authorization', await token('pemeriksa2')).send({ version: 1 }).expect(200);
    const signed = await api.post(`/api/v1/letters/${id}/sign`).set('Authorization', await token('penandatangan')).send({ passphrase: DEMO_PASSWORD });
    expect(signed.status, JSON.stringify(signed.body)).to.equal(200);
    return id;
  }

  /** A request as A's sender makes it, with one thing changed by `tweak`. */
  async function post(to: Installation, metadata: LetterMetadata, pdf: Buffer, tweak: { key?: crypto.KeyObject; peer?: string; now?: Date } = {}) {
    const form = new FormData();
    form.append('metadata', new Blob([JSON.stringify(metadata)], { type: 'application/json' }), 'metadata.json');
    form.append('pdf', new Blob([new Uint8Array(pdf)], { type: 'application/pdf' }), 'letter.pdf');
    const request = new Request(to.url + INBOUND_PATH, { method: 'POST', body: form });
    const body = Buffer.from(await request.arrayBuffer());
    const headers = signRequest(tweak.key ?? installationKey(a.env.ctx).privateKey, tweak.peer ?? a.id, { method: 'POST', path: INBOUND_PATH, body }, tweak.now);
    return send(to, { ...headers, 'Content-Type': request.headers.get('content-type')! }, body);
  }

  async function send(to: Installation, headers: Record<string, string>, body: Buffer) {
    const res = await fetch(to.url + INBOUND_PATH, { method: 'POST', headers, body: new Uint8Array(body) });
    return { status: res.status, body: await res.json(), sent: { headers, body } };
  }

  const refusals = async (inst: Installation) =>
    (await inst.env.ctx.db.selectFrom('audit_log').select(['details', 'actor_name']).where('action', '=', 'exchange.inbound_refused').orderBy('seq').execute()).map((r) => ({
      reason: (r.details as { reason: string }).reason,
      actor: r.actor_name,
    }));

  before(async () => {
    a = await startInstallation('prov-a');
    b = await startInstallation('prov-b');
    await registerPeer(b, a);
    await registerPeer(a, b);
  });
  after(async () => {
    for (const i of [a, b]) {
      if (!i) continue;
      i.server.close();
      await i.env.close();
      fs.rmSync(i.certsDir, { recursive: true, force: true });
    }
  });

  it('publishes its id and Ed25519 key; the private key is stored encrypted (PKCS#8) with mode 0600', async () => {
    const card = await (await fetch(`${a.url}/api/v1/exchange/key`)).json();
    expect(card.installationId).to.equal('prov-a');
    expect(crypto.createPublicKey(card.publicKeyPem).asymmetricKeyType).to.equal('ed25519');
    const file = path.join(a.certsDir, 'installation.key');
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
    expect(fs.readFileSync(file, 'utf8')).to.contain('BEGIN ENCRYPTED PRIVATE KEY');
    const page = await (await b.env.loginAs('admin')).agent.get('/admin/peers');
    expect(page.text).to.contain('prov-a').and.to.contain(card.fingerprint.slice(0, 16));
  });

  it('refuses the peers page to a non-administrator', async () => {
    const staf = await b.env.loginAs('konseptor');
    expect((await staf.agent.get('/admin/peers')).status).to.equal(403);
  });

  it('offers the same administration over the API: list, a refused bad key, register, deactivate; 403 for others', async () => {
    const admin = await b.env.tokenFor('admin');
    const api = (method: 'get' | 'post', url: string, token = admin) => supertest(b.env.app)[method](url).set('Authorization', `Bearer ${token}`);
    const listed = await api('get', '/api/v1/peers').expect(200);
    expect(listed.body.items.map((p: { code: string }) => p.code)).to.include('prov-a');
    const key = crypto.generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const bad = await api('post', '/api/v1/peers').send({ code: 'prov-d', name: 'Pemerintah PROV-D', url: 'http://127.0.0.1:9', publicKeyPem: 'bukan kunci' });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.details[0].field).to.equal('public_key_pem');
    const added = await api('post', '/api/v1/peers').send({ code: 'prov-d', name: 'Pemerintah PROV-D', url: 'http://127.0.0.1:9', publicKeyPem: key }).expect(201);
    await api('post', `/api/v1/peers/${added.body.id}/deactivate`).expect(204);
    await api('post', `/api/v1/peers/${added.body.id}/deactivate`).expect(409);
    const staf = await b.env.tokenFor('konseptor');
    await api('get', '/api/v1/peers', staf).expect(403);
    await api('post', '/api/v1/peers', staf).send({ code: 'prov-e', name: 'E', url: 'http://127.0.0.1:9', publicKeyPem: key }).expect(403);
    expect((await b.env.ctx.db.selectFrom('peers').select('code').where('code', '=', 'prov-e').execute()).length).to.equal(0);
  });

  describe('a letter signed at A, addressed to B', () => {
    let letterId: string;

    it('arrives at B as an incoming letter whose signature verifies, and A records it delivered with the receipt', async () => {
      letterId = await signedLetter(a, [{ peer: 'prov-b' }], 'Undangan Rapat Koordinasi SPBE Antardaerah');
      // Signing dispatched it: one 'exchange' message queued for the peer addressee.
      expect(await deliverDueExchangeMessages(a.env.ctx)).to.deep.equal({ delivered: 1, failed: 0 });

      const incoming = await b.env.ctx.db.selectFrom('incoming_letters').selectAll().where('source', '=', 'exchange').execute();
      expect(incoming).to.have.length(1);
      const sent = await a.env.ctx.db.selectFrom('letters as l').innerJoin('letter_signatures as s', 's.letter_id', 'l.id').select(['l.number', 's.pdf_sha256']).where('l.id', '=', letterId).executeTakeFirstOrThrow();
      expect(incoming[0]).to.include({ subject: 'Undangan Rapat Koordinasi SPBE Antardaerah', sender_number: sent.number, pdf_sha256: sent.pdf_sha256, external_ref: `prov-a/${letterId}`, urgency: 'segera' });
      const pdf = await b.env.ctx.store.get(incoming[0].pdf_sha256!);
      const verdict = await verifyPdf(pdf, await verificationOptions(b.env.ctx.db));
      expect(verdict.valid, verdict.reasons.join()).to.equal(true);

      const out = await a.env.ctx.db.selectFrom('outbound_messages').selectAll().where('letter_id', '=', letterId).executeTakeFirstOrThrow();
      expect(out).to.include({ channel: 'exchange', status: 'delivered' });
      const receipt = out.receipt as unknown as SignedReceipt;
      expect(receipt.receipt).to.include({ receiver: 'prov-b', sender: 'prov-a', letterId, incomingId: String(incoming[0].id), pdfSha256: sent.pdf_sha256 });
      expect(receiptValid(installationKey(b.env.ctx).publicKeyPem, receipt), 'signed by B').to.equal(true);
      const audits = async (i: Installation, action: string) => Number((await i.env.ctx.dbHandle.pool.query('SELECT count(*)::int AS n FROM audit_log WHERE action = $1', [action])).rows[0].n);
      expect(await audits(a, 'exchange.delivered')).to.equal(1);
      expect(await audits(b, 'exchange.received')).to.equal(1);
      // The sender's "Terkirim" view names the peer agency and says delivered.
      const sender = await a.env.loginAs('konseptor');
      const report = await sender.agent.get(`/surat/${letterId}/terkirim`).expect(200);
      expect(report.text).to.contain('Pemerintah PROV-B');
    });

    it('registers once when A sends it again (the answer was lost): the same receipt', async () => {
      const before = await snapshotCounts(b.env.ctx, ['incoming_letters', 'exchange_inbound', 'deliveries']);
      const first = (await a.env.ctx.db.selectFrom('outbound_messages').select('receipt').where('letter_id', '=', letterId).executeTakeFirstOrThrow()).receipt;
      await a.env.ctx.db.updateTable('outbound_messages').set({ status: 'queued', receipt: null, next_attempt_at: new Date() }).where('letter_id', '=', letterId).execute();
      expect(await deliverDueExchangeMessages(a.env.ctx)).to.deep.equal({ delivered: 1, failed: 0 });
      expect(await snapshotCounts(b.env.ctx, ['incoming_letters', 'exchange_inbound', 'deliveries'])).to.deep.equal(before);
      const again = (await a.env.ctx.db.selectFrom('outbound_messages').select('receipt').where('letter_id', '=', letterId).executeTakeFirstOrThrow()).receipt;
      expect(again).to.deep.equal(first);
    });
  });

  describe('addressing and delivery failures at the sender', () => {
    it('refuses a letter to a peer that is not registered', async () => {
      const res = await supertest(a.env.app)
        .post('/api/v1/letters')
        .set('Authorization', `Bearer ${await a.env.tokenFor('konseptor')}`)
        .send({ kind: 'SD', subject: 'Uji', urgency: 'biasa', securityClass: 'biasa', classificationCode: '000.1.5', signer: 'penandatangan', to: [{ peer: 'prov-x' }] });
      expect(res.status).to.equal(400);
      expect(res.body.error.message).to.contain('prov-x');
    });

    it('keeps the message queued with the reason and a later attempt when the peer is down', async () => {
      const down = await startInstallation('prov-c');
      const card = await (await fetch(`${down.url}/api/v1/exchange/key`)).json();
      down.server.close();
      await down.env.close();
      fs.rmSync(down.certsDir, { recursive: true, force: true });
      const admin = await a.env.loginAs('admin');
      await admin.agent.post('/admin/peers').type('form').send({ _csrf: await admin.csrf(), code: 'prov-c', name: 'Pemerintah PROV-C', url: down.url, public_key_pem: card.publicKeyPem }).expect(303);
      const id = await signedLetter(a, [{ peer: 'prov-c' }], 'Pemberitahuan Jadwal Pemeliharaan Jaringan');
      const start = Date.now();
      expect(await deliverDueExchangeMessages(a.env.ctx)).to.deep.equal({ delivered: 0, failed: 1 });
      const row = await a.env.ctx.db.selectFrom('outbound_messages').selectAll().where('letter_id', '=', id).executeTakeFirstOrThrow();
      expect(row).to.include({ channel: 'exchange', status: 'queued', attempts: 1 });
      expect(row.last_error).to.be.a('string').and.not.equal('');
      expect(new Date(row.next_attempt_at).getTime()).to.be.greaterThan(start + 50_000);
      expect(await deliverDueExchangeMessages(a.env.ctx), 'not due again yet').to.deep.equal({ delivered: 0, failed: 0 });
    });
  });

  describe('requests B refuses, storing nothing but an audit entry', () => {
    let pdf: Buffer;
    let metadata: LetterMetadata;

    before(async () => {
      const id = await signedLetter(a, [{ unit: 'DKIS' }], 'Laporan Pelaksanaan SPBE Triwulan III');
      const sig = await a.env.ctx.db.selectFrom('letter_signatures as s').innerJoin('letters as l', 'l.id', 's.letter_id').select(['s.pdf_sha256', 'l.number']).where('s.letter_id', '=', id).executeTakeFirstOrThrow();
      pdf = await a.env.ctx.store.get(sig.pdf_sha256);
      metadata = {
        letterId: `direct-${id}`, number: sig.number!, date: '2026-11-29', subject: 'Laporan Pelaksanaan SPBE Triwulan III', urgency: 'biasa', securityClass: 'biasa',
        classificationCode: '000.1.5', senderAgency: 'Pemerintah Provinsi A', recipient: { name: 'Dinas Kominfo dan Statistik', unit: 'DKIS' }, verificationUrl: null as unknown as string, pdfSha256: sha256Hex(pdf),
      };
    });

    async function expectRefused(call: () => Promise<{ status: number; body: { error?: { code: string } } }>, status: number, reason: string) {
      const before = await snapshotCounts(b.env.ctx, TABLES);
      const audited = (await refusals(b)).length;
      const res = await call();
      expect(res.status, JSON.stringify(res.body)).to.equal(status);
      expect(await snapshotCounts(b.env.ctx, TABLES), 'nothing stored').to.deep.equal(before);
      const after = await refusals(b);
      expect(after).to.have.length(audited + 1);
      expect(after.at(-1)!.reason).to.equal(reason);
      return res;
    }

    it('an unknown peer: 401', async () => {
      await expectRefused(() => post(b, metadata, pdf, { peer: 'prov-x' }), 401, 'unknown_peer');
    });

    it('a signature by another key: 401', async () => {
      await expectRefused(() => post(b, metadata, pdf, { key: crypto.generateKeyPairSync('ed25519').privateKey }), 401, 'bad_signature');
    });

    it('a timestamp ten minutes old: 401', async () => {
      await expectRefused(() => post(b, metadata, pdf, { now: new Date(Date.now() - 10 * 60_000) }), 401, 'stale_timestamp');
    });

    it('a PDF whose signed bytes were changed: 422 with the reasons', async () => {
      const tampered = Buffer.from(pdf);
      const at = tampered.indexOf('/Type /Page') + 1;
      tampered[at] = tampered[at] === 0x54 ? 0x74 : 0x54;
      const res = await expectRefused(() => post(b, { ...metadata, pdfSha256: sha256Hex(tampered) }, tampered), 422, 'pdf_signature');
      expect((res.body as unknown as { error: { details: { reasons: string[] } } }).error.details.reasons).to.include('digest_mismatch');
    });

    it('accepts the letter once, routed to the unit the metadata names, with an agenda number', async () => {
      const res = await post(b, metadata, pdf);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.receipt.agendaNumber).to.match(/\/AG\/DKIS\//);
      const row = await b.env.ctx.db.selectFrom('incoming_letters as i').innerJoin('units as u', 'u.id', 'i.unit_id').select(['u.code']).where('i.id', '=', res.body.receipt.incomingId).executeTakeFirstOrThrow();
      expect(row.code).to.equal('DKIS');
      // The same request again, word for word: a replay.
      await expectRefused(() => send(b, res.sent.headers, res.sent.body), 409, 'replayed_nonce');
    });

    it('a deactivated peer: 401', async () => {
      const admin = await b.env.loginAs('admin');
      const peer = await b.env.ctx.db.selectFrom('peers').select('id').where('code', '=', 'prov-a').executeTakeFirstOrThrow();
      expect((await admin.agent.post(`/admin/peers/${peer.id}/deactivate`).type('form').send({ _csrf: await admin.csrf() })).status).to.equal(303);
      await expectRefused(() => post(b, { ...metadata, letterId: 'after-deactivation' }, pdf), 401, 'inactive_peer');
    });
  });
});
