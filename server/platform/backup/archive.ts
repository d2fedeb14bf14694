// The backup file: a plain POSIX tar (readable with `tar -tvf`), written and read
// here rather than with a package so that reading can be strict: every header's
// checksum, every padding byte and the end-of-archive blocks are checked, and each
// entry's SHA-256 is computed while it is read. Together with the hashes in the
// manifest this covers every byte of the file, so one changed byte anywhere is
// refused (a tar library skips padding and tolerates trailing garbage).
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

const BLOCK = 512;
const ZERO = Buffer.alloc(BLOCK);
/** Largest size the 11 octal digits of ustar hold; larger sizes use GNU base-256. */
const OCTAL_MAX = 8 ** 11 - 1;

export class DamagedArchiveError extends Error {}

function header(name: string, size: number, mtime: Date): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`archive entry name too long: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  if (size <= OCTAL_MAX) h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  else {
    h[124] = 0x80;
    h.writeBigUInt64BE(BigInt(size), 128);
  }
  h.write(Math.floor(mtime.getTime() / 1000).toString(8).padStart(11, '0') + '\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.write(checksum(h).toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

/** The ustar checksum: the sum of all header bytes with the checksum field read as spaces. */
function checksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return sum;
}

function readSize(h: Buffer): number {
  if (h[124] & 0x80) return Number(h.readBigUInt64BE(128));
  return parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
}

/**
 * Writes the given files as one tar, atomically: a temporary file beside `out`,
 * flushed to disk, then renamed, so `out` is either the old file or the whole new one.
 */
export async function writeArchive(out: string, entries: { name: string; file: string }[]): Promise<void> {
  const tmp = path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    const now = new Date();
    for (const e of entries) {
      const size = fs.statSync(e.file).size;
      fs.writeSync(fd, header(e.name, size, now));
      const rs = fs.createReadStream(e.file, { highWaterMark: 1 << 20 });
      for await (const chunk of rs) fs.writeSync(fd, chunk as Buffer);
      if (size % BLOCK) fs.writeSync(fd, Buffer.alloc(BLOCK - (size % BLOCK)));
    }
    fs.writeSync(fd, Buffer.alloc(2 * BLOCK));
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, out);
}

/**
 * Reads the archive, checking its structure, and extracts each entry into `dir`.
 * Returns the SHA-256 of every entry. Throws DamagedArchiveError on anything but a
 * well-formed archive.
 */
export async function extractArchive(file: string, dir: string): Promise<Map<string, { sha256: string; size: number }>> {
  const fd = fs.openSync(file, 'r');
  const entries = new Map<string, { sha256: string; size: number }>();
  try {
    const total = fs.fstatSync(fd).size;
    let pos = 0;
    const read = (n: number): Buffer => {
      const b = Buffer.alloc(n);
      if (fs.readSync(fd, b, 0, n, pos) !== n) throw new DamagedArchiveError('the file ends in the middle of an entry (truncated)');
      pos += n;
      return b;
    };
    for (;;) {
      const h = read(BLOCK);
      if (h.equals(ZERO)) {
        if (!read(BLOCK).equals(ZERO) || pos !== total) throw new DamagedArchiveError('unexpected bytes at the end of the archive');
        return entries;
      }
      const stored = parseInt(h.subarray(148, 156).toString('latin1').replace(/[\0 ].*$/s, ''), 8);
      if (stored !== checksum(h)) throw new DamagedArchiveError(`an entry header is damaged (checksum mismatch at byte ${pos - BLOCK})`);
      const name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
      if (h[156] !== 0x30 || !/^[a-z0-9][a-z0-9._/-]*$/i.test(name) || name.includes('..') || entries.has(name)) {
        throw new DamagedArchiveError(`unexpected entry "${name}" in the archive`);
      }
      const size = readSize(h);
      const target = path.join(dir, name);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      const out = fs.openSync(target, 'w', 0o600);
      const hash = crypto.createHash('sha256');
      try {
        for (let left = size; left > 0; ) {
          const chunk = read(Math.min(left, 1 << 20));
          hash.update(chunk);
          fs.writeSync(out, chunk);
          left -= chunk.length;
        }
      } finally {
        fs.closeSync(out);
      }
      if (size % BLOCK && !read(BLOCK - (size % BLOCK)).equals(Buffer.alloc(BLOCK - (size % BLOCK)))) {
        throw new DamagedArchiveError(`the padding after "${name}" is damaged`);
      }
      entries.set(name, { sha256: hash.digest('hex'), size });
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** SHA-256 and size of a file, streamed. */
export async function fileDigest(file: string): Promise<{ sha256: string; size: number }> {
  const hash = crypto.createHash('sha256');
  let size = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}
