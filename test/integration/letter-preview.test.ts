// The preview (pratinjau) of a letter's versions, on the page and through the
// API: the draft PDF for everyone involved, 404 for everyone else, and the
// letter's data in the official layout as poppler reads it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import supertest from 'supertest';
import { startTestEnv, type TestEnv, type LoggedInAgent } from '../support/harness.js';
import { requireTools } from '../support/nss.js';

describe('letter preview (PDF)', () => {
  let env: TestEnv;
  let dir: string;
  const pages: Record<string, LoggedInAgent> = {};
  const tokens: Record<string, string> = {};
  const api = (who: string, url: string) => supertest(env.app).get(url).set('Authorization', `Bearer ${tokens[who]}`).buffer(true);
  const page = (who: string, url: string) => pages[who].agent.get(url).buffer(true);
  const pdfText = (bytes: Buffer) => {
    const file = path.join(dir, `p${Date.now()}${Math.random()}.pdf`);
    fs.writeFileSync(file, bytes);
    return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  };
  const subject = '<script>alert(1)</script> Rapat <b>SPBE</b> & "Evaluasi"';
  let id = '';

  before(async function () {
    requireTools(this, 'pdftotext');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-preview-'));
    env = await startTestEnv();
    for (const u of ['konseptor', 'pemeriksa1', 'staf2']) {
      pages[u] = await env.loginAs(u);
      tokens[u] = await env.tokenFor(u);
    }
    const created = await supertest(env.app)
      .post('/api/v1/letters')
      .set('Authorization', `Bearer ${tokens.konseptor}`)
      .send({
        kind: 'SD',
        subject,
        urgency: 'segera',
        securityClass: 'biasa',
        classificationCode: '000.1.5',
        to: [{ unit: 'DISDIK' }],
        cc: [{ user: 'pemeriksa2' }],
        signer: 'penandatangan',
        body: '<p>Dengan hormat, rapat dipimpin oleh Sdr. Müller di Kafé Sukamaju.</p>',
      });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    id = created.body.id;
  });
  after(async () => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await env?.close();
  });

  it('gives the drafter the draft PDF inline, in the official layout, with HTML in the subject as literal text', async () => {
    const res = await page('konseptor', `/surat/${id}/pratinjau`);
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.equal('application/pdf');
    expect(res.headers['content-disposition']).to.equal(`inline; filename="konsep-${id}-v1.pdf"`);
    const text = pdfText(res.body as Buffer);
    expect(text).to.contain('KONSEP');
    expect(text.replace(/\s+/g, ' ')).to.contain(`Hal : ${subject}`);
    expect(text).to.contain('Dengan hormat, rapat dipimpin oleh Sdr. Müller di Kafé Sukamaju.');
    // The kop from the drafter's agency and its ancestors, the addressee by its head's title, the signer with NIP.
    expect(text).to.contain('PEMERINTAH PROVINSI SUKAMAJU').and.contain('DINAS KOMUNIKASI, INFORMATIKA DAN STATISTIK').and.contain('Jl. Pahlawan No. 10, Kota Sukamaju 12346');
    expect(text).to.match(/Yth\. Kepala Dinas Pendidikan\ndi Tempat/);
    expect(text).to.contain('Kepala Dinas Komunikasi, Informatika').and.contain('Dr. Bambang Wijaya, S.Sos., M.Si.').and.contain('NIP. 19700214 199503 1 005');
    expect(text).to.match(/Tembusan:\n1\. Sdr\. Ir\. Siti Nurhaliza, M\.Si\./);
    expect(text).to.match(/Nomor\s+: \.\.\.\.\.\./);
  });

  it('shows the preview embedded on the letter page, with a link to open it', async () => {
    const res = await pages.konseptor.agent.get(`/surat/${id}`);
    expect(res.text).to.contain(`<iframe src="/surat/${id}/pratinjau?versi=1"`);
    expect(res.text).to.contain(`href="/surat/${id}/pratinjau?versi=1" target="_blank"`);
  });

  it('lets a reviewer of the letter see it, and hides it (404) from anyone else', async () => {
    expect((await page('pemeriksa1', `/surat/${id}/pratinjau`)).status).to.equal(404);
    const submitted = await supertest(env.app).post(`/api/v1/letters/${id}/submit`).set('Authorization', `Bearer ${tokens.konseptor}`).send({});
    expect(submitted.body.state).to.equal('in_review');
    const reviewer = await page('pemeriksa1', `/surat/${id}/pratinjau`);
    expect(reviewer.status).to.equal(200);
    expect(reviewer.headers['content-type']).to.equal('application/pdf');
    expect((await page('staf2', `/surat/${id}/pratinjau`)).status).to.equal(404);
    const apiStranger = await api('staf2', `/api/v1/letters/${id}/preview`);
    expect(apiStranger.status).to.equal(404);
    expect(JSON.parse(apiStranger.text ?? (apiStranger.body as Buffer).toString()).error.code).to.equal('not_found');
  });

  it('previews any version by number and answers 404 for one the letter does not have', async () => {
    const returned = await supertest(env.app).post(`/api/v1/letters/${id}/return`).set('Authorization', `Bearer ${tokens.pemeriksa1}`).send({ note: 'Perbaiki hal.' });
    expect(returned.body.state).to.equal('returned');
    const saved = await supertest(env.app).put(`/api/v1/letters/${id}`).set('Authorization', `Bearer ${tokens.konseptor}`).send({ version: 1, subject: 'Rapat Evaluasi SPBE' });
    expect(saved.body.version).to.equal(2);

    const current = await api('konseptor', `/api/v1/letters/${id}/preview`);
    expect(current.status).to.equal(200);
    expect(current.headers['content-disposition']).to.equal(`inline; filename="konsep-${id}-v2.pdf"`);
    expect(pdfText(current.body as Buffer)).to.contain('Rapat Evaluasi SPBE');
    const first = await api('pemeriksa1', `/api/v1/letters/${id}/preview?version=1`);
    expect(first.headers['content-disposition']).to.equal(`inline; filename="konsep-${id}-v1.pdf"`);
    expect(pdfText(first.body as Buffer).replace(/\s+/g, ' ')).to.contain(subject);

    for (const v of ['3', '0', 'abc', '1.5']) {
      expect((await page('konseptor', `/surat/${id}/pratinjau?versi=${v}`)).status, v).to.equal(404);
      expect((await api('konseptor', `/api/v1/letters/${id}/preview?version=${v}`)).status, v).to.equal(404);
    }
    expect((await page('konseptor', '/surat/999999/pratinjau')).status).to.equal(404);
  });

  it('records the preview of a Rahasia letter as a read of a restricted record', async () => {
    const created = await supertest(env.app)
      .post('/api/v1/letters')
      .set('Authorization', `Bearer ${tokens.konseptor}`)
      .send({ kind: 'ND', subject: 'Hasil audit keamanan', urgency: 'biasa', securityClass: 'rahasia', classificationCode: '000.1.5', to: [{ user: 'pemeriksa2' }], signer: 'penandatangan', body: '<p>Isi rahasia.</p>' });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const reads = () => env.ctx.db.selectFrom('audit_log').select(['action', 'object_id']).where('action', '=', 'letter.read_restricted').where('object_id', '=', created.body.id).execute();
    const before = (await reads()).length;
    const res = await page('konseptor', `/surat/${created.body.id}/pratinjau`);
    expect(res.status).to.equal(200);
    const text = pdfText(res.body as Buffer);
    expect(text).to.contain('RAHASIA').and.contain('NOTA DINAS');
    expect((await reads()).length).to.equal(before + 1);
  });
});
