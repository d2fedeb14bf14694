// The archival package (paket arsip): a signed letter exported as a BagIt zip over
// the API and the letter page, unpacked in JS, and verified by the operator
// command as a child process with no database and no network; tampering names
// what changed; who may export; every export is in the audit trail.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import supertest from 'supertest';
import type { Response as AgentResponse } from 'superagent';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { startTestEnv, DEMO_PASSWORD, type TestEnv } from '../support/harness.js';
import { requireTools } from '../support/nss.js';
import { signatureParts } from '../support/pdf-signature.js';
import { safeFileName } from '../../server/modules/archive/bagit.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ATTACHMENT = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

function binary(res: AgentResponse, cb: (err: Error | null, body: Buffer) => void) {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => cb(null, Buffer.concat(chunks)));
}

const sha256 = (b: Uint8Array | string) => crypto.createHash('sha256').update(b).digest('hex');

/** The operator command as an operator runs it: no DATABASE_URL, an empty data directory, nothing listening. */
function verifyCli(file: string, extra: string[] = []): Promise<{ code: number | null; out: string }> {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-offline-'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli/index.ts', 'package', 'verify', '--file', file, ...extra], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', DATA_DIR: empty, S3_ENDPOINT: 'http://127.0.0.1:1', DATABASE_URL: '' },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (out += c));
    child.on('error', reject);
    child.on('close', (code) => {
      fs.rmSync(empty, { recursive: true, force: true });
      expect(fs.existsSync(empty)).to.equal(false);
      resolve({ code, out });
    });
  });
}

/** Entries of a zipped bag by path below its one top-level folder. */
function unpack(zip: Buffer): { top: string; files: Map<string, Uint8Array> } {
  const entries = unzipSync(new Uint8Array(zip));
  const tops = new Set(Object.keys(entries).map((k) => k.split('/')[0]));
  expect([...tops]).to.have.length(1);
  const top = [...tops][0];
  return { top, files: new Map(Object.entries(entries).map(([k, v]) => [k.slice(top.length + 1), v])) };
}

function repack(top: string, files: Map<string, Uint8Array>): Buffer {
  const z: Zippable = {};
  for (const [p, b] of files) z[`${top}/${p}`] = b;
  return Buffer.from(zipSync(z));
}

const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

/** Recomputes Payload-Oxum and both manifests, as someone covering a change would. */
function reseal(files: Map<string, Uint8Array>) {
  const enc = new TextEncoder();
  const payload = [...files.keys()].filter((p) => p.startsWith('data/'));
  const octets = payload.reduce((n, p) => n + files.get(p)!.length, 0);
  files.set('bag-info.txt', enc.encode(text(files.get('bag-info.txt')).replace(/Payload-Oxum: .*/, `Payload-Oxum: ${octets}.${payload.length}`)));
  const lines = (paths: string[]) => enc.encode(paths.map((p) => `${sha256(files.get(p)!)}  ${p}\n`).join(''));
  files.set('manifest-sha256.txt', lines(payload));
  files.set('tagmanifest-sha256.txt', lines(['bagit.txt', 'bag-info.txt', 'manifest-sha256.txt']));
}

