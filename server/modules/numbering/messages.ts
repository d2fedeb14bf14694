export const numberingMessages = {
  'numbering.no_series': { id: 'Belum ada seri penomoran untuk unit ini. Hubungi administrator.', en: 'No number series is configured for this unit. Contact the administrator.' },
  'numbering.format_needs_nomor': { id: 'Format nomor harus memuat {nomor}.', en: 'The number format must contain {nomor}.' },
  'numbering.format_unknown_token': { id: 'Format nomor memuat token yang tidak dikenal: {token}', en: 'The number format contains an unknown token: {token}' },
  'numbering.format_unbalanced': { id: 'Format nomor memuat kurung kurawal yang tidak berpasangan.', en: 'The number format has unbalanced braces.' },
  'numbering.unknown_unit': { id: 'Unit kerja tidak ditemukan.', en: 'Unit not found.' },
  'numbering.series_exists': { id: 'Seri penomoran untuk unit, lingkup dan jenis ini sudah ada.', en: 'A series for this unit, scope and kind already exists.' },
  'numbering.already_voided': { id: 'Nomor ini sudah dibatalkan.', en: 'This number is already void.' },
} satisfies Record<string, { id: string; en: string }>;
