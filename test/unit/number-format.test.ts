import { expect } from 'chai';
import { renderNumber, validateFormat, FORMAT_PRESETS } from '../../server/modules/numbering/format.js';

describe('number formats', () => {
  const t = { nomor: 15, kode: '000.8.3.3', unit: 'DKIS', jabatan: 'D-IV', jenis: 'SD', keamanan: 'B' as const, date: new Date('2026-11-25T03:00:00Z') };

  it('renders the regional (Permendagri) style', () => {
    expect(renderNumber(FORMAT_PRESETS.permendagri, t)).to.equal('000.8.3.3/15/DKIS/2026');
    expect(renderNumber(FORMAT_PRESETS.permendagri_tanpa_tahun, t)).to.equal('000.8.3.3/15/DKIS');
  });

  it('renders the ministry (KemenPANRB) style with padding and month', () => {
    expect(renderNumber(FORMAT_PRESETS.kemenpanrb, { ...t, nomor: 235, unit: 'PANRB', kode: 'KP.01', date: new Date('2026-06-10T01:00:00Z') })).to.equal('B-235/PANRB/D-IV/KP.01/06/2026');
    expect(renderNumber('{nomor:4}/{jenis}/{tahun}', t)).to.equal('0015/SD/2026');
  });

  it('uses Roman months and the Jakarta calendar (31 Dec 20:00 UTC is already January there)', () => {
    expect(renderNumber(FORMAT_PRESETS.bulan_romawi, t)).to.equal('000.8.3.3/15/DKIS/XI/2026');
    expect(renderNumber('{nomor}/{bulan_romawi}/{tahun}', { ...t, date: new Date('2026-12-31T20:00:00Z') })).to.equal('15/I/2027');
  });

  it('renders Peraturan numbers', () => {
    expect(renderNumber(FORMAT_PRESETS.peraturan, { ...t, nomor: 23 })).to.equal('NOMOR 23 TAHUN 2026');
  });

  it('refuses formats without {nomor}, with unknown tokens, or unbalanced braces', () => {
    expect(() => validateFormat('{kode}/{unit}')).to.throw();
    expect(() => validateFormat('{kode}/{nomor}/{rahasia}')).to.throw();
    expect(() => validateFormat('{kode:3}/{nomor}')).to.throw();
    expect(() => validateFormat('{nomor}/{tahun')).to.throw();
    for (const f of Object.values(FORMAT_PRESETS)) expect(() => validateFormat(f)).not.to.throw();
  });
});
