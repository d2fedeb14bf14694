// The leaders' dashboard (/dasbor): letters drafted in two units of DKIS (and
// one in Dinas Pendidikan) go through the real API (draft, paraf, sign with
// PAdES); then, because months must pass, their timestamps are moved back by
// SQL to known instants two and one months ago. The page, the CSV and the API
// must show the same counts, lead times, TTE share and overdue disposisi, only
// to whom may see them.
import { expect } from 'chai';
import { PDFDocument } from 'pdf-lib';
import { startTestEnv, DEMO_PASSWORD, type TestEnv, type LoggedInAgent, bearerClient } from '../support/harness.js';
import { loadCurrentUser } from '../../server/platform/auth/current-user.js';
import { voidNumber } from '../../server/modules/numbering/service.js';
import { jakartaDate } from '../../server/modules/org/hierarchy.js';

const HOUR = 3600 * 1000;
const PA = 'DKIS.APTIKA.PA';
const APTIKA = 'DKIS.APTIKA';
const KUR = 'DISDIK.SMA.KUR';

/** 'YYYY-MM' of the WIB month `back` months before this one. */
function monthBack(back: number): string {
  const [y, m] = jakartaDate(new Date()).split('-').map(Number);
  const i = y * 12 + m - 1 - back;
  return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
}
/** An instant in WIB: day and hour of a 'YYYY-MM' month. */
const wib = (ym: string, day: number, hour: number) => new Date(Date.UTC(Number(ym.slice(0, 4)), Number(ym.slice(5, 7)) - 1, day, hour) - 7 * HOUR);

/** The rows of one table of the page (by its data-figure), each as its cells' text, keyed by the row's data attributes. */
function tableRows(html: string, figure: string): { attrs: string; cells: string[] }[] {
  const table = new RegExp(`<table[^>]*data-figure="${figure}"[^>]*>([\\s\\S]*?)</table>`).exec(html);
  expect(table, `table ${figure}`).to.not.equal(null);
  return [...table![1].matchAll(/<tr([^>]*)>([\s\S]*?)<\/tr>/g)].map((m) => ({
    attrs: m[1],
    cells: [...m[2].matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => c[1].replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim()),
  }));
}
const row = (html: string, figure: string, attrs: string) => tableRows(html, figure).find((r) => r.attrs.includes(attrs))?.cells;

