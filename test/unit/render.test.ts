// The letter renderer checked with poppler and qpdf: what a reader sees in the
// text, the paper size, page breaks, the KONSEP mark, the final QR code, and the
// embedded Arimo glyphs themselves.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { expect } from 'chai';
import fontkit from '@pdf-lib/fontkit';
import QRCode from 'qrcode';
import { PDFDict, PDFDocument, PDFName, PDFRawStream, decodePDFRawStream } from 'pdf-lib';
import { renderLetterPdf, formatDateId, lampiranText, type LetterRenderModel } from '../../server/modules/letters/render.js';
import { requireTools } from '../support/nss.js';

const STATEMENT = 'Dokumen ini telah ditandatangani secara elektronik menggunakan sertifikat elektronik yang diterbitkan oleh BSrE.';
const QR_URL = 'https://tnde.sukamaju.go.id/v/Zm9vYmFyYmF6cXV4';

const draft: LetterRenderModel = {
  paper: 'A4',
  letterhead: { government: 'PEMERINTAH PROVINSI SUKAMAJU', agency: 'DINAS PENDIDIKAN', address: ['Jl. Pendidikan No. 5, Kota Sukamaju 12347', 'Telepon (0711) 123456, Pos-el disdik@sukamaju.go.id'] },
  kindName: 'Surat Dinas',
  kindCode: 'SD',
  place: 'Sukamaju',
  date: null,
  number: null,
  urgency: 'Sangat Segera',
  securityClass: 'Biasa',
  attachmentsCount: 2,
  subject: 'Pelatihan Kurikulum Merdeka',
  to: ['Kepala SMA Negeri 1 Sukamaju', 'Kepala SMA Negeri 2 Sukamaju'],
  cc: ['Gubernur Sukamaju', 'Inspektur Daerah'],
  bodyHtml:
    '<p>Dengan hormat, kami mengundang guru <strong>Bahasa Indonesia</strong> ke pelatihan di <em>Kafe Édukasi</em> bersama narasumber Jürgen Müller.</p>' +
    '<ol><li>Hari: Senin</li><li>Tempat: Aula<ul><li>Gedung A</li></ul></li></ol>' +
    '<table><tr><th>No</th><th>Peserta</th></tr><tr><td>1</td><td>Guru kelas X</td></tr></table>',
  signer: { prefixLine: 'Plh. Kepala Dinas Pendidikan', positionTitle: '', name: 'Dra. Siti Nur\'aini, M.Si.', nip: '197001011990032001' },
  draft: true,
  producedAt: new Date('2026-11-29T03:00:00Z'),
};
const final: LetterRenderModel = { ...draft, draft: false, number: '400.3.5/27/DISDIK/2026', date: new Date('2026-11-28T20:00:00Z'), final: { qrUrl: QR_URL, statement: STATEMENT } };

