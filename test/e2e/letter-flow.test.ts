// Issue #3's "done when", in the browser: konseptor drafts a Surat Dinas with an
// attachment; pemeriksa1 returns it with a note; the drafter sees the note and
// revises; pemeriksa1 and pemeriksa2 give paraf; the letter waits in
// penandatangan's "Perlu Tindakan" with its PDF preview; and the audit trail
// holds every step bound to the SHA-256 of the version it concerned.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { useBrowserApp } from '../support/browser.js';
import { requireTools } from '../support/nss.js';

/** What a reader of the PDF sees, through poppler. */
function pdfText(bytes: Buffer): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-e2e-pdf-'));
  try {
    fs.writeFileSync(path.join(dir, 'p.pdf'), bytes);
    return execFileSync('pdftotext', ['-layout', path.join(dir, 'p.pdf'), '-'], { encoding: 'utf8' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');
const SUBJECT = 'Undangan Rapat Koordinasi Penerapan TNDE';

describe('in the browser: a Surat Dinas from draft to the signer', () => {
  const app = useBrowserApp();

  const flash = (page: Page) => page.locator('.flash').first().innerText();
  /** Clicks a button that posts a form and waits for the page it redirects to. */
  const submitAndWait = async (page: Page, button: ReturnType<Page['locator']>) => {
    await Promise.all([page.waitForNavigation(), button.click()]);
  };
  const openFromInbox = async (page: Page, id: string) => {
    await page.goto('/surat?box=action');
    expect(await page.locator('nav.tabs a[aria-current="page"]').innerText()).to.match(/^Perlu Tindakan \d+$/);
    await Promise.all([page.waitForURL((u) => u.pathname === `/surat/${id}`), page.locator(`a[href="/surat/${id}"]`).first().click()]);
  };

  it('drafts, returns, revises, collects two paraf and reaches the signer with its preview and audit trail', async function () {
    requireTools(this, 'pdftotext');
    // ---- konseptor drafts through the form, with the rich-text editor
    const drafter = await app().signIn('konseptor');
    await drafter.goto('/surat/baru');
    await drafter.locator('select[name="kind"]').selectOption('SD');
    await drafter.locator('select[name="classificationCode"]').selectOption('000.1.5');
    await drafter.locator('input[name="subject"]').fill(SUBJECT);
    await drafter.locator('select[name="urgency"]').selectOption('segera');
    await drafter.locator('textarea[name="to"]').fill('unit:DISDIK');
    await drafter.locator('textarea[name="cc"]').fill('pemeriksa2');
    await drafter.locator('select[name="signer"]').selectOption('penandatangan');
    const editor = drafter.getByRole('textbox', { name: 'Isi naskah' });
    await editor.click();
    await drafter.keyboard.type('Dengan hormat, kami mengundang Bapak/Ibu ke rapat koordinasi penerapan TNDE.');
    await submitAndWait(drafter, drafter.getByRole('button', { name: 'Simpan konsep' }));
    const id = /^\/surat\/(\d+)$/.exec(new URL(drafter.url()).pathname)?.[1];
    expect(id, drafter.url()).to.be.a('string');
    expect(await flash(drafter)).to.contain('Konsep naskah dibuat.');

    // ---- with an attachment
    await drafter.locator('input[type="file"][name="file"]').setInputFiles({ name: 'kerangka-acuan.pdf', mimeType: 'application/pdf', buffer: PDF });
    await submitAndWait(drafter, drafter.locator('#lampiran button[type="submit"]', { hasText: 'Unggah lampiran' }));
    expect(await flash(drafter)).to.contain('Lampiran ditambahkan.');
    expect(await drafter.locator('#lampiran').getByRole('link', { name: 'kerangka-acuan.pdf' }).isVisible()).to.equal(true);
    await submitAndWait(drafter, drafter.getByRole('button', { name: 'Kirim untuk diperiksa' }));
    expect(await flash(drafter)).to.contain('Naskah dikirim untuk diperiksa.');

    // ---- pemeriksa1 returns it with a note
    const reviewer1 = await app().signIn('pemeriksa1');
    await openFromInbox(reviewer1, id!);
    await reviewer1.locator('form[action$="/return"] textarea[name="note"]').fill('Mohon cantumkan waktu dan tempat rapat.');
    await submitAndWait(reviewer1, reviewer1.getByRole('button', { name: 'Kembalikan' }));
    expect(await flash(reviewer1)).to.contain('Naskah dikembalikan kepada konseptor.');

    // ---- the drafter sees the note, revises, submits again
    await drafter.goto('/surat?box=action');
    await Promise.all([drafter.waitForURL((u) => u.pathname === `/surat/${id}`), drafter.locator(`a[href="/surat/${id}"]`).first().click()]);
    expect(await drafter.locator('#paraf blockquote.note').first().innerText()).to.equal('Mohon cantumkan waktu dan tempat rapat.');
    await Promise.all([drafter.waitForURL((u) => u.pathname === `/surat/${id}/ubah`), drafter.getByRole('link', { name: 'Ubah', exact: true }).click()]);
    await drafter.getByRole('textbox', { name: 'Isi naskah' }).click();
    await drafter.keyboard.press('End');
    await drafter.keyboard.type(' Rapat diadakan pada hari Senin di Ruang Rapat Utama.');
    await submitAndWait(drafter, drafter.getByRole('button', { name: 'Simpan konsep' }));
    expect(await flash(drafter)).to.contain('Konsep disimpan sebagai versi baru.');
    await submitAndWait(drafter, drafter.getByRole('button', { name: 'Kirim untuk diperiksa' }));
    expect(await flash(drafter)).to.contain('Naskah dikirim untuk diperiksa.');

    // ---- pemeriksa1 and pemeriksa2 give paraf, in turn
    for (const [who, page] of [['pemeriksa1', reviewer1], ['pemeriksa2', await app().signIn('pemeriksa2')]] as const) {
      await openFromInbox(page, id!);
      await submitAndWait(page, page.getByRole('button', { name: /Setujui \(Paraf\)/ }));
      expect(await flash(page), who).to.contain('Paraf Anda tercatat.');
    }

    // ---- penandatangan finds it under "Perlu Tindakan"; its page shows the PDF preview
    const signer = await app().signIn('penandatangan');
    await signer.goto('/surat?box=action');
    expect(await signer.locator(`a[href="/surat/${id}"]`).first().innerText()).to.equal(SUBJECT);
    const preview = signer.waitForResponse((r) => new URL(r.url()).pathname === `/surat/${id}/pratinjau`);
    await Promise.all([signer.waitForURL((u) => u.pathname === `/surat/${id}`), signer.locator(`a[href="/surat/${id}"]`).first().click()]);
    const pdf = await preview;
    expect(pdf.status()).to.equal(200);
    expect(pdf.headers()['content-type']).to.equal('application/pdf');
    // The frame hands the bytes to Chromium's PDF viewer; the same request from the signer's session gives the file.
    const file = await signer.request.get(`/surat/${id}/pratinjau`);
    const bytes = await file.body();
    expect(bytes.subarray(0, 5).toString()).to.equal('%PDF-');
    const text = pdfText(bytes).replace(/\s+/g, ' ');
    expect(text).to.contain('KONSEP').and.contain(`Hal : ${SUBJECT}`).and.contain('Lampiran : 1 (satu) berkas');
    expect(text).to.contain('rapat koordinasi penerapan TNDE. Rapat diadakan pada hari Senin di Ruang Rapat Utama.');
    expect(await signer.locator('#pratinjau iframe').isVisible()).to.equal(true);
    expect(await signer.locator('.badge.state-approved').first().innerText()).to.equal('Menunggu Tanda Tangan');

    // ---- the audit trail: every step, bound to the hash of the version it concerned
    const { db } = app().env.ctx;
    const letter = await db.selectFrom('letters').select(['version', 'version_sha256']).where('id', '=', id!).executeTakeFirstOrThrow();
    const versions = new Map((await db.selectFrom('letter_versions').select(['version', 'sha256']).where('letter_id', '=', id!).execute()).map((v) => [v.version, v.sha256]));
    const trail = await db.selectFrom('audit_log').select(['action', 'doc_sha256', 'details']).where('object_type', '=', 'letter').where('object_id', '=', id!).orderBy('seq').execute();
    const steps = trail.filter((e) => ['letter.submitted', 'letter.returned', 'letter.approved'].includes(e.action));
    expect(steps.map((e) => e.action)).to.deep.equal(['letter.submitted', 'letter.returned', 'letter.submitted', 'letter.approved', 'letter.approved']);
    for (const e of steps) {
      const v = Number(e.details.version);
      expect(e.doc_sha256, `${e.action} v${v}`).to.equal(versions.get(v));
    }
    // Returned on the first submitted version; both paraf on the revised one, which is the letter's current version.
    expect(Number(steps[1].details.version)).to.equal(Number(steps[0].details.version));
    expect(steps[3].doc_sha256).to.equal(letter.version_sha256);
    expect(steps[4].doc_sha256).to.equal(letter.version_sha256);
    expect(steps[1].doc_sha256).to.not.equal(letter.version_sha256);
    expect(steps[1].details.note).to.equal('Mohon cantumkan waktu dan tempat rapat.');
  });
});
