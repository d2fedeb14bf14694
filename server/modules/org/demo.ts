// The demo organisation, created on the first start of an empty database when
// DEMO=1 or on the embedded defaults: a fictional province with its Sekretariat
// Daerah, an Inspektorat and two Dinas, each a tree of units and positions,
// and one account per role. The chain konseptor -> pemeriksa1 -> pemeriksa2 ->
// penandatangan follows the positions' superiors.
import type { AppContext } from '../../platform/context.js';
import { appendAudit } from '../../platform/audit/index.js';
import { hashPassword, generatePassword } from '../../platform/auth/passwords.js';
import { seedDemoCertificate } from '../signing/service.js';
import * as repo from './repo.js';

export const DEMO_ACCOUNTS = [
  'admin', 'konseptor', 'pemeriksa1', 'pemeriksa2', 'penandatangan', 'agendaris', 'arsiparis', 'auditor', 'staf1', 'staf2', 'staf3',
] as const;

export interface DemoResult {
  created: boolean;
  password?: string;
  generated?: boolean;
}

interface UnitSpec { code: string; name: string; kind: string; parent?: string; address?: string }
interface PositionSpec { code: string; unit: string; title: string; superior?: string; head?: boolean }
interface UserSpec { username: string; name: string; nip: string; position: string; roles: string[] }

const ADDRESS = 'Jl. Merdeka No. 1, Kota Sukamaju 12345';

const UNITS: UnitSpec[] = [
  { code: 'PEMPROV', name: 'Pemerintah Provinsi Sukamaju', kind: 'pemda', address: ADDRESS },
  { code: 'SETDA', name: 'Sekretariat Daerah', kind: 'sekretariat_daerah', parent: 'PEMPROV', address: ADDRESS },
  { code: 'SETDA.UMUM', name: 'Biro Umum', kind: 'biro', parent: 'SETDA' },
  { code: 'SETDA.UMUM.TU', name: 'Bagian Tata Usaha', kind: 'bagian', parent: 'SETDA.UMUM' },
  { code: 'SETDA.HUKUM', name: 'Biro Hukum', kind: 'biro', parent: 'SETDA' },
  { code: 'INSPEKTORAT', name: 'Inspektorat Daerah', kind: 'inspektorat', parent: 'PEMPROV', address: 'Jl. Merdeka No. 3, Kota Sukamaju 12345' },
  { code: 'DKIS', name: 'Dinas Komunikasi, Informatika dan Statistik', kind: 'dinas', parent: 'PEMPROV', address: 'Jl. Pahlawan No. 10, Kota Sukamaju 12346' },
  { code: 'DKIS.SEK', name: 'Sekretariat', kind: 'sekretariat', parent: 'DKIS' },
  { code: 'DKIS.SEK.UMUM', name: 'Sub Bagian Umum dan Kepegawaian', kind: 'subbagian', parent: 'DKIS.SEK' },
  { code: 'DKIS.APTIKA', name: 'Bidang Aplikasi Informatika', kind: 'bidang', parent: 'DKIS' },
  { code: 'DKIS.APTIKA.PA', name: 'Seksi Pengembangan Aplikasi', kind: 'seksi', parent: 'DKIS.APTIKA' },
  { code: 'DKIS.APTIKA.TKE', name: 'Seksi Tata Kelola E-Government', kind: 'seksi', parent: 'DKIS.APTIKA' },
  { code: 'DKIS.SANDI', name: 'Bidang Persandian dan Keamanan Informasi', kind: 'bidang', parent: 'DKIS' },
  { code: 'DISDIK', name: 'Dinas Pendidikan', kind: 'dinas', parent: 'PEMPROV', address: 'Jl. Pendidikan No. 5, Kota Sukamaju 12347' },
  { code: 'DISDIK.SEK', name: 'Sekretariat', kind: 'sekretariat', parent: 'DISDIK' },
  { code: 'DISDIK.SMA', name: 'Bidang Pembinaan SMA', kind: 'bidang', parent: 'DISDIK' },
  { code: 'DISDIK.SMA.KUR', name: 'Seksi Kurikulum', kind: 'seksi', parent: 'DISDIK.SMA' },
];

