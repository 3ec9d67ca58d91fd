// Builds ZIP files byte by byte, including the hostile ones yazl refuses to write (`../evil`,
// absolute names, lying sizes, encrypted flags, symlinks anywhere). Local headers, central
// directory and end record follow APPNOTE 6.3; every field a test may want to lie about can be set.

import { writeFile } from 'node:fs/promises';
import { createDeflateRaw, deflateRawSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (the ZIP one), continuing from `previous`. */
export function crc32(data: Uint8Array, previous = 0): number {
  let crc = (previous ^ 0xffffffff) >>> 0;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

export interface RawEntry {
  /** The name exactly as stored (a string is written as UTF-8 with the UTF-8 flag). */
  readonly name: string;
  /** Uncompressed content (a symlink's target for symlinks). */
  readonly data?: Buffer | string;
  /** 0 stored, 8 deflate (default: deflate when there is data). */
  readonly method?: number;
  /** Use these compressed bytes instead of compressing `data` (with `declaredSize`/`crc`). */
  readonly compressed?: Buffer;
  /** Uncompressed size written in both headers (default: the real one). */
  readonly declaredSize?: number;
  readonly crc?: number;
  /** Unix mode with its type bits, e.g. 0o100755 or 0o120777; written in the external attributes. */
  readonly mode?: number;
  /** General purpose bit flag (bit 0: encrypted). The UTF-8 bit 11 is always added. */
  readonly flags?: number;
  /** Version made by: 3 << 8 (Unix) unless set. */
  readonly madeBy?: number;
}

/** A whole ZIP in memory (for small hostile archives). */
export function buildZip(entries: readonly RawEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const data = entry.data === undefined ? Buffer.alloc(0) : Buffer.from(entry.data);
    const method = entry.method ?? (data.length > 0 || entry.compressed ? 8 : 0);
    const compressed = entry.compressed ?? (method === 8 ? deflateRawSync(data) : data);
    const size = entry.declaredSize ?? data.length;
    const crc = entry.crc ?? crc32(data);
    const flags = (entry.flags ?? 0) | 0x800;
    const mode = entry.mode ?? (entry.name.endsWith('/') ? S_IFDIR | 0o755 : S_IFREG | 0o644);
    const external = (((mode << 16) >>> 0) | (entry.name.endsWith('/') ? 0x10 : 0)) >>> 0;
    const dosTime = (12 << 11) | (30 << 5); // 12:30:00
    const dosDate = ((2020 - 1980) << 9) | (6 << 5) | 15; // 2020-06-15

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, compressed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(entry.madeBy ?? (3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(dosTime, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(0, 30);
    central.writeUInt16LE(0, 32);
    central.writeUInt16LE(0, 34);
    central.writeUInt16LE(0, 36);
    central.writeUInt32LE(external, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const centralDirectory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralDirectory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralDirectory, end]);
}

export async function writeZip(path: string, entries: readonly RawEntry[]): Promise<void> {
  await writeFile(path, buildZip(entries));
}

/** Raw deflate of `size` zero bytes, streamed (1 GiB → about 1 MiB), with the CRC of the zeros. */
export async function deflatedZeros(size: number): Promise<{ compressed: Buffer; crc: number }> {
  const block = Buffer.alloc(1024 * 1024);
  const deflate = createDeflateRaw({ level: 9 });
  const chunks: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => chunks.push(chunk));
  const finished = new Promise<void>((resolve, reject) => {
    deflate.on('end', resolve);
    deflate.on('error', reject);
  });
  let crc = 0;
  let fullBlockCrc: number | undefined;
  for (let written = 0; written < size; ) {
    const take = Math.min(block.length, size - written);
    const chunk = take === block.length ? block : block.subarray(0, take);
    if (take === block.length) {
      fullBlockCrc ??= crc32(block);
    }
    crc = crc32Combine(crc, take === block.length ? (fullBlockCrc as number) : crc32(chunk), take);
    written += take;
    if (!deflate.write(chunk)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await finished;
  return { compressed: Buffer.concat(chunks), crc };
}

// crc32_combine from zlib: the CRC of A‖B from crc(A), crc(B) and len(B), so 1 GiB of zeros needs
// one CRC of a 1 MiB block rather than 1 GiB of table lookups.
function gf2MatrixTimes(matrix: Uint32Array, vector: number): number {
  let sum = 0;
  for (let i = 0; vector !== 0; i++, vector >>>= 1) if (vector & 1) sum ^= matrix[i] as number;
  return sum >>> 0;
}
function gf2MatrixSquare(square: Uint32Array, matrix: Uint32Array): void {
  for (let n = 0; n < 32; n++) square[n] = gf2MatrixTimes(matrix, matrix[n] as number);
}
export function crc32Combine(crc1: number, crc2: number, length2: number): number {
  if (length2 <= 0) return crc1 >>> 0;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  odd[0] = 0xedb88320;
  for (let n = 1, row = 1; n < 32; n++, row <<= 1) odd[n] = row;
  gf2MatrixSquare(even, odd);
  gf2MatrixSquare(odd, even);
  let result = crc1 >>> 0;
  let length = length2;
  do {
    gf2MatrixSquare(even, odd);
    if (length & 1) result = gf2MatrixTimes(even, result);
    length = Math.floor(length / 2);
    if (length === 0) break;
    gf2MatrixSquare(odd, even);
    if (length & 1) result = gf2MatrixTimes(odd, result);
    length = Math.floor(length / 2);
  } while (length !== 0);
  return (result ^ crc2) >>> 0;
}

/** A comparable description of a folder: kind, permission bits, size and content hash per path. */
export async function describeTree(directory: string): Promise<string[]> {
  const { createHash } = await import('node:crypto');
  const { lstat, readdir, readFile, readlink } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const lines: string[] = [];
  async function visit(relative: string): Promise<void> {
    for (const name of (await readdir(join(directory, relative))).sort()) {
      const path = relative ? `${relative}/${name}` : name;
      const stats = await lstat(join(directory, path));
      const mode = (stats.mode & 0o777).toString(8);
      if (stats.isSymbolicLink()) lines.push(`${path} symlink -> ${await readlink(join(directory, path))}`);
      else if (stats.isDirectory()) {
        lines.push(`${path}/ dir ${mode}`);
        await visit(path);
      } else lines.push(`${path} file ${mode} ${stats.size} ${createHash('sha256').update(await readFile(join(directory, path))).digest('hex').slice(0, 16)}`);
    }
  }
  await visit('');
  return lines;
}
