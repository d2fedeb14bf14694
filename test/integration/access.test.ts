// The one access policy (server/modules/archive/access.ts): by security class,
// unit, role and involvement. The TypeScript form (what pages, PDFs and the API
// use) and the SQL form (what search uses) agree for every demo user and every
// record; the class table behaves as documented; an incoming Rahasia letter is
// 404 to the uninvolved and each read by those who may is audited.
import { expect } from 'chai';
import { sql } from 'kysely';
import { startTestEnv, DEMO_PASSWORD, type TestEnv, bearerClient, scanPdf } from '../support/harness.js';
import { loadCurrentUser } from '../../server/platform/auth/current-user.js';
import { loadViewer, visibleRecordsSql } from '../../server/modules/archive/access.js';
import { accessTo } from '../../server/modules/letters/policy.js';
import { accessToIncoming } from '../../server/modules/dispatch/policy.js';
import * as lettersRepo from '../../server/modules/letters/repo.js';
import * as dispatchRepo from '../../server/modules/dispatch/repo.js';

const USERS = ['admin', 'konseptor', 'pemeriksa1', 'pemeriksa2', 'penandatangan', 'agendaris', 'arsiparis', 'auditor', 'staf1', 'staf2', 'staf3'];

describe('access by classification: one policy', function () {
  this.timeout(240_000);
  let env: TestEnv;
  const tokens: Record<string, string> = {};
  const as = (who: string) => bearerClient(env.app, tokens[who]);
  const L: Record<string, string> = {};
  const I: Record<string, string> = {};

  async function draft(securityClass: string, to: unknown[], subject: string) {
    const created = await as('konseptor').post('/api/v1/letters').send({ kind: 'SD', urgency: 'biasa', securityClass, classificationCode: '000.1.5', signer: 'penandatangan', subject, to, body: `<p>${subject}</p>` });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    return created.body.id as string;
  }
  async function signed(securityClass: string, to: unknown[], subject: string) {
    const id = await draft(securityClass, to, subject);
    await as('konseptor').post(`/api/v1/letters/${id}/submit`).send({}).expect(200);
    await as('pemeriksa1').post(`/api/v1/letters/${id}/approve`).send({ version: 1 }).expect(200);
    await as('pemeriksa2').post(`/api/v1/letters/${id}/approve`).send({ version: 1 }).expect(200);
    const s = await as('penandatangan').post(`/api/v1/letters/${id}/sign`).send({ passphrase: DEMO_PASSWORD });
    expect(s.status, JSON.stringify(s.body)).to.equal(200);
    return id;
  }
  async function incoming(securityClass: string, subject: string) {
    const res = await as('agendaris').post('/api/v1/incoming').field('senderName', 'Kejaksaan Tinggi').field('subject', subject)
      .field('urgency', 'biasa').field('securityClass', securityClass).attach('file', await scanPdf(subject), 'scan.pdf');
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.id as string;
  }

  before(async () => {
    env = await startTestEnv();
    for (const u of USERS) tokens[u] = await env.tokenFor(u);
    L.draftBiasa = await draft('biasa', [{ unit: 'DISDIK.SMA.KUR' }], 'Konsep biasa');
    L.biasa = await signed('biasa', [{ unit: 'DISDIK.SMA.KUR' }], 'Surat biasa');
    L.terbatas = await signed('terbatas', [{ user: 'staf2' }], 'Surat terbatas');
    L.rahasia = await signed('rahasia', [{ user: 'staf3' }], 'Surat rahasia');
    L.sangat = await signed('sangat_rahasia', [{ user: 'staf2' }], 'Surat sangat rahasia');
    L.reviewRahasia = await draft('rahasia', [{ user: 'staf3' }], 'Rahasia dalam pemeriksaan');
    await as('konseptor').post(`/api/v1/letters/${L.reviewRahasia}/submit`).send({}).expect(200);
    I.biasa = await incoming('biasa', 'Undangan rapat koordinasi');
    I.rahasia = await incoming('rahasia', 'Permintaan keterangan penyidikan');
    I.sangat = await incoming('sangat_rahasia', 'Laporan intelijen');
    // The head disposes the Rahasia one to the head of Aplikasi Informatika.
    const d = await as('penandatangan').post(`/api/v1/incoming/${I.rahasia}/disposisi`).send({ to: ['pemeriksa2'], instructions: ['pelajari'] });
    expect(d.status, JSON.stringify(d.body)).to.be.oneOf([200, 201]);
  });
  after(async () => env?.close());

  async function userOf(username: string) {
    const u = await env.ctx.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirstOrThrow();
    return (await loadCurrentUser(env.ctx.db, String(u.id), 'token', null))!;
  }

  /** What each form of the policy lets this user see, as record keys ("L<id>" / "I<id>"). */
  async function bothForms(username: string) {
    const user = await userOf(username);
    const db = env.ctx.db;
    const viewer = await loadViewer(db, user);
    const sqlRows = await db.selectFrom('records as r').select(['r.letter_id', 'r.incoming_letter_id']).where(visibleRecordsSql(viewer, 'r')).execute();
    const bySql = sqlRows.map((r) => (r.letter_id ? `L${r.letter_id}` : `I${r.incoming_letter_id}`)).sort();
    const byTs: string[] = [];
    for (const r of await db.selectFrom('records').select(['letter_id', 'incoming_letter_id']).execute()) {
      if (r.letter_id) {
        const letter = (await lettersRepo.getLetter(db, String(r.letter_id)))!;
        if ((await accessTo(db, user, letter)).canView) byTs.push(`L${r.letter_id}`);
      } else {
        const inc = (await dispatchRepo.getIncoming(db, String(r.incoming_letter_id)))!;
        if ((await accessToIncoming(db, user, inc, await dispatchRepo.disposisiOf(db, String(inc.id)))).canView) byTs.push(`I${r.incoming_letter_id}`);
      }
    }
    return { bySql, byTs: byTs.sort() };
  }

  it('the SQL form (search) and the TypeScript form (pages, PDFs, API) agree for every user and every record', async () => {
    const total = Number((await sql<{ n: string }>`SELECT count(*) AS n FROM records`.execute(env.ctx.db)).rows[0]!.n);
    // The records of this file plus the demo's: a matrix of 11 users x every record.
    expect(total).to.be.at.least(Object.keys(L).length + Object.keys(I).length);
    for (const u of USERS) {
      const { bySql, byTs } = await bothForms(u);
      expect(bySql, u).to.deep.equal(byTs);
    }
  });

  it('follows the class table: unit members see Biasa, heads and the arsiparis up to Rahasia once final, Sangat Rahasia only the involved', async () => {
    const sees = async (u: string) => new Set((await bothForms(u)).bySql);
    const staf1 = await sees('staf1'); // same unit as the drafter, not involved
    expect(staf1.has(`L${L.biasa}`)).to.equal(true);
    for (const k of ['draftBiasa', 'terbatas', 'rahasia', 'sangat', 'reviewRahasia']) expect(staf1.has(`L${L[k]}`), k).to.equal(false);
    const arsiparis = await sees('arsiparis');
    for (const k of ['biasa', 'terbatas', 'rahasia']) expect(arsiparis.has(`L${L[k]}`), k).to.equal(true);
    for (const k of ['draftBiasa', 'sangat', 'reviewRahasia']) expect(arsiparis.has(`L${L[k]}`), k).to.equal(false);
    for (const k of ['biasa', 'rahasia']) expect(arsiparis.has(`I${I[k]}`), k).to.equal(true);
    expect(arsiparis.has(`I${I.sangat}`)).to.equal(false);
    // The auditor reads the trail, not the contents.
    const auditor = await sees('auditor');
    expect([...auditor].filter((k) => Object.values(L).map((id) => `L${id}`).includes(k) || Object.values(I).map((id) => `I${id}`).includes(k))).to.deep.equal([]);
    // Recipients see what was addressed to them, whatever the class; not the others' secrets.
    const staf2 = await sees('staf2');
    expect(staf2.has(`L${L.terbatas}`) && staf2.has(`L${L.sangat}`)).to.equal(true);
    expect(staf2.has(`L${L.rahasia}`)).to.equal(false);
    // A disposisi holder sees the received letter; the agendaris who registered them sees all three.
    expect((await sees('pemeriksa2')).has(`I${I.rahasia}`)).to.equal(true);
    const agendaris = await sees('agendaris');
    for (const k of ['biasa', 'rahasia', 'sangat']) expect(agendaris.has(`I${I[k]}`), k).to.equal(true);
  });

  it('answers 404 like a missing id for an incoming Rahasia letter out of reach, and audits each read by those who may', async () => {
    const missing = await as('staf1').get('/api/v1/incoming/999999999').expect(404);
    expect((await as('staf1').get(`/api/v1/incoming/${I.rahasia}`).expect(404)).body).to.deep.equal(missing.body);
    const page = (await env.loginAs('staf1')).agent;
    for (const url of [`/surat-masuk/${I.rahasia}`, `/surat-masuk/${I.rahasia}/pdf`]) {
      const res = await page.get(url);
      expect(res.status, url).to.equal(404);
      expect(res.text, url).not.to.contain('penyidikan');
    }
    const shown = await as('arsiparis').get(`/api/v1/incoming/${I.rahasia}`).expect(200);
    await as('arsiparis').get(shown.body.pdf).expect(200);
    await as('pemeriksa2').get(`/api/v1/incoming/${I.rahasia}`).expect(200);
    const reads = await env.ctx.db.selectFrom('audit_log').select(['actor_name', sql<string>`details->>'read'`.as('read')])
      .where('action', '=', 'letter.read_restricted').where('object_type', '=', 'incoming_letter').where('object_id', '=', I.rahasia).orderBy('seq').execute();
    expect(reads.map((r) => `${r.actor_name}:${r.read}`)).to.include.members(['arsiparis:page', 'arsiparis:scan', 'pemeriksa2:page']);
    expect(reads.map((r) => r.actor_name)).not.to.include('staf1');
    // Biasa reads are not audited.
    await as('arsiparis').get(`/api/v1/incoming/${I.biasa}`).expect(200);
    const biasa = await env.ctx.db.selectFrom('audit_log').select('seq').where('action', '=', 'letter.read_restricted').where('object_type', '=', 'incoming_letter').where('object_id', '=', I.biasa).execute();
    expect(biasa).to.deep.equal([]);
  });
});
