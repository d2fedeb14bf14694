// Archival records for the records-lifecycle tests (retention, berkas, disposal):
// a letter taken through the whole chain over the API and signed, and its
// record's date moved into the past so its retention is over.
import { expect } from 'chai';
import supertest from 'supertest';
import { DEMO_PASSWORD, type TestEnv } from './harness.js';

export interface SignedRecord {
  letterId: string;
  recordId: string;
  pdfSha256: string;
  number: string;
  attachmentSha256?: string;
}

export function apiAs(env: TestEnv) {
  const tokens: Record<string, string> = {};
  // A supertest Test is a thenable: build it only after the token is known, and never await it unsent.
  const as = async (who: string) => {
    tokens[who] ??= await env.tokenFor(who);
    const auth = (t: supertest.Test) => t.set('Authorization', `Bearer ${tokens[who]}`);
    const agent = supertest(env.app);
    return { get: (u: string) => auth(agent.get(u)), post: (u: string) => auth(agent.post(u)), patch: (u: string) => auth(agent.patch(u)), delete: (u: string) => auth(agent.delete(u)) };
  };
  return {
    get: async (who: string, url: string) => (await as(who)).get(url),
    post: async (who: string, url: string, body: object = {}) => (await as(who)).post(url).send(body),
    patch: async (who: string, url: string, body: object = {}) => (await as(who)).patch(url).send(body),
    delete: async (who: string, url: string) => (await as(who)).delete(url),
    attach: async (who: string, url: string, bytes: Buffer, name: string) => (await as(who)).post(url).attach('file', bytes, name),
  };
}

/** Drafted by konseptor, paraf by both reviewers, signed by penandatangan; optionally with one attachment. */
export async function signedRecord(env: TestEnv, o: { subject: string; code?: string; attachment?: Buffer; body?: string; securityClass?: string }): Promise<SignedRecord> {
  const api = apiAs(env);
  const created = await api.post('konseptor', '/api/v1/letters', {
    kind: 'SD', subject: o.subject, urgency: 'biasa', securityClass: o.securityClass ?? 'biasa', classificationCode: o.code ?? '000.1.5', signer: 'penandatangan',
    to: [{ unit: 'DISDIK' }], cc: [], body: o.body ?? `<p>Isi naskah ${o.subject}.</p>`,
  });
  expect(created.status, JSON.stringify(created.body)).to.equal(201);
  const id = String(created.body.id);
  let version = 1;
  if (o.attachment) {
    const att = await api.attach('konseptor', `/api/v1/letters/${id}/attachments`, o.attachment, 'lampiran.pdf');
    expect(att.status, JSON.stringify(att.body)).to.equal(201);
    version = att.body.letter.version;
  }
  expect((await api.post('konseptor', `/api/v1/letters/${id}/submit`)).status).to.equal(200);
  expect((await api.post('pemeriksa1', `/api/v1/letters/${id}/approve`, { version })).status).to.equal(200);
  expect((await api.post('pemeriksa2', `/api/v1/letters/${id}/approve`, { version })).status).to.equal(200);
  const signed = await api.post('penandatangan', `/api/v1/letters/${id}/sign`, { passphrase: DEMO_PASSWORD });
  expect(signed.status, JSON.stringify(signed.body)).to.equal(200);
  const rec = await env.ctx.db.selectFrom('records').select('id').where('letter_id', '=', id).executeTakeFirstOrThrow();
  const sig = await env.ctx.db.selectFrom('letter_signatures').select('pdf_sha256').where('letter_id', '=', id).executeTakeFirstOrThrow();
  const att = await env.ctx.db.selectFrom('letter_attachments').select('object_sha256').where('letter_id', '=', id).executeTakeFirst();
  return { letterId: id, recordId: String(rec.id), pdfSha256: sig.pdf_sha256, number: signed.body.number, attachmentSha256: att?.object_sha256 };
}

/** Moves the record's date (retention counts from it) to `date`, as if it had been signed then. */
export async function backdate(env: TestEnv, recordId: string, date: string): Promise<void> {
  await env.ctx.db.updateTable('records').set({ record_date: date }).where('id', '=', recordId).execute();
}
