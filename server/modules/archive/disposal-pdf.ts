// The berita acara pemusnahan arsip: who proposed and approved, when, and the
// list of destroyed records (number, date, hal, code, retention basis, the
// hashes whose bytes were deleted). Rendered unsigned here; disposal.ts signs it
// (PAdES, signing/pades.ts) with the approving official's key.
import { formatWhen } from '../../platform/i18n/dates.js';
import { tablePdf } from './berkas-pdf.js';
import { lifecycleMessages } from './lifecycle-messages.js';
import type { DisposalRecordRow } from './repo.js';

const L = (k: keyof typeof lifecycleMessages) => lifecycleMessages[k].id;

export interface BeritaAcara {
  number: string;
  agency: string;
  executedAt: Date;
  disposalId: string;
  proposedAt: Date;
  proposedBy: string;
  approvedAt: Date;
  approver: { name: string; nip: string | null; position: string | null };
  records: DisposalRecordRow[];
  /** Per record id: the sha256 whose bytes are destroyed with it. */
  destroyed: Map<string, string[]>;
}

export function beritaAcaraPdf(b: BeritaAcara): Promise<Uint8Array> {
  const when = (d: Date) => formatWhen(d, 'id', false);
  return tablePdf({
    title: L('archive.disposal.ba_title'),
    lines: [
      b.agency,
      `${L('archive.disposal.ba_number')}: ${b.number}`,
      L('archive.disposal.ba_opening')
        .replace('{date}', formatWhen(b.executedAt, 'id'))
        .replace('{count}', String(b.records.length))
        .replace('{proposal}', `#${b.disposalId}`)
        .replace('{proposedAt}', when(b.proposedAt))
        .replace('{proposer}', b.proposedBy)
        .replace('{approvedAt}', when(b.approvedAt))
        .replace('{approver}', b.approver.name.replace(/\.$/, '')),
    ],
    columns: [
      { header: 'No.', weight: 0.5 },
      { header: L('archive.disposal.ba_col_number'), weight: 2.5 },
      { header: L('archive.disposal.ba_col_date'), weight: 1.3 },
      { header: L('archive.disposal.ba_col_subject'), weight: 4 },
      { header: L('archive.disposal.ba_col_code'), weight: 1.2 },
      { header: L('archive.disposal.ba_col_basis'), weight: 2.4 },
      { header: L('archive.disposal.ba_col_objects'), weight: 4 },
    ],
    rows: b.records.map((r, i) => [
      String(i + 1),
      r.number ?? '-',
      r.record_date ?? '-',
      r.subject,
      r.classification_code ?? '-',
      L('archive.disposal.ba_basis')
        .replace('{active}', String(r.retention_active_years))
        .replace('{inactive}', String(r.retention_inactive_years))
        .replace('{until}', r.retention_until ?? '-'),
      (b.destroyed.get(String(r.id)) ?? []).join(' ') || '-',
    ]),
    closing: [
      L('archive.disposal.ba_closing'),
      '',
      `${b.approver.position ?? ''}`.trim(),
      b.approver.name,
      b.approver.nip ? `NIP ${b.approver.nip}` : '',
    ].filter((l, i) => l !== '' || i === 1),
  });
}
