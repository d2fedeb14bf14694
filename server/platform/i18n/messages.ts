// Platform-wide UI text. Each module keeps its own messages in its folder
// (modules/<name>/messages.ts); they are merged here.
import { orgMessages } from '../../modules/org/messages.js';
import { accountMessages } from '../../modules/account/messages.js';
import { auditMessages } from '../audit/messages.js';
import { letterMessages } from '../../modules/letters/messages.js';
import { numberingMessages } from '../../modules/numbering/messages.js';
import { archiveMessages } from '../../modules/archive/messages.js';
import { lifecycleMessages } from '../../modules/archive/lifecycle-messages.js';
import { packageMessages } from '../../modules/archive/package-messages.js';
import { searchMessages } from '../../modules/archive/search-messages.js';
import { approvalMessages } from '../../modules/approvals/messages.js';
import { letterKindMessages } from '../../modules/letters/kinds-messages.js';
import { signingMessages } from '../../modules/signing/messages.js';
import { dispatchMessages } from '../../modules/dispatch/messages.js';
import { exchangeMessages } from '../../modules/exchange/messages.js';
import { reportMessages } from '../../modules/reports/messages.js';
import { healthMessages } from '../../modules/health/messages.js';

export type Messages = Record<string, { id: string; en: string }>;

const platformMessages = {
  'app.name': { id: 'Tata Naskah Dinas Elektronik', en: 'Electronic Official Correspondence' },
  'app.short': { id: 'TNDE', en: 'TNDE' },
  'nav.home': { id: 'Beranda', en: 'Home' },
  'nav.org': { id: 'Organisasi', en: 'Organisation' },
  'nav.users': { id: 'Pengguna', en: 'Users' },
  'nav.audit': { id: 'Jejak Audit', en: 'Audit trail' },
  'nav.profile': { id: 'Profil', en: 'Profile' },
  'nav.logout': { id: 'Keluar', en: 'Sign out' },
  'nav.login': { id: 'Masuk', en: 'Sign in' },
  'nav.language': { id: 'English', en: 'Bahasa Indonesia' },
  'nav.menu': { id: 'Menu', en: 'Menu' },
  'common.save': { id: 'Simpan', en: 'Save' },
  'common.cancel': { id: 'Batal', en: 'Cancel' },
  'common.create': { id: 'Tambah', en: 'Add' },
  'common.edit': { id: 'Ubah', en: 'Edit' },
  'common.search': { id: 'Cari', en: 'Search' },
  'common.filter': { id: 'Saring', en: 'Filter' },
  'common.actions': { id: 'Aksi', en: 'Actions' },
  'common.yes': { id: 'Ya', en: 'Yes' },
  'common.no': { id: 'Tidak', en: 'No' },
  'common.active': { id: 'Aktif', en: 'Active' },
  'common.inactive': { id: 'Nonaktif', en: 'Inactive' },
  'common.none': { id: 'Tidak ada', en: 'None' },
  'common.back': { id: 'Kembali', en: 'Back' },
  'common.prev': { id: 'Sebelumnya', en: 'Previous' },
  'common.next': { id: 'Berikutnya', en: 'Next' },
  'common.page': { id: 'Halaman {page} dari {pages}', en: 'Page {page} of {pages}' },
  'common.total': { id: '{count} data', en: '{count} records' },
  'common.saved': { id: 'Perubahan disimpan.', en: 'Changes saved.' },
  'common.empty': { id: 'Belum ada data.', en: 'Nothing here yet.' },
  'home.title': { id: 'Beranda', en: 'Home' },
  'home.welcome': { id: 'Selamat datang, {name}', en: 'Welcome, {name}' },
  'home.position': { id: 'Jabatan', en: 'Position' },
  'home.unit': { id: 'Unit kerja', en: 'Unit' },
  'home.roles': { id: 'Peran', en: 'Roles' },
  'error.title': { id: 'Terjadi kesalahan', en: 'Something went wrong' },
  'error.validation': { id: 'Data yang dikirim tidak valid.', en: 'The data sent is not valid.' },
  'error.unauthorized': { id: 'Silakan masuk terlebih dahulu.', en: 'Please sign in first.' },
  'error.invalid_token': { id: 'Token API tidak valid atau sudah dicabut.', en: 'The API token is invalid or revoked.' },
  'error.forbidden': { id: 'Anda tidak memiliki akses untuk tindakan ini.', en: 'You do not have permission to do this.' },
  'error.not_found': { id: 'Halaman atau data tidak ditemukan.', en: 'Page or record not found.' },
  'error.conflict': { id: 'Data bertentangan dengan data yang sudah ada.', en: 'This conflicts with existing data.' },
  'error.too_large': { id: 'Data yang dikirim terlalu besar.', en: 'The data sent is too large.' },
  'error.malformed': { id: 'Format data tidak dapat dibaca.', en: 'The data could not be read.' },
  'error.rate_limited': { id: 'Terlalu banyak permintaan. Coba lagi beberapa saat lagi.', en: 'Too many requests. Try again shortly.' },
  'error.csrf': { id: 'Formulir kedaluwarsa atau tidak sah. Muat ulang halaman lalu coba lagi.', en: 'The form expired or is not valid. Reload the page and try again.' },
  'error.internal': { id: 'Terjadi kesalahan pada server. Kejadian ini sudah dicatat.', en: 'A server error occurred. It has been logged.' },
  'error.home': { id: 'Kembali ke beranda', en: 'Back to home' },
} satisfies Messages;

export const messages: Messages = { ...platformMessages, ...auditMessages, ...orgMessages, ...accountMessages, ...letterMessages, ...numberingMessages, ...archiveMessages, ...lifecycleMessages, ...packageMessages, ...searchMessages, ...approvalMessages, ...letterKindMessages, ...signingMessages, ...dispatchMessages, ...exchangeMessages, ...reportMessages, ...healthMessages };
