// Generates signed letters and their archival records in SQL (generate_series),
// fast enough for a million: realistic Indonesian words in hal and body, a mix
// of security classes, units, classification codes, states and dates over ten
// years. Used by bench/search.ts; idempotent by count (tops up to N).
import { sql } from 'kysely';
import type { Db } from '../server/platform/db/index.js';

// Everyday words of Indonesian official letters; the order matters: the
// generator draws with a skew, so early words are frequent and late ones rare.
export const WORDS = (
  'dengan untuk dalam kegiatan pelaksanaan tahun anggaran daerah dinas kepala bidang pemerintah provinsi kabupaten kota ' +
  'permohonan undangan rapat koordinasi laporan pengadaan barang jasa pembangunan jalan jembatan sekolah kesehatan ' +
  'pendidikan pelatihan sosialisasi evaluasi monitoring penyusunan rencana program kerja tindak lanjut hasil pemeriksaan ' +
  'keuangan aset pegawai cuti tugas belajar mutasi pensiun kenaikan pangkat gaji tunjangan perjalanan dinas surat perintah ' +
  'keputusan peraturan gubernur bupati walikota sekretaris inspektorat kecamatan kelurahan desa masyarakat penduduk ' +
  'perizinan investasi pariwisata pertanian perikanan peternakan perkebunan kehutanan lingkungan hidup sampah banjir ' +
  'bencana kebakaran pengamanan ketertiban lalu lintas perhubungan terminal pelabuhan bandara irigasi bendungan air bersih ' +
  'listrik telekomunikasi jaringan internet aplikasi sistem informasi data statistik persandian keamanan siber server ' +
  'pusat data website portal layanan publik pengaduan whistleblowing audit kinerja akuntabilitas reformasi birokrasi ' +
  'inovasi digitalisasi arsip kearsipan retensi pemusnahan penyerahan berkas naskah dinas tata persuratan stempel ' +
  'stunting imunisasi puskesmas rumah sakit obat vaksin gizi balita posyandu beasiswa kurikulum guru honorer zonasi ' +
  'menara kalijodo sukamaju merpati cendrawasih nusantara garuda rajawali kenari kutilang'
).split(' ');

export interface GenerateOptions {
  /** Progress callback: records so far. */
  progress?: (done: number) => void;
  batch?: number;
}

/** Adds letters (and records) until the database holds `n` generated ones; returns how many were added. */
export async function generateLetters(db: Db, n: number, opts: GenerateOptions = {}): Promise<number> {
  const have = Number((await sql<{ n: string }>`SELECT count(*) AS n FROM letters WHERE version_sha256 = ${'b'.repeat(64)}`.execute(db)).rows[0]!.n);
  if (have >= n) return 0;
  const user = async (username: string) => String((await db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirstOrThrow()).id);
  const drafter = await user('konseptor');
  const signer = await user('penandatangan');
  const signerPosition = String((await db.selectFrom('users').select('position_id').where('id', '=', signer).executeTakeFirstOrThrow()).position_id);
  const units = (await db.selectFrom('units').select('id').orderBy('id').execute()).map((u) => String(u.id));
  const codes = (await db.selectFrom('classification_codes').select('code').where('final_fate', 'is not', null).where('retention_active_years', 'is not', null).orderBy('code').execute()).map((c) => c.code);
  const batch = opts.batch ?? 50_000;
  for (let from = have + 1; from <= n; from += batch) {
    const to = Math.min(n, from + batch - 1);
    // x is a per-letter pseudo-random stream; words are drawn with a square skew (frequent first).
    await db.transaction().execute(async (trx) => {
      await sql`
        CREATE TEMP TABLE gen ON COMMIT DROP AS
        WITH src AS (
          SELECT g, (g::bigint * 2654435761) % 4294967296 AS x FROM generate_series(${from}::int, ${to}::int) AS g
        ), shaped AS (
          SELECT g, x,
                 CASE WHEN x % 100 < 70 THEN 'biasa' WHEN x % 100 < 90 THEN 'terbatas' WHEN x % 100 < 98 THEN 'rahasia' ELSE 'sangat_rahasia' END AS sc,
                 CASE WHEN x % 20 = 0 THEN 'draft' WHEN x % 20 = 1 THEN 'signed' ELSE 'dispatched' END AS st,
                 (${units}::bigint[])[1 + (x / 7) % ${units.length}] AS unit_id,
                 (${codes}::text[])[1 + (x / 11) % ${codes.length}] AS code,
                 (now() - ((x / 13) % 3650 || ' days')::interval - ((x / 17) % 600 || ' minutes')::interval) AS at
            FROM src
        )
        SELECT nextval('letters_id_seq') AS id, s.*,
               initcap((SELECT string_agg((${WORDS}::text[])[1 + floor(${WORDS.length} * power(((x * 31 + i * 7919) % 10007) / 10007.0, 2))::int], ' ')
                          FROM generate_series(1, 6) i)) AS subject,
               (SELECT string_agg((${WORDS}::text[])[1 + floor(${WORDS.length} * power(((x * 17 + i * 104729) % 10009) / 10009.0, 2))::int], ' ')
                  FROM generate_series(1, 60) i) AS body
          FROM shaped s`.execute(trx);
      await sql`
        INSERT INTO letters (id, kind_code, unit_id, drafter_id, signer_id, signer_position_id, subject, urgency, security_class, classification_code,
                             state, version, version_sha256, number, created_at, updated_at, signed_at)
        SELECT id, 'SD', unit_id, ${drafter}, ${signer}, ${signerPosition}, subject, 'biasa', sc, code, st, 1, ${'b'.repeat(64)},
               CASE WHEN st <> 'draft' THEN code || '/' || g || '/BENCH/' || extract(year FROM at)::int END, at, at, CASE WHEN st <> 'draft' THEN at END
          FROM gen`.execute(trx);
      // The same mapping as the view record_source_letters, with the generated body instead of a version's HTML.
      await sql`
        INSERT INTO records (letter_id, unit_id, kind_code, number, subject, security_class, classification_code, state, record_date,
                             sender, recipients, body_text, created_at)
        SELECT l.id, l.unit_id, l.kind_code, l.number, l.subject, l.security_class, l.classification_code, l.state,
               (l.signed_at AT TIME ZONE 'Asia/Jakarta')::date, 'Dinas Komunikasi, Informatika dan Statistik', 'Kepala Dinas Pendidikan', g.body, l.created_at
          FROM gen g JOIN letters l ON l.id = g.id`.execute(trx);
    });
    opts.progress?.(to);
  }
  await sql`ANALYZE letters`.execute(db);
  await sql`ANALYZE records`.execute(db);
  return n - have;
}
