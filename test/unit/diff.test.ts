import { expect } from 'chai';
import { diffText, diffTokens, diffVersions, wordTokens, type DiffRun } from '../../server/modules/letters/diff.js';
import { parseRecipientLines, recipientLines, type RecipientDirectory } from '../../server/modules/letters/recipient-lines.js';
import type { LetterContentJson } from '../../server/platform/db/schema.js';

const join = (runs: DiffRun[], ops: DiffRun['op'][]) => runs.filter((r) => ops.includes(r.op)).map((r) => r.text).join('');

describe('letter diff', () => {
  it('marks inserted and deleted words and rebuilds both texts', () => {
    const a = 'Rapat diadakan pada hari Senin di Ruang Rapat.';
    const b = 'Rapat diadakan pada hari Selasa pukul 09.00 WIB di Ruang Rapat.';
    const runs = diffText(a, b);
    expect(join(runs, ['same', 'del'])).to.equal(a);
    expect(join(runs, ['same', 'ins'])).to.equal(b);
    expect(runs.filter((r) => r.op === 'del').map((r) => r.text.trim())).to.deep.equal(['Senin']);
    expect(join(runs, ['ins'])).to.contain('Selasa pukul 09.00 WIB');
  });

  it('keeps times, codes and slashed words whole, so an insertion reads as one run', () => {
    expect(wordTokens('pukul 09.00 WIB, Bapak/Ibu (000.1.5).')).to.deep.equal(['pukul', ' ', '09.00', ' ', 'WIB', ',', ' ', 'Bapak/Ibu', ' ', '(', '000.1.5', ')', '.']);
    const runs = diffText('untuk hadir.\nHari: Senin', 'untuk hadir pada pukul 09.00 WIB.\nHari: Selasa');
    expect(runs).to.deep.equal([
      { op: 'same', text: 'untuk hadir' },
      { op: 'ins', text: ' pada pukul 09.00 WIB' },
      { op: 'same', text: '.\nHari: ' },
      { op: 'del', text: 'Senin' },
      { op: 'ins', text: 'Selasa' },
    ]);
  });

  it('gives one same run for identical texts and handles empty sides', () => {
    expect(diffText('sama saja', 'sama saja')).to.deep.equal([{ op: 'same', text: 'sama saja' }]);
    expect(diffText('', 'baru')).to.deep.equal([{ op: 'ins', text: 'baru' }]);
    expect(diffText('lama', '')).to.deep.equal([{ op: 'del', text: 'lama' }]);
    expect(diffText('', '')).to.deep.equal([]);
  });

  it('finds the longest common subsequence, not just head and tail', () => {
    const runs = diffTokens(['a', 'x', 'b', 'y', 'c'], ['a', 'b', 'z', 'c'])!;
    expect(join(runs, ['same'])).to.equal('abc');
    expect(join(runs, ['del'])).to.equal('xy');
    expect(join(runs, ['ins'])).to.equal('z');
  });

  it('falls back to lines, then to whole texts, when the changed middle is too large', () => {
    const a = 'satu dua\ntiga empat lima enam\ntujuh';
    const b = 'satu dua\nTIGA EMPAT LIMA ENAM\ntujuh';
    expect(diffTokens(wordTokens(a), wordTokens(b), 10)).to.equal(undefined);
    expect(diffText(a, b, 10)).to.deep.equal([
      { op: 'same', text: 'satu dua\n' },
      { op: 'del', text: 'tiga empat lima enam\n' },
      { op: 'ins', text: 'TIGA EMPAT LIMA ENAM\n' },
      { op: 'same', text: 'tujuh' },
    ]);
    expect(diffText('a b c', 'x y z', 1)).to.deep.equal([{ op: 'del', text: 'a b c' }, { op: 'ins', text: 'x y z' }]);
  });

  it('compares versions field by field and the body as text', () => {
    const base: LetterContentJson = {
      kind: 'SD', subject: 'Undangan', urgency: 'biasa', securityClass: 'biasa', classificationCode: '000.1.5', paper: 'A4',
      to: [{ unit: 'DISDIK', unitId: '5' }], cc: [],
      signer: { userId: '5', positionId: '8', prefix: null, principalPositionId: null },
      body: '<p>Dengan hormat, kami mengundang Bapak/Ibu.</p>',
      attachments: [{ sha256: 'a'.repeat(64), filename: 'kak.pdf', size: 10, contentType: 'application/pdf' }],
    };
    const next: LetterContentJson = {
      ...base,
      urgency: 'segera',
      cc: [{ external: { name: 'Dinas Kominfo', email: 'kominfo@contoh.go.id' } }],
      body: '<p>Dengan hormat, kami <strong>sangat</strong> mengundang Bapak/Ibu.</p>',
      attachments: [{ sha256: 'b'.repeat(64), filename: 'kak.pdf', size: 10, contentType: 'application/pdf' }],
    };
    const d = diffVersions(base, next, (s) => `signer ${s.userId}`);
    const changed = d.fields.filter((f) => f.changed).map((f) => f.field);
    expect(changed).to.deep.equal(['urgency', 'cc', 'attachments']);
    expect(d.fields.find((f) => f.field === 'cc')!.after).to.equal('Dinas Kominfo <kominfo@contoh.go.id>');
    expect(d.fields.find((f) => f.field === 'signer')).to.include({ before: 'signer 5', changed: false });
    expect(d.bodyChanged).to.equal(true);
    expect(join(d.body, ['ins']).trim()).to.equal('sangat');
  });
});

describe('recipient lines', () => {
  const dir: RecipientDirectory = {
    users: new Map([['konseptor', 'konseptor']]),
    units: new Map([['disdik', 'DISDIK']]),
    positions: new Map([['kasi-pa', 'KASI-PA']]),
  };

  it('reads prefixed lines, bare codes, and external addressees', () => {
    const text = 'user:konseptor\n\n unit:disdik \nposition:KASI-PA\nDISDIK\nkasi-pa\nKepala Dinas Kominfo Kabupaten Contoh <kominfo@contoh.go.id>\nBupati Contoh\nBSSN <>';
    expect(parseRecipientLines(text, dir)).to.deep.equal([
      { user: 'konseptor' },
      { unit: 'DISDIK' },
      { position: 'KASI-PA' },
      { unit: 'DISDIK' },
      { position: 'KASI-PA' },
      { external: { name: 'Kepala Dinas Kominfo Kabupaten Contoh', email: 'kominfo@contoh.go.id' } },
      { external: { name: 'Bupati Contoh', email: null } },
      { external: { name: 'BSSN', email: null } },
    ]);
  });

  it('writes lines that read back to the same recipients', () => {
    const list = [{ user: 'konseptor' }, { unit: 'DISDIK' }, { position: 'KASI-PA' }, { external: { name: 'konseptor', email: null } }, { external: { name: 'Bupati Contoh', email: null } }];
    expect(parseRecipientLines(recipientLines(list), dir)).to.deep.equal(list);
  });
});