const POSITIONS: PositionSpec[] = [
  { code: 'GUB', unit: 'PEMPROV', title: 'Gubernur', head: true },
  { code: 'SEKDA', unit: 'SETDA', title: 'Sekretaris Daerah', superior: 'GUB', head: true },
  { code: 'KAROUMUM', unit: 'SETDA.UMUM', title: 'Kepala Biro Umum', superior: 'SEKDA', head: true },
  { code: 'KABAGTU', unit: 'SETDA.UMUM.TU', title: 'Kepala Bagian Tata Usaha', superior: 'KAROUMUM', head: true },
  { code: 'KAROHUKUM', unit: 'SETDA.HUKUM', title: 'Kepala Biro Hukum', superior: 'SEKDA', head: true },
  { code: 'INSPEKTUR', unit: 'INSPEKTORAT', title: 'Inspektur', superior: 'GUB', head: true },
  { code: 'AUDITOR1', unit: 'INSPEKTORAT', title: 'Auditor Ahli Muda', superior: 'INSPEKTUR' },
  { code: 'KADIS-DKIS', unit: 'DKIS', title: 'Kepala Dinas Komunikasi, Informatika dan Statistik', superior: 'SEKDA', head: true },
  { code: 'SEKDIS-DKIS', unit: 'DKIS.SEK', title: 'Sekretaris Dinas', superior: 'KADIS-DKIS', head: true },
  { code: 'KASUBAG-UMUM-DKIS', unit: 'DKIS.SEK.UMUM', title: 'Kepala Sub Bagian Umum dan Kepegawaian', superior: 'SEKDIS-DKIS', head: true },
  { code: 'AGENDARIS-DKIS', unit: 'DKIS.SEK.UMUM', title: 'Pengadministrasi Umum (Agendaris)', superior: 'KASUBAG-UMUM-DKIS' },
  { code: 'ARSIPARIS-DKIS', unit: 'DKIS.SEK.UMUM', title: 'Arsiparis Ahli Muda', superior: 'KASUBAG-UMUM-DKIS' },
  { code: 'PRAKOM-DKIS', unit: 'DKIS.SEK.UMUM', title: 'Pranata Komputer Ahli Muda (Administrator Sistem)', superior: 'KASUBAG-UMUM-DKIS' },
  { code: 'KABID-APTIKA', unit: 'DKIS.APTIKA', title: 'Kepala Bidang Aplikasi Informatika', superior: 'KADIS-DKIS', head: true },
  { code: 'KASI-PA', unit: 'DKIS.APTIKA.PA', title: 'Kepala Seksi Pengembangan Aplikasi', superior: 'KABID-APTIKA', head: true },
  { code: 'ANALIS-PA', unit: 'DKIS.APTIKA.PA', title: 'Analis Sistem Informasi', superior: 'KASI-PA' },
  { code: 'PROGRAMMER-PA', unit: 'DKIS.APTIKA.PA', title: 'Pranata Komputer Ahli Pertama', superior: 'KASI-PA' },
  { code: 'KASI-TKE', unit: 'DKIS.APTIKA.TKE', title: 'Kepala Seksi Tata Kelola E-Government', superior: 'KABID-APTIKA', head: true },
  { code: 'STAF-TKE', unit: 'DKIS.APTIKA.TKE', title: 'Penelaah Teknis Kebijakan', superior: 'KASI-TKE' },
  { code: 'KABID-SANDI', unit: 'DKIS.SANDI', title: 'Kepala Bidang Persandian dan Keamanan Informasi', superior: 'KADIS-DKIS', head: true },
  { code: 'KADIS-DISDIK', unit: 'DISDIK', title: 'Kepala Dinas Pendidikan', superior: 'SEKDA', head: true },
  { code: 'SEKDIS-DISDIK', unit: 'DISDIK.SEK', title: 'Sekretaris Dinas', superior: 'KADIS-DISDIK', head: true },
  { code: 'KABID-SMA', unit: 'DISDIK.SMA', title: 'Kepala Bidang Pembinaan SMA', superior: 'KADIS-DISDIK', head: true },
  { code: 'KASI-KUR', unit: 'DISDIK.SMA.KUR', title: 'Kepala Seksi Kurikulum', superior: 'KABID-SMA', head: true },
];