describe('letter rendering (PDF)', () => {
  let dir: string;
  const files = new Map<string, string>();
  const write = async (name: string, model: LetterRenderModel) => {
    const file = path.join(dir, `${name}.pdf`);
    fs.writeFileSync(file, await renderLetterPdf(model));
    files.set(name, file);
    return file;
  };
  const text = (file: string, ...args: string[]) => execFileSync('pdftotext', [...args, '-layout', file, '-'], { encoding: 'utf8' });
  const info = (file: string) => execFileSync('pdfinfo', [file], { encoding: 'utf8' });

  before(async function () {
    requireTools(this, 'pdftotext', 'pdfinfo', 'qpdf');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-render-'));
    await write('draft', draft);
    await write('final', final);
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  it('prints the head, addressees, body with diacritics and the tembusan as text a reader can copy', () => {
    const t = text(files.get('draft')!);
    expect(t).to.contain('PEMERINTAH PROVINSI SUKAMAJU').and.contain('DINAS PENDIDIKAN');
    expect(t).to.match(/Nomor\s+: \.\.\.\.\.\./);
    expect(t).to.match(/Sifat\s+: Sangat Segera/);
    expect(t).to.match(/Lampiran\s+: 2 \(dua\) berkas/);
    expect(t).to.match(/Hal\s+: Pelatihan Kurikulum Merdeka/);
    expect(t).to.contain('Sukamaju, ........ 2026');
    expect(t).to.match(/Yth\. 1\. Kepala SMA Negeri 1 Sukamaju\n\s+2\. Kepala SMA Negeri 2 Sukamaju\ndi Tempat/);
    expect(t.replace(/\s+/g, ' ')).to.contain('ke pelatihan di Kafe Édukasi bersama narasumber Jürgen Müller.');
    expect(t).to.match(/1\.\s+Hari: Senin/).and.match(/–\s+Gedung A/);
    expect(t).to.match(/No\s+Peserta/);
    expect(t).to.contain('Plh. Kepala Dinas Pendidikan,').and.contain("Dra. Siti Nur'aini, M.Si.").and.contain('NIP. 19700101 199003 2 001');
    expect(t).to.match(/Tembusan:\n1\. Gubernur Sukamaju\n2\. Inspektur Daerah/);
  });

  it('marks a draft KONSEP and a final letter not, with its number, date, QR code and TTE statement', () => {
    expect(text(files.get('draft')!)).to.contain('KONSEP');
    const t = text(files.get('final')!);
    expect(t).to.not.contain('KONSEP');
    expect(t).to.contain('400.3.5/27/DISDIK/2026');
    // 20:00 UTC on the 28th is the 29th in Jakarta.
    expect(t).to.contain('Sukamaju, 29 November 2026');
    expect(t.replace(/\s+/g, ' ')).to.contain(STATEMENT);
  });

  it('draws the QR code of the verification URL, module for module', () => {
    const qdf = path.join(dir, 'final-qdf.pdf');
    execFileSync('qpdf', ['--qdf', '--object-streams=disable', files.get('final')!, qdf]);
    const rects = [...fs.readFileSync(qdf, 'latin1').matchAll(/^([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) re$/gm)].map((m) => m.slice(1, 5).map(Number));
    expect(rects.length).to.be.greaterThan(20);
    const cell = Math.min(...rects.map((r) => r[3]));
    const x0 = Math.min(...rects.map((r) => r[0]));
    const top = Math.max(...rects.map((r) => r[1] + r[3]));
    const expected = QRCode.create(QR_URL, { errorCorrectionLevel: 'M' }).modules;
    const drawn = new Set<string>();
    for (const [x, y, w, h] of rects) {
      const row = Math.round((top - (y + h)) / cell);
      const col = Math.round((x - x0) / cell);
      for (let i = 0; i < Math.round(w / cell); i++) drawn.add(`${row},${col + i}`);
    }
    const want = new Set<string>();
    for (let r = 0; r < expected.size; r++) for (let c = 0; c < expected.size; c++) if (expected.get(r, c)) want.add(`${r},${c}`);
    expect([...drawn].sort()).to.deep.equal([...want].sort());
    // No QR code on a draft.
    const draftQdf = path.join(dir, 'draft-qdf.pdf');
    execFileSync('qpdf', ['--qdf', '--object-streams=disable', files.get('draft')!, draftQdf]);
    expect(fs.readFileSync(draftQdf, 'latin1')).to.not.match(/ re$/m);
  });

  it('uses A4 or F4 (215 x 330 mm) paper as the letter says', async () => {
    expect(info(files.get('draft')!)).to.match(/Page size:\s+595\.27\d* x 841\.89 pts \(A4\)/);
    const f4 = info(await write('f4', { ...draft, paper: 'F4' }));
    const [w, h] = /Page size:\s+([\d.]+) x ([\d.]+) pts/.exec(f4)!.slice(1).map(Number);
    expect(((w * 25.4) / 72).toFixed(1)).to.equal('215.0');
    expect(((h * 25.4) / 72).toFixed(1)).to.equal('330.0');
  });

  it('breaks a long body over pages, numbering the pages after the first and keeping every paragraph', async () => {
    const paragraphs = Array.from({ length: 40 }, (_, i) => `<p>Paragraf ke-${i + 1}: pelaksanaan kegiatan pengembangan kompetensi guru dilaksanakan secara bertahap di seluruh satuan pendidikan.</p>`);
    const file = await write('long', { ...draft, bodyHtml: paragraphs.join('') });
    const pages = Number(/Pages:\s+(\d+)/.exec(info(file))![1]);
    expect(pages).to.be.greaterThan(1);
    expect(text(file, '-f', '1', '-l', '1')).to.not.match(/^\s*- ?1 ?-/m);
    expect(text(file, '-f', '2', '-l', '2')).to.match(/^\s*- ?2 ?-/m);
    const all = text(file);
    for (let i = 1; i <= 40; i++) expect(all).to.contain(`Paragraf ke-${i}:`);
    expect(all).to.contain('NIP. 19700101 199003 2 001');
  });

  it('passes qpdf --check, and the same model gives the same bytes', async () => {
    for (const name of ['draft', 'final', 'long']) {
      const r = spawnSync('qpdf', ['--check', files.get(name)!], { encoding: 'utf8' });
      expect(r.status, r.stdout + r.stderr).to.equal(0);
      expect(r.stdout).to.contain('No syntax or stream encoding errors');
    }
    expect(Buffer.from(await renderLetterPdf(final)).equals(fs.readFileSync(files.get('final')!))).to.equal(true);
  });

  it('embeds Arimo subsets whose glyphs all have outlines (no blank letters in viewers)', async () => {
    const doc = await PDFDocument.load(fs.readFileSync(files.get('draft')!));
    const seen: string[] = [];
    for (const [, obj] of doc.context.enumerateIndirectObjects()) {
      if (!(obj instanceof PDFDict) || !obj.has(PDFName.of('FontFile2'))) continue;
      const file = obj.lookup(PDFName.of('FontFile2'));
      expect(file).to.be.instanceOf(PDFRawStream);
      const font = fontkit.create(decodePDFRawStream(file as PDFRawStream).decode());
      const name = obj.get(PDFName.of('FontName'))!.toString();
      seen.push(name.replace(/^\/|-\d+$/g, ''));
      // Every glyph but .notdef and the space has a shape; a corrupt loca table leaves letters empty or unreadable.
      const blank = [];
      for (let g = 1; g < font.numGlyphs; g++) {
        try {
          if (!font.getGlyph(g).path.toSVG()) blank.push(g);
        } catch {
          blank.push(g);
        }
      }
      expect(blank.length, `${name}: glyphs without outline ${blank.join(',')}`).to.be.at.most(1);
    }
    expect(seen.sort()).to.deep.equal(['Arimo-Bold', 'Arimo-BoldItalic', 'Arimo-Italic', 'Arimo-Regular']);
  });

  it('formats Indonesian dates and attachment counts', () => {
    expect(formatDateId(new Date('2026-11-29T03:00:00Z'))).to.equal('29 November 2026');
    expect(formatDateId(new Date('2026-12-31T17:30:00Z'))).to.equal('1 Januari 2027');
    expect(lampiranText(0)).to.equal('-');
    expect(lampiranText(1)).to.equal('1 (satu) berkas');
    expect(lampiranText(12)).to.equal('12 (dua belas) berkas');
    expect(lampiranText(21)).to.equal('21 (dua puluh satu) berkas');
  });
});
