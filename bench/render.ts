// bench/render: renderLetterPdf for a one-page and a three-page Surat Dinas
// (Arimo subsets, a list, a table), each as a ratio to PDFDocument.create() +
// save() of an empty page measured in the same run. `npm run bench:render`
// (SECONDS=N per case, default 2).
import { PDFDocument } from 'pdf-lib';
import { renderLetterPdf, type LetterRenderModel } from '../server/modules/letters/render.js';
import { quantile, timedLoop } from './support.js';

const SECONDS = Number(process.env.SECONDS ?? 2);

const paragraph =
  '<p>Sehubungan dengan pelaksanaan <strong>Sistem Pemerintahan Berbasis Elektronik</strong> di lingkungan Pemerintah Provinsi Sukamaju, ' +
  'dengan ini kami sampaikan bahwa penggunaan aplikasi <em>Tata Naskah Dinas Elektronik</em> (TNDE) wajib bagi seluruh Perangkat Daerah ' +
  'mulai 1 Januari 2027, termasuk penomoran, paraf hierarki dan tanda tangan elektronik yang diterbitkan oleh BSrE.</p>';
const list = '<ol><li>menunjuk admin aplikasi di setiap Perangkat Daerah;</li><li>mendaftarkan sertifikat elektronik pejabat penandatangan;</li><li>melaporkan kendala kepada Dinas Komunikasi, Informatika dan Statistik.</li></ol>';
const table = '<table><tr><th>No</th><th>Kegiatan</th><th>Waktu</th></tr><tr><td>1</td><td>Sosialisasi</td><td>Desember 2026</td></tr><tr><td>2</td><td>Uji coba terbatas</td><td>Januari 2027</td></tr></table>';

const base: LetterRenderModel = {
  paper: 'A4',
  letterhead: { government: 'PEMERINTAH PROVINSI SUKAMAJU', agency: 'DINAS KOMUNIKASI, INFORMATIKA DAN STATISTIK', address: ['Jl. Pahlawan No. 10, Kota Sukamaju 12346', 'Telepon (0711) 123456, Pos-el dkis@sukamaju.go.id', 'Laman sukamaju.go.id'] },
  kindName: 'Surat Dinas',
  kindCode: 'SD',
  place: 'Sukamaju',
  date: null,
  number: null,
  urgency: 'Segera',
  securityClass: 'Biasa',
  attachmentsCount: 1,
  subject: 'Penerapan Tata Naskah Dinas Elektronik',
  to: ['Kepala Dinas Pendidikan'],
  cc: ['Gubernur Sukamaju', 'Sekretaris Daerah'],
  bodyHtml: paragraph + list + table + paragraph,
  signer: { prefixLine: null, positionTitle: 'Kepala Dinas Komunikasi, Informatika dan Statistik', name: 'Dr. Bambang Wijaya, S.Sos., M.Si.', nip: '197002141995031005' },
  draft: true,
  producedAt: new Date('2026-11-29T02:00:00Z'),
};
const threePages: LetterRenderModel = { ...base, bodyHtml: (paragraph + list + table).repeat(6) + paragraph };

// Warm-up of 30 calls: JIT, font parsing.
const loop = async (fn: () => Promise<unknown>) => (await timedLoop(SECONDS, fn, 30)).ms;

async function pages(bytes: Uint8Array) {
  return (await PDFDocument.load(bytes)).getPageCount();
}

const empty = await loop(async () => {
  const doc = await PDFDocument.create();
  doc.addPage([595.28, 841.89]);
  return doc.save({ useObjectStreams: false });
});
const refMedian = quantile(empty, 0.5);
const rows = [{ name: 'empty page (reference)', pages: 1, median_ms: refMedian.toFixed(2), p95_ms: quantile(empty, 0.95).toFixed(2), ratio: '1.0x' }];
for (const [name, model] of [['letter, 1 page', base], ['letter, 3 pages', threePages]] as const) {
  const ms = await loop(() => renderLetterPdf(model));
  const med = quantile(ms, 0.5);
  rows.push({ name, pages: await pages(await renderLetterPdf(model)), median_ms: med.toFixed(2), p95_ms: quantile(ms, 0.95).toFixed(2), ratio: `${(med / refMedian).toFixed(1)}x` });
}
console.table(rows);