const USERS: UserSpec[] = [
  { username: 'admin', name: 'Rahmat Hidayat, S.Kom.', nip: '198703122010011001', position: 'PRAKOM-DKIS', roles: ['admin', 'staf'] },
  { username: 'konseptor', name: 'Dewi Lestari, S.T.', nip: '199104052015032002', position: 'ANALIS-PA', roles: ['konseptor', 'staf'] },
  { username: 'pemeriksa1', name: 'Agus Santoso, S.Kom., M.T.', nip: '198508172009011003', position: 'KASI-PA', roles: ['pemeriksa', 'konseptor'] },
  { username: 'pemeriksa2', name: 'Ir. Siti Nurhaliza, M.Si.', nip: '197811232003122004', position: 'KABID-APTIKA', roles: ['pemeriksa', 'konseptor'] },
  { username: 'penandatangan', name: 'Dr. Bambang Wijaya, S.Sos., M.Si.', nip: '197002141995031005', position: 'KADIS-DKIS', roles: ['penandatangan', 'pemeriksa'] },
  { username: 'agendaris', name: 'Sri Wahyuni', nip: '198909092012012006', position: 'AGENDARIS-DKIS', roles: ['agendaris', 'staf'] },
  { username: 'arsiparis', name: 'Hendra Gunawan, A.Md.', nip: '199006062014021007', position: 'ARSIPARIS-DKIS', roles: ['arsiparis', 'staf'] },
  { username: 'auditor', name: 'Maria Ulfa, S.E., Ak.', nip: '198412122008012008', position: 'AUDITOR1', roles: ['auditor'] },
  { username: 'staf1', name: 'Yusuf Maulana, S.Kom.', nip: '199502202019031009', position: 'PROGRAMMER-PA', roles: ['staf'] },
  { username: 'staf2', name: 'Rina Marlina, S.IP.', nip: '199307112018012010', position: 'STAF-TKE', roles: ['staf'] },
  { username: 'staf3', name: 'Fajar Nugroho, S.Pd.', nip: '199211302017011011', position: 'KASI-KUR', roles: ['staf', 'pemeriksa'] },
];

