import { expect } from 'chai';
import { startTestEnv, snapshotCounts, csrfFrom, type TestEnv, bearerClient } from '../support/harness.js';

describe('archival classification codes (kode klasifikasi arsip)', () => {
  let env: TestEnv;
  const tokens: Record<string, string> = {};
  const as = (who: string) => bearerClient(env.app, tokens[who]);
  const codesVisibleToDrafters = async () => (await as('konseptor').get('/api/v1/classification-codes').expect(200)).body.items as { code: string; name: string; parentCode: string }[];

  before(async () => {
    env = await startTestEnv();
    for (const u of ['admin', 'arsiparis', 'konseptor']) tokens[u] = await env.tokenFor(u);
  });
  after(() => env.close());

  it('lets an archivist add a code under 000.1; drafters can then choose it', async () => {
    const res = await as('arsiparis').post('/api/v1/classification-codes').send({
      code: '000.1.11', name: 'Layanan Pengaduan Daring', retentionActiveYears: 2, retentionInactiveYears: 3, finalFate: 'musnah',
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.include({ code: '000.1.11', parentCode: '000.1', retentionActiveYears: 2, finalFate: 'musnah', active: true });
    expect(res.body.warnings).to.deep.equal([]);
    const listed = (await codesVisibleToDrafters()).find((c) => c.code === '000.1.11');
    expect(listed).to.include({ name: 'Layanan Pengaduan Daring', parentCode: '000.1' });
  });

  it('adds a code through the page, in tree order, and warns (without refusing) when a leaf has no retention', async () => {
    const { agent } = await env.loginAs('arsiparis');
    const form = await agent.get('/admin/klasifikasi/baru?parent=000.9').expect(200);
    expect(form.text).to.contain('value="000.9."');
    const created = await agent.post('/admin/klasifikasi').type('form').send({ _csrf: csrfFrom(form.text), code: '000.9.3', name: 'Survei Kepuasan Masyarakat', parentCode: '', retentionActiveYears: '', retentionInactiveYears: '', finalFate: '' });
    expect(created.status).to.equal(303);
    expect(created.headers.location).to.equal('/admin/klasifikasi/000.9.3');
    const page = await agent.get('/admin/klasifikasi/000.9.3').expect(200);
    expect(page.text).to.contain('Kode klasifikasi 000.9.3 ditambahkan.');
    expect(page.text).to.contain('belum memiliki retensi lengkap');

    const list = await agent.get('/admin/klasifikasi?q=000.9').expect(200);
    const order = ['000.9<', '000.9.2<', '000.9.3<', '000.9.10<'].map((c) => list.text.indexOf(c));
    expect(order.every((i) => i > 0)).to.equal(true);
    expect(order).to.deep.equal([...order].sort((a, b) => a - b));
    expect(list.text).to.contain('Survei Kepuasan Masyarakat');
    expect(list.text).to.contain('retensi belum diisi');
    // An archivist reaches the scheme from the main menu's "Arsip" (a tab of /arsip), and sees no other administration tab.
    expect(list.text).to.contain('<a href="/arsip" class="active">Arsip</a>');
    expect(list.text).to.not.contain('/admin/jenis-naskah');
  });

  it('refuses a bad code, a missing parent and a wrong parent with 400 and Indonesian field messages', async () => {
    const before = await snapshotCounts(env.ctx, ['classification_codes', 'audit_log']);
    const bad = await as('admin').post('/api/v1/classification-codes').send({ code: '000.1.x', name: 'Salah', retentionActiveYears: 101, finalFate: 'dibakar' });
    expect(bad.status).to.equal(400);
    const byField = Object.fromEntries(bad.body.error.details.map((d: { field: string; message: string }) => [d.field, d.message]));
    expect(byField.code).to.contain('Kode harus tiga angka');
    expect(byField.retentionActiveYears).to.equal('Isi jumlah tahun 0 sampai 100, atau kosongkan.');
    expect(byField.finalFate).to.contain('Pilih Musnah, Permanen atau Dinilai kembali');

    const orphan = await as('admin').post('/api/v1/classification-codes').send({ code: '000.1.9.1', name: 'Tanpa induk' });
    expect(orphan.status).to.equal(400);
    expect(orphan.body.error.details).to.deep.equal([{ field: 'parentCode', message: 'Kode induknya belum ada. Tambahkan kode induk terlebih dahulu.' }]);

    const wrong = await as('admin').post('/api/v1/classification-codes').send({ code: '000.1.12', parentCode: '000.2', name: 'Induk keliru' });
    expect(wrong.status).to.equal(400);
    expect(wrong.body.error.details[0]).to.include({ field: 'parentCode' });
    expect(wrong.body.error.details[0].message).to.contain('kode tanpa bagian terakhirnya');

    const taken = await as('admin').post('/api/v1/classification-codes').send({ code: '000.1.5', name: 'Sudah ada' });
    expect(taken.status).to.equal(409);
    expect(taken.body.error.message).to.equal('Kode klasifikasi 000.1.5 sudah ada.');
    expect(await snapshotCounts(env.ctx, ['classification_codes', 'audit_log'])).to.deep.equal(before);
  });

  it('shows a refused page form again with the input and the field message', async () => {
    const { agent } = await env.loginAs('admin');
    const form = await agent.get('/admin/klasifikasi/baru').expect(200);
    const res = await agent.post('/admin/klasifikasi').type('form').send({ _csrf: csrfFrom(form.text), code: '000.1.9.1', name: 'Tanpa induk <b>x</b>', parentCode: '', retentionActiveYears: '2', retentionInactiveYears: '', finalFate: '' });
    expect(res.status).to.equal(400);
    expect(res.text).to.contain('Kode induknya belum ada.');
    expect(res.text).to.contain('Tanpa induk &lt;b&gt;x&lt;/b&gt;');
  });

  it('refuses a drafter (403) on the API and the pages, and changes nothing', async () => {
    const before = await snapshotCounts(env.ctx, ['classification_codes']);
    const create = await as('konseptor').post('/api/v1/classification-codes').send({ code: '000.1.13', name: 'Tidak boleh' });
    expect(create.status).to.equal(403);
    const edit = await as('konseptor').patch('/api/v1/classification-codes/000.1.5').send({ name: 'Diubah konseptor' });
    expect(edit.status).to.equal(403);
    const { agent } = await env.loginAs('konseptor');
    await agent.get('/admin/klasifikasi').expect(403);
    expect(await snapshotCounts(env.ctx, ['classification_codes'])).to.deep.equal(before);
    const row = await env.ctx.db.selectFrom('classification_codes').select('name').where('code', '=', '000.1.5').executeTakeFirstOrThrow();
    expect(row.name).to.equal('Rapat Pimpinan antara lain: Notula/Risalah Rapat');
  });

  it('refuses deactivating a code that still has active sub-codes; a leaf can be deactivated and leaves the drafting list', async () => {
    const parent = await as('arsiparis').patch('/api/v1/classification-codes/000.1').send({ active: false });
    expect(parent.status).to.equal(400);
    expect(parent.body.error.message).to.equal('Kode ini masih memiliki kode turunan yang aktif. Nonaktifkan kode turunannya terlebih dahulu.');
    expect((await codesVisibleToDrafters()).map((c) => c.code)).to.include('000.1');

    const leaf = await as('arsiparis').patch('/api/v1/classification-codes/000.1.6').send({ active: false });
    expect(leaf.status).to.equal(200);
    expect(leaf.body.active).to.equal(false);
    expect((await codesVisibleToDrafters()).map((c) => c.code)).to.not.include('000.1.6');
  });

  it('keeps the code itself immutable', async () => {
    const res = await as('admin').patch('/api/v1/classification-codes/000.1.5').send({ code: '000.1.55' });
    expect(res.status).to.equal(400);
    expect(res.body.error.details[0]).to.deep.equal({ field: 'code', message: 'Kode tidak dapat diubah karena dirujuk oleh arsip dan naskah.' });
    await as('admin').patch('/api/v1/classification-codes/999.9').send({ name: 'x' }).expect(404);
  });

  it('records an edit in the audit trail with the changed fields only', async () => {
    const res = await as('arsiparis').patch('/api/v1/classification-codes/000.1.5').send({ name: 'Rapat Pimpinan (Notula/Risalah Rapat)', retentionActiveYears: 3, retentionInactiveYears: 4, finalFate: 'musnah' });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ name: 'Rapat Pimpinan (Notula/Risalah Rapat)', retentionActiveYears: 3 });
    const entry = await env.ctx.db
      .selectFrom('audit_log')
      .select(['actor_name', 'details', 'object_id'])
      .where('action', '=', 'classification.updated')
      .where('object_id', '=', '000.1.5')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    expect(entry.actor_name).to.equal('arsiparis');
    expect(entry.details).to.deep.equal({
      code: '000.1.5',
      changes: {
        name: { from: 'Rapat Pimpinan antara lain: Notula/Risalah Rapat', to: 'Rapat Pimpinan (Notula/Risalah Rapat)' },
        retentionActiveYears: { from: 2, to: 3 },
      },
    });
    const page = await (await env.loginAs('admin')).agent.get('/admin/klasifikasi?q=Rapat%20Pimpinan').expect(200);
    expect(page.text).to.contain('Rapat Pimpinan (Notula/Risalah Rapat)');
  });
});
