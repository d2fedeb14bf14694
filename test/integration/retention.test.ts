// Retention (JRA): each signed record's dates follow from its classification
// code; the archivist's home lists what is due (to inactive, for destruction,
// for permanent transfer, to re-evaluate, retention not set) with counts,
// filters, paging and CSV; the transfers are recorded and audited.
import { expect } from 'chai';
import { startTestEnv, snapshotCounts, type TestEnv, type LoggedInAgent } from '../support/harness.js';
import { loadCurrentUser, type CurrentUser } from '../../server/platform/auth/current-user.js';
import { apiAs, backdate, signedRecord, type SignedRecord } from '../support/records.js';
import { dueList } from '../../server/modules/archive/service.js';

describe('retention: due lists and transfers', function () {
  this.timeout(120_000);
  let env: TestEnv;
  let api: ReturnType<typeof apiAs>;
  let archivist: CurrentUser;
  let page: LoggedInAgent;
  let meeting: SignedRecord; // 000.1.5: 2 years active + 4 inactive, musnah
  let policy: SignedRecord; // 000.5.1: 2 + 3, permanen
  let other: SignedRecord;
  const page1 = { size: 25, offset: 0 };
  const ids = (items: { id: string | number }[]) => items.map((i) => String(i.id));
  const post = async (url: string, fields: Record<string, string | string[]>) => page.agent.post(url).type('form').send({ _csrf: await page.csrf(), ...fields });

  before(async () => {
    env = await startTestEnv();
    api = apiAs(env);
    page = await env.loginAs('arsiparis');
    const u = await env.ctx.db.selectFrom('users').select('id').where('username', '=', 'arsiparis').executeTakeFirstOrThrow();
    archivist = (await loadCurrentUser(env.ctx.db, String(u.id), 'session', null))!;
    meeting = await signedRecord(env, { subject: 'Notula rapat pimpinan triwulan I' });
    policy = await signedRecord(env, { subject: 'Kebijakan kearsipan daerah', code: '000.5.1' });
    other = await signedRecord(env, { subject: 'Notula rapat koordinasi SPBE' });
    await backdate(env, meeting.recordId, '2020-03-10');
    await backdate(env, policy.recordId, '2020-03-10');
    await backdate(env, other.recordId, '2025-07-01');
  });
  after(() => env?.close());

  it('moves a record through the lists as the clock moves: active, due to inactive, due for destruction', async () => {
    const at = async (date: string, list: 'inactive' | 'destroy') => ids((await dueList(env.ctx, archivist, list, {}, page1, new Date(`${date}T05:00:00Z`))).items);
    expect(await at('2022-03-09', 'inactive')).to.not.include(meeting.recordId);
    expect(await at('2022-03-10', 'inactive')).to.include(meeting.recordId);
    expect(await at('2026-03-09', 'destroy')).to.not.include(meeting.recordId);
    expect(await at('2026-03-10', 'destroy')).to.include(meeting.recordId);
    const out = await dueList(env.ctx, archivist, 'destroy', {}, page1, new Date('2026-03-10T05:00:00Z'));
    const row = out.items.find((i) => String(i.id) === meeting.recordId)!;
    expect(row).to.include({ record_date: '2020-03-10', active_until: '2022-03-10', retention_until: '2026-03-10', final_fate: 'musnah', held: false });
  });

  it("shows the archivist's home with a count per list, filters, paging and CSV", async () => {
    const home = await page.agent.get('/');
    expect(home.text).to.contain('href="/arsip"');
    const res = await page.agent.get('/arsip?daftar=destroy');
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('Usul musnah').and.contain('Serah permanen').and.contain('Retensi belum ditetapkan').and.contain('Kode klasifikasi');
    expect(res.text).to.contain(meeting.number).and.not.contain(other.number).and.not.contain(policy.number);
    expect(res.text).to.match(/data-count="destroy">1</);
    expect(res.text).to.match(/data-count="permanent">1</);
    expect((await page.agent.get('/arsip?daftar=destroy&unit=DISDIK')).text).to.match(/data-count="destroy">0</);
    expect((await page.agent.get('/arsip?daftar=destroy&unit=DKIS')).text).to.match(/data-count="destroy">1</);
    expect((await page.agent.get('/arsip?daftar=destroy&code=000.5')).text).to.match(/data-count="destroy">0</);
    expect((await page.agent.get('/arsip?daftar=destroy&code=000.1')).text).to.match(/data-count="destroy">1</);
    expect((await page.agent.get('/arsip?daftar=destroy&year=2021')).text).to.match(/data-count="destroy">0</);
    const bad = await page.agent.get('/arsip?daftar=destroy&unit=TIDAKADA');
    expect(bad.status).to.equal(400);
    expect(bad.text).to.contain('Unit dengan kode itu tidak ada.');
    const inactive = await page.agent.get('/arsip?daftar=inactive&size=1');
    expect(inactive.text).to.contain('Halaman 1 dari 2');
    const csv = await page.agent.get('/arsip/jatuh-tempo.csv?daftar=destroy');
    expect(csv.status).to.equal(200);
    expect(csv.headers['content-type']).to.contain('text/csv');
    expect(csv.text).to.contain('Nomor,Tanggal,Hal').and.contain(`${meeting.number},2020-03-10,Notula rapat pimpinan triwulan I`).and.contain('2026-03-10');
  });

  it('gives the same lists over the API', async () => {
    const res = await api.get('arsiparis', '/api/v1/archive/due?list=permanent');
    expect(res.status).to.equal(200);
    expect(res.body.counts).to.include({ permanent: 1, destroy: 1 });
    expect(res.body.items).to.have.length(1);
    expect(res.body.items[0]).to.deep.include({ id: policy.recordId, number: policy.number, recordDate: '2020-03-10' });
    expect(res.body.items[0].retention).to.include({ activeYears: 2, inactiveYears: 3, finalFate: 'permanen', retentionUntil: '2025-03-10' });
  });

  it('moves due records to inactive with the date and the archivist, audited; a record not due refuses the batch', async () => {
    const before = await snapshotCounts(env.ctx, ['audit_log']);
    const refused = await post('/arsip/pindah-inaktif', { ids: [meeting.recordId, other.recordId], next: '/arsip?daftar=inactive' });
    expect(refused.status).to.equal(303);
    expect((await page.agent.get(refused.headers.location)).text).to.contain(`Arsip ${other.number} belum habis masa aktifnya`);
    expect(await snapshotCounts(env.ctx, ['audit_log'])).to.deep.equal(before);
    expect((await env.ctx.db.selectFrom('records').select('inactive_at').where('id', '=', meeting.recordId).executeTakeFirstOrThrow()).inactive_at).to.equal(null);

    const ok = await post('/arsip/pindah-inaktif', { ids: [meeting.recordId], next: '/arsip?daftar=inactive' });
    expect((await page.agent.get(ok.headers.location)).text).to.contain('1 arsip dipindahkan ke inaktif.');
    const rec = await env.ctx.db.selectFrom('records').select(['inactive_at', 'inactive_by']).where('id', '=', meeting.recordId).executeTakeFirstOrThrow();
    expect(rec.inactive_at).to.not.equal(null);
    expect(String(rec.inactive_by)).to.equal(archivist.id);
    const audit = await env.ctx.db.selectFrom('audit_log').select(['actor_name', 'object_id']).where('action', '=', 'record.moved_inactive').execute();
    expect(audit).to.deep.equal([{ actor_name: archivist.username, object_id: meeting.recordId }]);
    expect(ids((await api.get('arsiparis', '/api/v1/archive/due?list=inactive')).body.items)).to.not.include(meeting.recordId);
  });

  it('records a permanent transfer with its note; it leaves the list', async () => {
    const noNote = await api.post('arsiparis', `/api/v1/archive/records/${policy.recordId}/permanent`, { note: ' ' });
    expect(noNote.status).to.equal(400);
    const notPermanent = await api.post('arsiparis', `/api/v1/archive/records/${meeting.recordId}/permanent`, { note: 'BA serah terima 12/2026' });
    expect(notPermanent.status).to.equal(409);
    const ok = await api.post('arsiparis', `/api/v1/archive/records/${policy.recordId}/permanent`, { note: 'BA serah terima 12/2026 ke Dinas Perpustakaan dan Kearsipan' });
    expect(ok.status).to.equal(204);
    const rec = await api.get('arsiparis', `/api/v1/archive/records/${policy.recordId}`);
    expect(rec.body.phase).to.equal('transferred');
    expect(rec.body.permanent.note).to.contain('BA serah terima');
    expect((await api.get('arsiparis', '/api/v1/archive/due?list=permanent')).body.total).to.equal(0);
  });

  it('lists records whose code has no retention as "retensi belum ditetapkan", and re-evaluation by fate', async () => {
    await env.ctx.db.updateTable('records').set({ classification_code: '000.5' }).where('id', '=', other.recordId).execute();
    const unset = await page.agent.get('/arsip?daftar=unset');
    expect(unset.text).to.contain(other.number).and.contain('tidak memiliki retensi lengkap');
    await env.ctx.db.updateTable('classification_codes').set({ final_fate: 'dinilai_kembali' }).where('code', '=', '000.1.5').execute();
    const review = await api.get('arsiparis', '/api/v1/archive/due?list=review');
    expect(ids(review.body.items)).to.deep.equal([meeting.recordId]);
    expect(review.body.counts.destroy).to.equal(0);
  });

  it('shows the record with its retention and hold on the archivist’s record page', async () => {
    const res = await page.agent.get(`/arsip/item/${meeting.recordId}`);
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('Tahap retensi').and.contain('2022-03-10').and.contain('Dipindahkan ke inaktif');
    expect((await page.agent.get('/arsip/item/999999')).status).to.equal(404);
  });
});