/** RFC 4180, enough for our exports. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.replace(/\r\n$/, '').split('\r\n')) {
    const cells = [''];
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (quoted && c === '"' && line[i + 1] === '"') cells[cells.length - 1] += line[++i];
      else if (c === '"') quoted = !quoted;
      else if (c === ',' && !quoted) cells.push('');
      else cells[cells.length - 1] += c;
    }
    rows.push(cells);
  }
  return rows;
}

describe('dashboard (Dasbor): letters, lead times, TTE share, overdue disposisi', function () {
  this.timeout(180_000);
  let env: TestEnv;
  const tokens: Record<string, string> = {};
  const pages: Record<string, LoggedInAgent> = {};
  const as = (who: string) => bearerClient(env.app, tokens[who]);
  const page = (who: string, url = '/dasbor') => pages[who].agent.get(url);
  const M2 = monthBack(2);
  const M1 = monthBack(1);
  const M0 = monthBack(0);
  const unitId: Record<string, string> = {};
  let incomingId = '';

  const draft = (subject: string) => ({ kind: 'ND', subject, urgency: 'biasa', securityClass: 'biasa', classificationCode: '000.1.5', signer: 'penandatangan', to: [{ user: 'pemeriksa1' }], cc: [], body: '<p>Isi nota dinas.</p>' });
  async function create(who: string, subject: string): Promise<string> {
    const res = await as(who).post('/api/v1/letters').send(draft(subject));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.id;
  }
  async function sign(id: string) {
    const res = await as('penandatangan').post(`/api/v1/letters/${id}/sign`).send({ passphrase: DEMO_PASSWORD });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
  }
  /** A letter of the Seksi (konseptor): paraf by the Kasi and the Kabid, then signed. */
  async function signedWithChain(subject: string) {
    const id = await create('konseptor', subject);
    await as('konseptor').post(`/api/v1/letters/${id}/submit`).send({}).expect(200);
    await as('pemeriksa1').post(`/api/v1/letters/${id}/approve`).send({ version: 1 }).expect(200);
    await as('pemeriksa2').post(`/api/v1/letters/${id}/approve`).send({ version: 1 }).expect(200);
    await sign(id);
    return id;
  }

  /**
   * Time must pass for a dashboard: moves a signed letter's life back to known
   * instants (created, submitted, each paraf at `steps` hours after creation,
   * signed), in letters, approval_steps, letter_signatures and issued_numbers.
   */
  async function backdate(id: string, created: Date, submittedH: number, stepsH: number[], signedH: number) {
    const at = (h: number) => new Date(created.getTime() + h * HOUR);
    const approvedH = stepsH.length ? stepsH[stepsH.length - 1] : submittedH;
    const q = (text: string, values: unknown[]) => env.ctx.dbHandle.pool.query(text, values);
    await q('UPDATE letters SET created_at = $2, submitted_at = $3, approved_at = $4, signed_at = $5 WHERE id = $1', [id, created, at(submittedH), at(approvedH), at(signedH)]);
    for (const [i, h] of stepsH.entries()) await q('UPDATE approval_steps SET acted_at = $3 WHERE letter_id = $1 AND ord = $2', [id, i + 1, at(h)]);
    await q('UPDATE letter_signatures SET signed_at = $2 WHERE letter_id = $1', [id, at(signedH)]);
    await q('UPDATE issued_numbers SET issued_at = $2 WHERE letter_id = $1', [id, at(signedH)]);
  }

  before(async function () {
    env = await startTestEnv();
    for (const u of ['konseptor', 'pemeriksa1', 'pemeriksa2', 'penandatangan', 'staf1', 'staf3', 'agendaris', 'auditor', 'admin']) tokens[u] = await env.tokenFor(u);
    for (const u of ['penandatangan', 'auditor', 'admin', 'staf1']) pages[u] = await env.loginAs(u);
    for (const u of await env.ctx.db.selectFrom('units').select(['id', 'code']).execute()) unitId[u.code] = String(u.id);

    // Seksi Pengembangan Aplikasi: three letters signed after two paraf each, one draft.
    const a1 = await signedWithChain('Laporan bulanan aplikasi');
    const a2 = await signedWithChain('Permohonan server');
    const a3 = await signedWithChain('Undangan rapat aplikasi');
    await create('konseptor', 'Konsep yang belum diajukan');
    // Bidang Aplikasi Informatika: the Kabid writes to the Kepala Dinas directly (no paraf), signed; and one draft.
    const b1 = await create('pemeriksa2', 'Nota Kabid');
    await as('pemeriksa2').post(`/api/v1/letters/${b1}/submit`).send({}).expect(200);
    await sign(b1);
    await create('pemeriksa2', 'Konsep Kabid');
    // Dinas Pendidikan (outside the Kepala Dinas DKIS's tree): a draft.
    await create('staf3', 'Konsep Seksi Kurikulum');

    // Backdated (SQL): A1 two months ago, 48 h to signature (paraf at 3 h and 6 h, submitted at 1 h);
    // A2 last month, 24 h; A3 created late two months ago, signed 96 h later, last month; B1 last month, 30 h.
    await backdate(a1, wib(M2, 3, 10), 1, [3, 6], 48);
    await backdate(a2, wib(M1, 5, 10), 1, [2, 4], 24);
    await backdate(a3, wib(M2, 28, 20), 1, [5, 9], 96);
    await backdate(b1, wib(M1, 8, 8), 2, [], 30);

    // A2 is cancelled after signing: its number is voided, and still counts as issued.
    const admin = (await loadCurrentUser(env.ctx.db, String((await env.ctx.db.selectFrom('users').select('id').where('username', '=', 'admin').executeTakeFirstOrThrow()).id), 'token', null))!;
    const n2 = await env.ctx.db.selectFrom('issued_numbers').select('id').where('letter_id', '=', a2).executeTakeFirstOrThrow();
    await voidNumber(env.ctx, admin, String(n2.id), { reason: 'Surat dibatalkan' });

    // A paper letter to DKIS, forwarded by the Kepala Dinas: two disposisi long overdue, one due far ahead.
    const doc = await PDFDocument.create();
    doc.addPage().drawText('Undangan');
    const reg = await as('agendaris').post('/api/v1/incoming')
      .field('senderName', 'Badan Siber dan Sandi Negara').field('subject', 'Rapat Keamanan Informasi Rahasia Dagang')
      .field('urgency', 'segera').field('securityClass', 'biasa').attach('file', Buffer.from(await doc.save()), 'scan.pdf');
    expect(reg.status, JSON.stringify(reg.body)).to.equal(201);
    incomingId = reg.body.id;
    await as('penandatangan').post(`/api/v1/incoming/${incomingId}/disposisi`).send({ to: ['pemeriksa2', 'staf1'], instructions: ['tindak_lanjuti'], dueDate: '2020-01-31' }).expect(201);
    await as('penandatangan').post(`/api/v1/incoming/${incomingId}/disposisi`).send({ to: ['konseptor'], instructions: ['pelajari'], dueDate: '2999-12-31' }).expect(201);
  });
  after(async () => env?.close());

  it('shows a leader letters per unit and month, created and signed, with Indonesian month names', async () => {
    const res = await page('penandatangan');
    expect(res.status).to.equal(200);
    const html = res.text;
    expect(html).to.contain('<a href="/dasbor" class="active">Dasbor</a>');
    const monthName = (ym: string) => new Intl.DateTimeFormat('id-ID', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(ym + '-01T00:00:00Z'));
    // Totals per month over the Kepala Dinas's tree (DKIS and its sub-units).
    expect(row(html, 'letters-per-month', `data-month="${M2}"`)).to.deep.equal([monthName(M2), '2', '1']);
    expect(row(html, 'letters-per-month', `data-month="${M1}"`)).to.deep.equal([monthName(M1), '2', '3']);
    expect(row(html, 'letters-per-month', `data-month="${M0}"`)).to.deep.equal([monthName(M0), '2', '0']);
    expect(tableRows(html, 'letters-per-month')).to.have.length(12 + 2);
    // Per unit: "created / signed" in each month.
    const pa = tableRows(html, 'letters-per-unit').find((r) => r.attrs.includes(`data-unit="${PA}"`))!;
    expect(pa.cells[0]).to.equal('Seksi Pengembangan Aplikasi (DKIS.APTIKA.PA)');
    expect(pa.cells.slice(-3)).to.deep.equal(['2 / 1', '1 / 2', '1 / 0']);
    const aptika = tableRows(html, 'letters-per-unit').find((r) => r.attrs.includes(`data-unit="${APTIKA}"`))!;
    expect(aptika.cells.slice(-3)).to.deep.equal(['-', '1 / 1', '1 / 0']);
    // Dinas Pendidikan is not in his tree.
    expect(html).to.not.contain(`data-unit="${KUR}"`);
    expect(html).to.contain('Periode ' + monthName(monthBack(11)) + ' s.d. ' + monthName(M0));
  });

  it('draws the charts as inline SVG with a title, a description and a viewBox, and no script of its own', async () => {
    const html = (await page('penandatangan')).text;
    for (const id of ['chart-letters', 'chart-durations', 'chart-tte', 'chart-overdue']) {
      expect(html).to.match(new RegExp(`<svg viewBox="0 0 \\d+ \\d+" width="100%" role="img" aria-labelledby="${id}-title ${id}-desc"`));
    }
    expect(html).to.contain('<title id="chart-letters-title">Surat per unit dan bulan</title>');
    expect(html).to.match(/<rect class="chart-bar chart-s0"[^>]*><title>[^<]+ · Dibuat: 2<\/title><\/rect>/);
    expect(html.match(/<script/g)).to.have.length(1);
  });

  it('shows the mean and median time from draft to signature, and per approval step', async () => {
    const html = (await page('penandatangan')).text;
    // Seksi: 48, 24 and 96 hours: mean 56 h, median 48 h. Bidang: 30 h. All: mean 49.5 h, median 39 h.
    expect(row(html, 'draft-to-signature', `data-unit="${PA}"`)).to.deep.equal(['Seksi Pengembangan Aplikasi (DKIS.APTIKA.PA)', '3', '2 hari 8 jam', '2 hari']);
    expect(row(html, 'draft-to-signature', `data-unit="${APTIKA}"`)).to.deep.equal(['Bidang Aplikasi Informatika (DKIS.APTIKA)', '1', '1 hari 6 jam', '1 hari 6 jam']);
    expect(row(html, 'draft-to-signature', 'data-unit=""')).to.deep.equal(['Jumlah', '4', '2 hari 1 jam', '1 hari 15 jam']);
    // Paraf 1: 2, 1, 4 h; paraf 2: 3, 2, 4 h; the signature after the last paraf: 42, 20, 87 h.
    expect(row(html, 'steps', `data-unit="${PA}" data-step="1"`)).to.deep.equal(['Seksi Pengembangan Aplikasi (DKIS.APTIKA.PA)', 'Paraf ke-1', '3', '2 jam 20 menit', '2 jam']);
    expect(row(html, 'steps', `data-unit="${PA}" data-step="2"`)?.slice(1)).to.deep.equal(['Paraf ke-2', '3', '3 jam', '3 jam']);
    expect(row(html, 'steps', `data-unit="${PA}" data-step="0"`)?.slice(1)).to.deep.equal(['Tanda tangan', '3', '2 hari 1 jam', '1 hari 18 jam']);
    expect(row(html, 'steps', `data-unit="${APTIKA}" data-step="0"`)?.slice(1)).to.deep.equal(['Tanda tangan', '1', '1 hari 4 jam', '1 hari 4 jam']);
  });

  it('shows the share signed electronically over all outgoing numbers issued, voided ones included', async () => {
    const html = (await page('penandatangan')).text;
    expect(row(html, 'tte', `data-unit="${PA}"`)).to.deep.equal(['Seksi Pengembangan Aplikasi (DKIS.APTIKA.PA)', '3', '1', '3', '0', '100%']);
    expect(row(html, 'tte', 'data-unit=""')).to.deep.equal(['Jumlah', '4', '1', '4', '0', '100%']);
    expect(html).to.contain('termasuk nomor yang kemudian dibatalkan');
  });

  it('shows the overdue disposisi per unit and in a list, linking the letter only for those who may open it', async () => {
    const head = (await page('penandatangan')).text;
    expect(row(head, 'overdue', `data-unit="${PA}"`)).to.deep.equal(['Seksi Pengembangan Aplikasi (DKIS.APTIKA.PA)', '1']);
    expect(row(head, 'overdue', `data-unit="${APTIKA}"`)).to.deep.equal(['Bidang Aplikasi Informatika (DKIS.APTIKA)', '1']);
    expect(row(head, 'overdue', 'data-unit=""')).to.deep.equal(['Jumlah', '2']);
    const list = tableRows(head, 'overdue-list').slice(1);
    expect(list).to.have.length(2);
    expect(list.map((r) => r.cells[2]).sort()).to.deep.equal(['Ir. Siti Nurhaliza, M.Si.', 'Yusuf Maulana, S.Kom.']);
    expect(list[0].cells[4]).to.equal('31 Jan 2020');
    expect(head).to.contain(`<a href="/surat-masuk/${incomingId}">Rapat Keamanan Informasi Rahasia Dagang</a>`);
    // The auditor reports on everything but is not involved in the letter: no link, no subject.
    const auditor = (await page('auditor')).text;
    expect(row(auditor, 'overdue', 'data-unit=""')).to.deep.equal(['Jumlah', '2']);
    expect(auditor).to.not.contain('Rapat Keamanan Informasi Rahasia Dagang').and.to.not.contain(`/surat-masuk/${incomingId}`);
    expect(auditor).to.contain('Tidak ditampilkan: Anda tidak berhak melihat surat ini');
  });

  it('exports each figure as CSV with the same numbers: UTF-8 with a BOM, Indonesian headers, the same filters', async () => {
    const letters = await page('penandatangan', '/dasbor/surat-per-bulan.csv').buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(letters.status).to.equal(200);
    expect(letters.headers['content-type']).to.equal('text/csv; charset=utf-8');
    expect(letters.headers['content-disposition']).to.equal(`attachment; filename="dasbor-surat-per-bulan-${monthBack(11)}-${M0}-unit${unitId.DKIS}.csv"`);
    const bytes = letters.body as Buffer;
    expect([...bytes.subarray(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf]);
    const rows = parseCsv(bytes.toString('utf8').slice(1));
    expect(rows[0]).to.deep.equal(['Kode unit', 'Unit kerja', 'Bulan', 'Nama bulan', 'Dibuat', 'Ditandatangani']);
    const pick = (unit: string, m: string) => rows.find((r) => r[0] === unit && r[2] === m)?.slice(4);
    expect(pick(PA, M2)).to.deep.equal(['2', '1']);
    expect(pick(PA, M1)).to.deep.equal(['1', '2']);
    expect(pick(APTIKA, M1)).to.deep.equal(['1', '1']);
    expect(rows.some((r) => r[0] === KUR)).to.equal(false);

    const text = async (url: string) => parseCsv((await page('penandatangan', url).expect(200)).text.replace(/^\ufeff/, ''));
    const durations = await text('/dasbor/waktu-tanda-tangan.csv');
    expect(durations[0]).to.deep.equal(['Kode unit', 'Unit kerja', 'Surat', 'Rata-rata (menit)', 'Median (menit)']);
    expect(durations.find((r) => r[0] === PA)?.slice(2)).to.deep.equal(['3', String(56 * 60), String(48 * 60)]);
    expect(durations.find((r) => r[1] === 'Jumlah')?.slice(2)).to.deep.equal(['4', String(49.5 * 60), String(39 * 60)]);
    const steps = await text('/dasbor/waktu-per-tahap.csv');
    expect(steps.find((r) => r[0] === PA && r[2] === 'Paraf ke-1')?.slice(3)).to.deep.equal(['3', '140', '120']);
    const tte = await text('/dasbor/tte.csv');
    expect(tte.find((r) => r[1] === 'Jumlah')?.slice(2)).to.deep.equal(['4', '1', '4', '0', '100']);
    const overdue = await text('/dasbor/disposisi-terlambat.csv');
    expect(overdue.slice(1)).to.deep.equal([[APTIKA, 'Bidang Aplikasi Informatika', '1'], [PA, 'Seksi Pengembangan Aplikasi', '1'], ['', 'Jumlah', '2']]);
    // The same filters: only last month.
    const one = await text(`/dasbor/surat-per-bulan.csv?from=${M1}&to=${M1}`);
    expect(one.slice(1).map((r) => [r[0], r[2], r[4], r[5]])).to.deep.equal([[APTIKA, M1, '1', '1'], [PA, M1, '1', '2']]);
  });

  it('gives the same figures as JSON at /api/v1/reports/dashboard', async () => {
    const res = await as('penandatangan').get(`/api/v1/reports/dashboard?from=${M2}&to=${M0}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.period).to.deep.equal({ from: M2, to: M0, months: [M2, M1, M0] });
    expect(res.body.unit).to.include({ code: 'DKIS' });
    expect(res.body.letters.perMonth).to.deep.equal([{ month: M2, created: 2, signed: 1 }, { month: M1, created: 2, signed: 3 }, { month: M0, created: 2, signed: 0 }]);
    expect(res.body.draftToSignature.total).to.deep.equal({ count: 4, meanSeconds: 49.5 * 3600, medianSeconds: 39 * 3600 });
    expect(res.body.electronic.total).to.deep.equal({ issued: 4, voided: 1, electronic: 4, imported: 0, share: 100 });
    expect(res.body.overdue.total).to.deep.equal({ count: 2 });
    expect(res.body.overdue.items.map((x: { incomingId: string }) => x.incomingId)).to.deep.equal([incomingId, incomingId]);
  });

  it('lets the whole organisation be seen by admin and auditor, and narrowed to a unit and its sub-units', async () => {
    const admin = (await page('admin')).text;
    expect(row(admin, 'letters-per-unit', `data-unit="${KUR}"`)?.slice(-1)).to.deep.equal(['1 / 0']);
    expect(admin).to.contain('Seluruh organisasi');
    const narrowed = (await page('admin', `/dasbor?unit=${unitId.DKIS}&from=${M2}&to=${M0}`)).text;
    expect(narrowed).to.not.contain(`data-unit="${KUR}"`);
    const disdik = await as('auditor').get(`/api/v1/reports/dashboard?unit=${unitId.DISDIK}`).expect(200);
    expect(disdik.body.letters.rows.map((r: { unitCode: string }) => r.unitCode)).to.deep.equal([KUR]);
    const seksi = (await page('penandatangan', `/dasbor?unit=${unitId[PA]}`)).text;
    expect(seksi).to.not.contain(`data-unit="${APTIKA}"`);
    expect(row(seksi, 'tte', 'data-unit=""')?.slice(1)).to.deep.equal(['3', '1', '3', '0', '100%']);
  });

  it('refuses a unit outside the leader\'s own subtree (403), on the page, the CSV and the API', async () => {
    const pageRes = await page('penandatangan', `/dasbor?unit=${unitId.DISDIK}`);
    expect(pageRes.status).to.equal(403);
    expect(pageRes.text).to.contain('Unit ini di luar unit dan sub-unit yang boleh Anda laporkan.');
    await page('penandatangan', `/dasbor/tte.csv?unit=${unitId[KUR]}`).expect(403);
    const api = await as('penandatangan').get(`/api/v1/reports/dashboard?unit=${unitId.PEMPROV}`);
    expect(api.status).to.equal(403);
    expect(api.body.error.message).to.equal('Unit ini di luar unit dan sub-unit yang boleh Anda laporkan.');
  });

  it('refuses staff (403) on the page, every CSV and the API, and shows them no menu link', async () => {
    expect((await page('staf1', '/')).text).to.not.contain('href="/dasbor"');
    const res = await page('staf1');
    expect(res.status).to.equal(403);
    expect(res.text).to.not.contain('data-figure');
    for (const f of ['surat-per-bulan', 'waktu-tanda-tangan', 'waktu-per-tahap', 'tte', 'disposisi-terlambat']) await page('staf1', `/dasbor/${f}.csv`).expect(403);
    await as('staf1').get('/api/v1/reports/dashboard').expect(403);
    await page('penandatangan', '/dasbor/tidak-ada.csv').expect(404);
  });

  it('times each paraf from when it became current; the first paraf of a returned round has no start and is left out', async () => {
    // Round 1: paraf at 2 h, returned by the Kabid at 5 h; resubmitted at 10 h; round 2: paraf at 11 h and 13 h; signed at 20 h.
    const id = await create('konseptor', 'Surat yang dikembalikan');
    await as('konseptor').post(`/api/v1/letters/${id}/submit`).send({}).expect(200);
    await as('pemeriksa1').post(`/api/v1/letters/${id}/approve`).send({ version: 1 }).expect(200);
    await as('pemeriksa2').post(`/api/v1/letters/${id}/return`).send({ note: 'Perbaiki.' }).expect(200);
    await as('konseptor').post(`/api/v1/letters/${id}/submit`).send({}).expect(200);
    await as('pemeriksa1').post(`/api/v1/letters/${id}/approve`).send({ version: 1 }).expect(200);
    await as('pemeriksa2').post(`/api/v1/letters/${id}/approve`).send({ version: 1 }).expect(200);
    await sign(id);
    const created = wib(M1, 12, 8);
    const at = (h: number) => new Date(created.getTime() + h * HOUR);
    const q = (text: string, values: unknown[]) => env.ctx.dbHandle.pool.query(text, values);
    await q('UPDATE letters SET created_at = $2, submitted_at = $3, approved_at = $4, signed_at = $5 WHERE id = $1', [id, created, at(10), at(13), at(20)]);
    for (const [round, ord, h] of [[1, 1, 2], [1, 2, 5], [2, 1, 11], [2, 2, 13]]) await q('UPDATE approval_steps SET acted_at = $4 WHERE letter_id = $1 AND round = $2 AND ord = $3', [id, round, ord, at(h)]);
    await q('UPDATE letter_signatures SET signed_at = $2 WHERE letter_id = $1', [id, at(20)]);
    await q('UPDATE issued_numbers SET issued_at = $2 WHERE letter_id = $1', [id, at(20)]);

    const res = await as('penandatangan').get(`/api/v1/reports/dashboard?unit=${unitId[PA]}`).expect(200);
    const step = (n: number) => res.body.steps.units.find((x: { step: number }) => x.step === n);
    // Paraf 1: 2, 1, 4 h before, now also round 2's 1 h (round 1's has no start). Paraf 2: 3, 2, 4 h, the return after 3 h, round 2's 2 h.
    expect(step(1)).to.include({ count: 4, meanSeconds: 2 * 3600, medianSeconds: 1.5 * 3600 });
    expect(step(2)).to.include({ count: 5, meanSeconds: 2.8 * 3600, medianSeconds: 3 * 3600 });
    expect(step(0)).to.include({ count: 4 });
  });

  it('answers bad filters with a clear Indonesian message, never a server error', async () => {
    const long = 'x'.repeat(10_000);
    const cases: [string, string][] = [
      ['from=2026-13', 'Bulan harus berformat TTTT-BB'],
      ['to=26-01', 'Bulan harus berformat TTTT-BB'],
      [`from=${long}`, 'Bulan harus berformat TTTT-BB'],
      ['from=2026-01&from=2026-02', 'Bulan harus berformat TTTT-BB'],
      [`from=${M0}&to=${M2}`, 'Bulan awal harus sebelum atau sama dengan bulan akhir'],
      ['from=2001-01&to=2026-01', 'paling panjang 60 bulan'],
      ['unit=abc', 'Unit kerja tidak dikenal.'],
      ['unit=999999999', 'Unit kerja tidak dikenal.'],
      [`unit=${long}`, 'Unit kerja tidak dikenal.'],
    ];
    for (const [q, message] of cases) {
      const res = await page('admin', `/dasbor?${q}`);
      expect(res.status, q.slice(0, 40)).to.equal(400);
      expect(res.text, q.slice(0, 40)).to.contain(message).and.to.contain('name="from"');
      expect(res.text).to.not.contain(long);
      const api = await as('admin').get(`/api/v1/reports/dashboard?${q}`);
      expect(api.status, q.slice(0, 40)).to.equal(400);
      expect(api.body.error.message, q.slice(0, 40)).to.contain(message);
      await page('admin', `/dasbor/tte.csv?${q}`).expect(400);
    }
  });
});