describe('archival package: export a signed letter, verify it offline', function () {
  this.timeout(180_000);
  let env: TestEnv;
  let dir: string;
  const tokens: Record<string, string> = {};
  const as = (who: string) => ({
    get: (u: string) => supertest(env.app).get(u).set('Authorization', `Bearer ${tokens[who]}`),
    post: (u: string) => supertest(env.app).post(u).set('Authorization', `Bearer ${tokens[who]}`),
  });
  const draft = { kind: 'SD', subject: 'Laporan Evaluasi SPBE Triwulan III', urgency: 'biasa', securityClass: 'biasa', classificationCode: '000.1.5', signer: 'penandatangan', to: [{ unit: 'DISDIK' }], cc: [], body: '<p>Bersama ini kami sampaikan laporan evaluasi SPBE.</p>' };

  async function signedLetter(over: Partial<typeof draft> = {}, attachmentName?: string): Promise<string> {
    const created = await as('konseptor').post('/api/v1/letters').send({ ...draft, ...over });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const id = created.body.id as string;
    let version = 1;
    if (attachmentName) {
      const att = await as('konseptor').post(`/api/v1/letters/${id}/attachments`).attach('file', ATTACHMENT, attachmentName);
      expect(att.status, JSON.stringify(att.body)).to.equal(201);
      version = 2;
    }
    await as('konseptor').post(`/api/v1/letters/${id}/submit`).send({}).expect(200);
    await as('pemeriksa1').post(`/api/v1/letters/${id}/approve`).send({ version }).expect(200);
    await as('pemeriksa2').post(`/api/v1/letters/${id}/approve`).send({ version }).expect(200);
    const signed = await as('penandatangan').post(`/api/v1/letters/${id}/sign`).send({ passphrase: DEMO_PASSWORD });
    expect(signed.status, JSON.stringify(signed.body)).to.equal(200);
    return id;
  }

  /** Zips a changed bag (re-sealed: sums and Payload-Oxum made to match) and runs package verify on it. */
  function verifyChanged(name: string, top: string, files: Map<string, Uint8Array>, resealed: boolean) {
    if (resealed) reseal(files);
    const file = path.join(dir, name);
    fs.writeFileSync(file, repack(top, files));
    return verifyCli(file);
  }

  before(async function () {
    requireTools(this, 'openssl');
    env = await startTestEnv();
    for (const u of ['konseptor', 'pemeriksa1', 'pemeriksa2', 'penandatangan', 'staf2', 'arsiparis', 'auditor']) tokens[u] = await env.tokenFor(u);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-package-'));
  });
  after(async () => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await env?.close();
  });

  describe('a signed letter with an attachment whose name tries to climb out', () => {
    let id: string;
    let zip: Buffer;
    let file: string;
    let letter: { number: string; signature: { pdfSha256: string; certificateSerial: string } };

    before(async () => {
      id = await signedLetter({}, '../../etc/Kerangka Acuan Kerja (KAK).pdf');
      letter = (await as('konseptor').get(`/api/v1/letters/${id}`).expect(200)).body;
    });

    it('the drafter downloads it from the API: a zip whose SHA-256 the response names', async () => {
      const res = await as('konseptor').get(`/api/v1/letters/${id}/package`).buffer(true).parse(binary);
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.equal('application/zip');
      expect(res.headers['content-disposition'], letter.number).to.equal(`attachment; filename=paket-arsip-${letter.number.replace(/\//g, '_')}.zip`);
      zip = res.body as Buffer;
      expect(res.headers['x-content-sha256']).to.equal(sha256(zip));
      file = path.join(dir, 'paket.zip');
      fs.writeFileSync(file, zip);
    });

    it('is a BagIt bag: tag files, sums over data/, Payload-Oxum, the number as External-Identifier', () => {
      const { top, files } = unpack(zip);
      expect(top).to.match(/^paket-arsip-/);
      const names = [...files.keys()].sort();
      expect(names).to.deep.equal(
        ['bag-info.txt', 'bagit.txt', 'data/audit.json', 'data/ca.crt', 'data/lampiran/Kerangka_Acuan_Kerja_KAK_.pdf', 'data/metadata.json', `data/naskah-${letter.number.replace(/\//g, '_')}.pdf`, 'manifest-sha256.txt', 'tagmanifest-sha256.txt'].sort(),
      );
      expect(text(files.get('bagit.txt'))).to.equal('BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n');
      const info = text(files.get('bag-info.txt'));
      expect(info).to.contain(`External-Identifier: ${letter.number}\n`);
      expect(info).to.match(/^Bagging-Date: \d{4}-\d{2}-\d{2}$/m);
      expect(info).to.contain('Source-Organization: Dinas Komunikasi');
      const payload = names.filter((n) => n.startsWith('data/'));
      const octets = payload.reduce((n, p) => n + files.get(p)!.length, 0);
      expect(info).to.contain(`Payload-Oxum: ${octets}.${payload.length}\n`);
      const manifest = text(files.get('manifest-sha256.txt')).trim().split('\n');
      expect(manifest.map((l) => l.split(/\s+/)[1]).sort()).to.deep.equal(payload);
      for (const l of manifest) {
        const [sum, p] = l.split(/\s+/);
        expect(sha256(files.get(p)!), p).to.equal(sum);
      }
      expect(text(files.get('tagmanifest-sha256.txt'))).to.contain(`${sha256(files.get('bag-info.txt')!)}  bag-info.txt`);
    });

    it('holds the registered PDF, the attachment, metadata and the letter\'s hash-chained audit entries', () => {
      const { files } = unpack(zip);
      const meta = JSON.parse(text(files.get('data/metadata.json')));
      expect(meta).to.deep.include({ number: letter.number, subject: draft.subject, securityClass: 'biasa', urgency: 'biasa' });
      expect(meta.classification).to.deep.include({ code: '000.1.5' });
      expect(meta.classification.retentionActiveYears).to.be.a('number');
      expect(meta.kind.code).to.equal('SD');
      expect(meta.unit.code).to.equal('DKIS.APTIKA.PA');
      expect(meta.recipients.to[0]).to.contain('DISDIK');
      expect(meta.signer.name).to.equal('Dr. Bambang Wijaya, S.Sos., M.Si.');
      expect(meta.signer.nip).to.equal('197002141995031005');
      expect(meta.signature.certificateSerial).to.equal(letter.signature.certificateSerial);
      expect(meta.signedPdf.sha256).to.equal(letter.signature.pdfSha256);
      expect(sha256(files.get(`data/${meta.signedPdf.path}`)!)).to.equal(letter.signature.pdfSha256);
      expect(meta.attachments).to.deep.equal([{ path: 'lampiran/Kerangka_Acuan_Kerja_KAK_.pdf', originalFilename: 'Kerangka Acuan Kerja (KAK).pdf', sha256: sha256(ATTACHMENT), size: ATTACHMENT.length, contentType: 'application/pdf' }]);
      expect(meta.versions.map((v: { version: number }) => v.version)).to.deep.equal([1, 2]);
      const audit = JSON.parse(text(files.get('data/audit.json')));
      expect(audit.entries.map((e: { action: string }) => e.action)).to.include.members(['letter.created', 'letter.attachment_added', 'letter.submitted', 'letter.approved', 'letter.signed', 'letter.dispatched']);
      const signedEntry = audit.entries.find((e: { action: string }) => e.action === 'letter.signed');
      expect(signedEntry.doc_sha256).to.equal(letter.signature.pdfSha256);
      expect(signedEntry.hash).to.match(/^[0-9a-f]{64}$/);
      expect(signedEntry.prev_hash).to.match(/^[0-9a-f]{64}$/);
    });

    it('package verify, with no database and no network, says valid and names the signer and the CA fingerprint', async () => {
      const r = await verifyCli(file);
      expect(r.code, r.out).to.equal(0);
      expect(r.out).to.contain('VALID: every check passed.');
      expect(r.out).to.match(/OK +BagIt structure, manifest and tag-manifest sums, Payload-Oxum \d+\.5/);
      expect(r.out).to.contain('PAdES signature cryptographically valid, chained to the trusted CA, covering the whole file; signed by Dr. Bambang Wijaya');
      expect(r.out).to.match(/NOTE +trusting CA from data\/ca\.crt: .*SHA-256 fingerprint [0-9A-F:]{95}/);
      expect(r.out).to.match(/audit entries re-hashed, \d+ chain link\(s\) checked/);
    });

    it('one byte changed in the attachment: exit 1 naming the file', async () => {
      const { top, files } = unpack(zip);
      const p = 'data/lampiran/Kerangka_Acuan_Kerja_KAK_.pdf';
      const changed = Uint8Array.from(files.get(p)!);
      changed[12] ^= 0x01;
      files.set(p, changed);
      const r = await verifyChanged('lampiran-diubah.zip', top, files, false);
      expect(r.code, r.out).to.equal(1);
      expect(r.out).to.contain(`FAIL  ${p}: SHA-256 does not match manifest-sha256.txt (the file was changed)`);
      expect(r.out).to.match(/INVALID: \d+ check\(s\) failed\./);
    });

    it('the PDF changed and every sum re-computed to match: exit 1, the signature says so', async () => {
      const { top, files } = unpack(zip);
      const meta = JSON.parse(text(files.get('data/metadata.json')));
      const p = `data/${meta.signedPdf.path}`;
      const pdf = Buffer.from(files.get(p)!);
      const { byteRange } = signatureParts(pdf);
      // A byte inside the first signed range: the page content, not the signature value.
      const at = Math.floor(byteRange[1] / 2);
      pdf[at] = pdf[at] === 0x20 ? 0x21 : 0x20;
      files.set(p, pdf);
      meta.signedPdf.sha256 = sha256(pdf);
      files.set('data/metadata.json', new TextEncoder().encode(JSON.stringify(meta)));
      const r = await verifyChanged('pdf-diubah.zip', top, files, true);
      expect(r.code, r.out).to.equal(1);
      expect(r.out).not.to.contain('manifest-sha256.txt');
      expect(r.out).to.contain(`FAIL  ${p}: signature invalid: the signed bytes were changed (digest mismatch)`);
      expect(r.out).to.contain("FAIL  data/audit.json: no letter.signed entry names the PDF's SHA-256");
    });

    it('an altered audit entry: exit 1 naming the entry', async () => {
      const { top, files } = unpack(zip);
      const audit = JSON.parse(text(files.get('data/audit.json')));
      const e = audit.entries.find((x: { action: string }) => x.action === 'letter.approved');
      e.actor_name = 'orang-lain';
      files.set('data/audit.json', new TextEncoder().encode(JSON.stringify(audit)));
      const r = await verifyChanged('audit-diubah.zip', top, files, true);
      expect(r.code, r.out).to.equal(1);
      expect(r.out).to.contain(`FAIL  data/audit.json: entry ${e.seq} (letter.approved) does not match its hash: altered`);
    });

    it('--ca: the installation CA passes, another CA fails the chain; an entry climbing out of the bag is refused', async () => {
      const { top, files } = unpack(zip);
      const ca = path.join(dir, 'ca.pem');
      fs.writeFileSync(ca, files.get('data/ca.crt')!);
      expect((await verifyCli(file, ['--ca', ca])).code).to.equal(0);
      const other = path.join(dir, 'bukan-ca.pem');
      const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-out', other, '-subj', '/CN=Bukan CA', '-days', '1']);
      expect(made.status, String(made.stderr)).to.equal(0);
      const r = await verifyCli(file, ['--ca', other]);
      expect(r.code, r.out).to.equal(1);
      expect(r.out).to.contain('signature invalid: the signer certificate does not chain to the trusted CA');
      files.set('../../../tmp/evil.txt', new TextEncoder().encode('x'));
      const z: Zippable = {};
      for (const [p, b] of files) z[p.startsWith('..') ? p : `${top}/${p}`] = b;
      const slip = path.join(dir, 'slip.zip');
      fs.writeFileSync(slip, zipSync(z));
      const s = await verifyCli(slip);
      expect(s.code, s.out).to.equal(1);
      expect(s.out).to.contain('unsafe or misplaced entry name in the zip: "../../../tmp/evil.txt"');
    });

    it('the signer downloads it from the letter page, which shows the button; a reviewer may see the letter but not export it (403)', async () => {
      const signer = await env.loginAs('penandatangan');
      const page = await signer.agent.get(`/surat/${id}`).expect(200);
      expect(page.text).to.contain(`href="/surat/${id}/paket"`);
      expect(page.text).to.contain('Unduh paket arsip');
      const res = await signer.agent.get(`/surat/${id}/paket`).buffer(true).parse(binary);
      expect(res.status).to.equal(200);
      expect(unpack(res.body as Buffer).files.has('data/metadata.json')).to.equal(true);
      const reviewer = await env.loginAs('pemeriksa1');
      const seen = await reviewer.agent.get(`/surat/${id}`).expect(200);
      expect(seen.text).not.to.contain('/paket');
      const refused = await reviewer.agent.get(`/surat/${id}/paket`);
      expect(refused.status).to.equal(403);
      expect(refused.text).to.contain('hanya dapat diunduh oleh arsiparis');
      expect((await as('pemeriksa1').get(`/api/v1/letters/${id}/package`)).body.error.code).to.equal('forbidden');
    });

    it('a staf who may not see the letter gets 404 on the package, page and API, like a missing id', async () => {
      const staf = await env.loginAs('staf2');
      expect((await staf.agent.get(`/surat/${id}/paket`)).status).to.equal(404);
      const api = await as('staf2').get(`/api/v1/letters/${id}/package`);
      expect(api.status).to.equal(404);
      const missing = await as('staf2').get('/api/v1/letters/999999999/package');
      expect(api.body).to.deep.equal(missing.body);
    });

    it('every export is in the audit trail with the zip\'s SHA-256', async () => {
      const entries = await env.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'record.exported').where('object_id', '=', id).orderBy('seq').execute();
      expect(entries.map((e) => e.actor_name)).to.deep.equal(['konseptor', 'penandatangan']);
      expect(entries[0].doc_sha256).to.equal(sha256(zip));
    });
  });

  it('a Rahasia letter\'s export appears in the audit trail the auditor reads, with its class', async () => {
    const id = await signedLetter({ securityClass: 'rahasia', subject: 'Hasil Audit Keamanan Informasi' });
    const res = await as('penandatangan').get(`/api/v1/letters/${id}/package`).buffer(true).parse(binary);
    expect(res.status).to.equal(200);
    const trail = await as('auditor').get(`/api/v1/audit?action=record.exported&objectId=${id}`).expect(200);
    expect(trail.body.items).to.have.length(1);
    expect(trail.body.items[0]).to.deep.include({ actorName: 'penandatangan', objectType: 'letter', objectId: id, docSha256: sha256(res.body as Buffer) });
    expect(trail.body.items[0].details).to.deep.include({ securityClass: 'rahasia' });
  });

  it('a berkas: the archivist exports one folder per letter plus berkas.json, and it verifies offline', async () => {
    const ids = [await signedLetter({ subject: 'Undangan Rapat SPBE' }, 'Daftar Hadir.pdf'), await signedLetter({ subject: 'Notulen Rapat SPBE' }, 'Daftar Hadir.pdf')];
    const recordIds = await Promise.all(ids.map(async (id) => String((await env.ctx.db.selectFrom('records').select('id').where('letter_id', '=', id).executeTakeFirstOrThrow()).id)));
    const created = await as('arsiparis').post('/api/v1/archive/berkas').send({ number: 'BRK/SPBE/2026', title: 'Rapat Koordinasi SPBE', classificationCode: '000.1.5' });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const fileId = String(created.body.id);
    for (const recordId of recordIds) await as('arsiparis').post(`/api/v1/archive/berkas/${fileId}/records`).send({ recordId }).expect(201);

    expect((await as('staf2').get(`/api/v1/archive/berkas/${fileId}/package`)).status).to.equal(403);
    const res = await as('arsiparis').get(`/api/v1/archive/berkas/${fileId}/package`).buffer(true).parse(binary);
    expect(res.status).to.equal(200);
    expect(res.headers['content-disposition']).to.equal('attachment; filename=paket-berkas-BRK_SPBE_2026.zip');
    const { files } = unpack(res.body as Buffer);
    const berkas = JSON.parse(text(files.get('data/berkas.json')));
    expect(berkas.file).to.deep.include({ number: 'BRK/SPBE/2026', title: 'Rapat Koordinasi SPBE', classificationCode: '000.1.5' });
    expect(berkas.records.map((r: { subject: string }) => r.subject)).to.deep.equal(['Undangan Rapat SPBE', 'Notulen Rapat SPBE']);
    for (const r of berkas.records) {
      expect(r.folder).to.match(/^00[12]-000\.1\.5_\d+_DKIS_\d{4}$/);
      expect(JSON.parse(text(files.get(`data/${r.folder}/metadata.json`))).number).to.equal(r.number);
      expect(files.has(`data/${r.folder}/lampiran/Daftar_Hadir.pdf`)).to.equal(true);
    }
    const file = path.join(dir, 'berkas.zip');
    fs.writeFileSync(file, res.body as Buffer);
    const r = await verifyCli(file);
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.contain('OK    berkas BRK/SPBE/2026 "Rapat Koordinasi SPBE": 2 record folder(s), as listed');
    const trail = await env.ctx.db.selectFrom('audit_log').select(['action', 'object_type', 'object_id', 'doc_sha256']).where('action', 'in', ['record.exported', 'berkas.exported']).where('doc_sha256', '=', sha256(res.body as Buffer)).orderBy('seq').execute();
    expect(trail.map((e) => `${e.action} ${e.object_type} ${e.object_id}`)).to.deep.equal([`berkas.exported berkas ${fileId}`, ...ids.map((id) => `record.exported letter ${id}`)]);
  });

  it('the archivist also exports a single signed letter from its page', async () => {
    const id = await signedLetter({ subject: 'Surat Edaran Kearsipan' });
    const arsiparis = await env.loginAs('arsiparis');
    const page = await arsiparis.agent.get(`/surat/${id}`).expect(200);
    expect(page.text).to.contain(`href="/surat/${id}/paket"`);
    const res = await arsiparis.agent.get(`/surat/${id}/paket`).buffer(true).parse(binary);
    expect(res.status).to.equal(200);
    expect(JSON.parse(text(unpack(res.body as Buffer).files.get('data/metadata.json'))).subject).to.equal('Surat Edaran Kearsipan');
  });

  it('a letter not yet signed has no package (409), and nothing is audited', async () => {
    const created = await as('konseptor').post('/api/v1/letters').send(draft).expect(201);
    const res = await as('konseptor').get(`/api/v1/letters/${created.body.id}/package`);
    expect(res.status).to.equal(409);
    expect(res.body.error.message).to.contain('sudah ditandatangani');
    const n = await env.ctx.db.selectFrom('audit_log').select('seq').where('action', '=', 'record.exported').where('object_id', '=', String(created.body.id)).execute();
    expect(n).to.have.length(0);
  });
});

describe('archival package: safe file names', () => {
  it('never a directory part, a leading dot, an absolute path or a duplicate', () => {
    const taken = new Set<string>();
    const names = ['../../etc/passwd', '/etc/shadow', 'C:\\Windows\\win.ini', '..', '.', '.htaccess', 'Laporan.pdf', 'laporan.PDF', 'LAPORAN.pdf', 'Surat Ñoño № 5.docx', 'con.txt', '', 'a'.repeat(300) + '.pdf'].map((n) => safeFileName(n, taken));
    expect(names.slice(0, 12)).to.deep.equal(['passwd', 'shadow', 'win.ini', 'berkas', 'berkas-2', 'htaccess', 'Laporan.pdf', 'laporan-2.PDF', 'LAPORAN-3.pdf', 'Surat_Nono_No_5.docx', '_con.txt', 'berkas-3']);
    expect(names[12]).to.match(/^a{92}\.pdf$/);
    for (const n of names) expect(n).to.match(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/);
  });
});
