// UI text of the archival package (paket arsip) export.
export const packageMessages = {
  'archive.package.download': { id: 'Unduh paket arsip', en: 'Download archival package' },
  'archive.package.hint': {
    id: 'Berkas ZIP (BagIt) berisi PDF bertanda tangan, lampiran, metadata, dan jejak audit surat ini; dapat diperiksa tanpa jaringan dengan perintah package verify.',
    en: 'A ZIP file (BagIt) with the signed PDF, attachments, metadata and audit entries of this letter; it can be checked offline with the package verify command.',
  },
  'archive.package.not_allowed': { id: 'Paket arsip hanya dapat diunduh oleh arsiparis, konseptor, atau penandatangan surat ini.', en: 'Only archivists and the drafter or signer of this letter may download its archival package.' },
  'archive.package.not_signed': { id: 'Paket arsip hanya tersedia untuk surat yang sudah ditandatangani.', en: 'An archival package exists only for a signed letter.' },
} satisfies Record<string, { id: string; en: string }>;
