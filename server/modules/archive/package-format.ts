// The archival package's own files inside a BagIt bag's data/ folder: what the
// exporter (package.ts) writes and the offline verifier (package-verify.ts) reads.
// A record's folder holds the signed PDF, lampiran/, metadata.json and audit.json;
// a berkas holds one such folder per record plus berkas.json. Changing a field
// here is a new format version: packages are kept for decades.

import type { ChainFields } from '../../platform/audit/index.js';

export const PACKAGE_FORMAT = 'tnde-archival-package/1';
export const METADATA_JSON = 'metadata.json';
export const AUDIT_JSON = 'audit.json';
export const BERKAS_JSON = 'berkas.json';
/** The CA certificate(s) the signatures chain to, PEM; in the bag's data/ root. */
export const CA_CRT = 'ca.crt';

export interface RecordMetadata {
  format: typeof PACKAGE_FORMAT;
  record: { type: 'letter'; letterId: string; recordId: string | null };
  number: string | null;
  kind: { code: string; name: string };
  /** Hal. */
  subject: string;
  urgency: string;
  securityClass: string;
  classification: { code: string; name: string | null; retentionActiveYears: number | null; retentionInactiveYears: number | null; finalFate: string | null };
  unit: { code: string; name: string; agency: string };
  dates: { created: string; submitted: string | null; approved: string | null; signed: string | null };
  recipients: { to: string[]; cc: string[] };
  signer: { name: string; nip: string | null; position: string | null; capacity: string | null; onBehalf: string | null };
  signature: { signedAt: string; certificateSubject: string | null; certificateIssuer: string | null; certificateSerial: string | null; verificationUrl: string };
  /** Path relative to the record's folder; sha256 as registered when it was signed. */
  signedPdf: { path: string; sha256: string; size: number };
  attachments: { path: string; originalFilename: string; sha256: string; size: number; contentType: string }[];
  versions: { version: number; sha256: string; createdAt: string }[];
  audit: { path: string; entries: number };
}

/** An audit entry exactly as the chain hashes it (platform/audit entryHash), with its hash. */
export type AuditEntryJson = ChainFields & { hash: string };

export interface AuditJson {
  format: typeof PACKAGE_FORMAT;
  /** Entries of the whole installation's chain that concern this record, by seq; links between consecutive seqs can be re-checked. */
  entries: AuditEntryJson[];
}

export interface BerkasJson {
  format: typeof PACKAGE_FORMAT;
  file: { id: string; number: string; title: string; classificationCode: string | null; unit: string; description: string | null; createdAt: string; closedAt: string | null };
  records: { folder: string; number: string | null; subject: string }[];
  /** Filed records without a folder: received letters (not exported yet), destroyed, unsigned or not visible to the exporter. */
  omitted: { recordId: string; reason: string }[];
}