// Number series: the regional style for agencies, Roman months at the Sekretariat
// Daerah, "NOMOR n TAHUN y" for the Governor's Peraturan and Keputusan.
const SERIES: { unit: string; scope: 'outgoing' | 'incoming'; kind?: string; name: string; format: string; token: string }[] = [
  { unit: 'DKIS', scope: 'outgoing', name: 'Surat keluar DKIS', format: '{kode}/{nomor}/{unit}/{tahun}', token: 'DKIS' },
  { unit: 'DKIS', scope: 'incoming', name: 'Agenda surat masuk DKIS', format: '{nomor}/AG/{unit}/{tahun}', token: 'DKIS' },
  { unit: 'DISDIK', scope: 'outgoing', name: 'Surat keluar Dinas Pendidikan', format: '{kode}/{nomor}/{unit}/{tahun}', token: 'DISDIK' },
  { unit: 'DISDIK', scope: 'incoming', name: 'Agenda surat masuk Dinas Pendidikan', format: '{nomor}/AG/{unit}/{tahun}', token: 'DISDIK' },
  { unit: 'SETDA', scope: 'outgoing', name: 'Surat keluar Sekretariat Daerah', format: '{kode}/{nomor}/{unit}/{bulan_romawi}/{tahun}', token: 'SETDA' },
  { unit: 'INSPEKTORAT', scope: 'outgoing', name: 'Surat keluar Inspektorat', format: '{kode}/{nomor}/{unit}/{tahun}', token: 'INSP' },
  // Every agency keeps its own agenda of incoming letters (surat masuk).
  { unit: 'SETDA', scope: 'incoming', name: 'Agenda surat masuk Sekretariat Daerah', format: '{nomor}/AG/{unit}/{tahun}', token: 'SETDA' },
  { unit: 'INSPEKTORAT', scope: 'incoming', name: 'Agenda surat masuk Inspektorat', format: '{nomor}/AG/{unit}/{tahun}', token: 'INSP' },
  { unit: 'PEMPROV', scope: 'incoming', name: 'Agenda surat masuk Gubernur', format: '{nomor}/AG/{unit}/{tahun}', token: 'PEMPROV' },
  { unit: 'PEMPROV', scope: 'outgoing', name: 'Surat Gubernur', format: '{kode}/{nomor}/{unit}/{tahun}', token: 'PEMPROV' },
  { unit: 'PEMPROV', scope: 'outgoing', kind: 'KEP', name: 'Keputusan Gubernur', format: 'NOMOR {nomor} TAHUN {tahun}', token: 'PEMPROV' },
  { unit: 'PEMPROV', scope: 'outgoing', kind: 'PER', name: 'Peraturan Gubernur', format: 'NOMOR {nomor} TAHUN {tahun}', token: 'PEMPROV' },
];

/** Creates the demo organisation if the database has no users yet. */
export async function seedDemoOrganisation(ctx: AppContext, password?: string): Promise<DemoResult> {
  if ((await repo.countUsers(ctx.db)) > 0) return { created: false };
  const generated = !password;
  const pw = password ?? generatePassword();
  const hash = await hashPassword(pw); // one hash for all demo users: argon2 is slow on purpose
  const result = await ctx.db.transaction().execute(async (trx): Promise<DemoResult> => {
    if ((await repo.countUsers(trx)) > 0) return { created: false };
    const unitIds = new Map<string, string>();
    for (const u of UNITS) {
      const row = await repo.insertUnit(trx, { code: u.code, name: u.name, kind: u.kind, parent_id: u.parent ? unitIds.get(u.parent)! : null, address: u.address ?? null, phone: '(0711) 123456', email: `${u.code.split('.')[0].toLowerCase()}@sukamaju.go.id`, website: 'https://sukamaju.go.id' });
      unitIds.set(u.code, String(row.id));
    }
    const posIds = new Map<string, string>();
    for (const p of POSITIONS) {
      const row = await repo.insertPosition(trx, { code: p.code, unit_id: unitIds.get(p.unit)!, title: p.title, superior_id: p.superior ? posIds.get(p.superior)! : null, is_head: !!p.head });
      posIds.set(p.code, String(row.id));
    }
    for (const u of USERS) {
      await repo.insertUser(trx, { username: u.username, name: u.name, nip: u.nip, email: `${u.username}@sukamaju.go.id`, password_hash: hash, position_id: posIds.get(u.position)!, roles: u.roles });
    }
    for (const n of SERIES) {
      await trx.insertInto('number_series').values({ unit_id: unitIds.get(n.unit)!, scope: n.scope, kind_code: n.kind ?? null, name: n.name, format: n.format, unit_token: n.token }).execute();
    }
    await appendAudit(trx, { id: null, name: 'system' }, { action: 'system.demo_seeded', details: { units: UNITS.length, positions: POSITIONS.length, users: USERS.length } });
    return { created: true, password: pw, generated };
  });
  // The demo signer can sign at once: a certificate from the internal CA whose signing passphrase is the demo password.
  if (result.created) await seedDemoCertificate(ctx, 'penandatangan', pw);
  return result;
}
