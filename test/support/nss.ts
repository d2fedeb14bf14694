// Independent validators for signed PDFs: pdfsig (poppler) with an NSS trust
// database holding our test CA, plus a guard for the Debian tools these tests run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import type { Context } from 'mocha';

/**
 * Skips the calling test (or hook) when a tool is missing, loudly; fails in CI,
 * where the tools are installed on purpose and a skip would hide a regression.
 */
export function requireTools(ctx: Context, ...tools: string[]): void {
  const missing = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missing.length === 0) return;
  const message = `missing tools: ${missing.join(', ')} (apt-get install poppler-utils qpdf openssl libnss3-tools)`;
  if (process.env.CI) throw new Error(message);
  console.warn(`    SKIPPED: ${message}`);
  ctx.skip();
}

export interface NssTrust {
  dir: string;
  /** pdfsig's report; it exits 0 even on "Digest Mismatch", so callers read the text. */
  pdfsig(pdfPath: string): string;
  cleanup(): void;
}

export function nssTrustDb(caPems: string[]): NssTrust {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tnde-nss-'));
  execFileSync('certutil', ['-N', '-d', `sql:${dir}`, '--empty-password']);
  caPems.forEach((pem, i) => {
    const file = path.join(dir, `ca${i}.pem`);
    fs.writeFileSync(file, pem);
    execFileSync('certutil', ['-A', '-d', `sql:${dir}`, '-n', `ca${i}`, '-t', 'CT,C,C', '-i', file]);
  });
  return {
    dir,
    pdfsig: (pdfPath) => {
      const r = spawnSync('pdfsig', ['-nssdir', `sql:${dir}`, pdfPath], { encoding: 'utf8' });
      return `${r.stdout}${r.stderr}`;
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
