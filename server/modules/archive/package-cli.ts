// `npm run cli -- package verify --file F [--ca CA.pem]`: the offline check of
// an archival package, printed for a person. Exit 0 valid, 1 invalid, 2 misuse.
import fs from 'node:fs';
import { verifyPackage } from './package-verify.js';

export async function verifyPackageCommand(opts: Record<string, string | boolean | undefined>): Promise<number> {
  if (typeof opts.file !== 'string') {
    console.error('--file F is required (the package .zip)');
    return 2;
  }
  let zip: Buffer;
  let ca: string | undefined;
  try {
    zip = fs.readFileSync(opts.file);
    ca = typeof opts.ca === 'string' ? fs.readFileSync(opts.ca, 'utf8') : undefined;
  } catch (e) {
    console.error(`Cannot read ${(e as NodeJS.ErrnoException).path ?? opts.file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    return 2;
  }
  const report = await verifyPackage(zip, { trustAnchorsPem: ca });
  console.log(`Package ${opts.file}${report.bag ? ` (bag ${report.bag})` : ''}`);
  for (const line of report.passed) console.log(`  OK    ${line}`);
  for (const line of report.notes) console.log(`  NOTE  ${line}`);
  for (const line of report.failed) console.log(`  FAIL  ${line}`);
  console.log(report.valid ? 'VALID: every check passed.' : `INVALID: ${report.failed.length} check(s) failed.`);
  return report.valid ? 0 : 1;
}
