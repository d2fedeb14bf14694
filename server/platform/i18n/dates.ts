// Dates and times as people in Indonesia read them: the WIB clock (Asia/Jakarta).
export function formatWhen(d: Date | string | null | undefined, locale: string, withTime = true): string {
  if (!d) return '-';
  return new Date(d).toLocaleString(locale === 'id' ? 'id-ID' : 'en-GB', { timeZone: 'Asia/Jakarta', dateStyle: 'medium', ...(withTime ? { timeStyle: 'short' } : {}) });
}
