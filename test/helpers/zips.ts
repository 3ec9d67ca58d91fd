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
  /** Extra field bytes in the local header only (they push the data further along). */
  readonly localExtra?: Buffer;
  /** The local header offset the central directory gives (default: where the entry really is). */
  readonly centralOffset?: number;
  /** The compressed size the central directory gives (default: the real one). */
  readonly centralCompressedSize?: number;
}

export interface ZipLayout {
  /** Write ZIP64 records: sizes and offsets saturated in the headers, the real ones in ZIP64 extra
   *  fields, a ZIP64 end record and locator before the classic end record. */
  readonly zip64?: boolean;
  /** The order of the central directory, as indexes into the entries (default: file order). */
  readonly centralOrder?: readonly number[];
  /** Bytes between the last entry and the central directory. */
  readonly gap?: number;
  /** Bytes of "zip64 extensible data" after the ZIP64 end record (which moves it away from the end). */
  readonly zip64ExtensibleBytes?: number;
}

function zip64Extra(values: readonly number[]): Buffer {
  const extra = Buffer.alloc(4 + 8 * values.length);
  extra.writeUInt16LE(0x0001, 0);
  extra.writeUInt16LE(8 * values.length, 2);
  values.forEach((value, index) => extra.writeBigUInt64LE(BigInt(value), 4 + 8 * index));
  return extra;
}

/** A whole ZIP in memory (for small hostile archives). */
export function buildZip(entries: readonly RawEntry[], layout: ZipLayout = {}): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  const zip64 = layout.zip64 ?? false;
  const SATURATED = 0xffffffff;
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

    const localExtra = Buffer.concat([zip64 ? zip64Extra([size, compressed.length]) : Buffer.alloc(0), entry.localExtra ?? Buffer.alloc(0)]);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(zip64 ? 45 : 20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(zip64 ? SATURATED : compressed.length, 18);
    local.writeUInt32LE(zip64 ? SATURATED : size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(localExtra.length, 28);
    locals.push(local, name, localExtra, compressed);

    const centralOffset = entry.centralOffset ?? offset;
    const centralCompressed = entry.centralCompressedSize ?? compressed.length;
    const centralExtra = zip64 ? zip64Extra([size, centralCompressed, centralOffset]) : Buffer.alloc(0);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(entry.madeBy ?? (3 << 8) | 20, 4);
    central.writeUInt16LE(zip64 ? 45 : 20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(dosTime, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(zip64 ? SATURATED : centralCompressed, 20);
    central.writeUInt32LE(zip64 ? SATURATED : size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(centralExtra.length, 30);
    central.writeUInt16LE(0, 32);
    central.writeUInt16LE(0, 34);
    central.writeUInt16LE(0, 36);
    central.writeUInt32LE(external, 38);
    central.writeUInt32LE(zip64 ? SATURATED : centralOffset, 42);
    centrals.push(Buffer.concat([central, name, centralExtra]));
    offset += local.length + name.length + localExtra.length + compressed.length;
  }
  if (layout.gap) {
    locals.push(Buffer.alloc(layout.gap));
    offset += layout.gap;
  }
  const order = layout.centralOrder ?? centrals.map((_, index) => index);
  const centralDirectory = Buffer.concat(order.map((index) => centrals[index] as Buffer));
  const records: Buffer[] = [];
  if (zip64) {
    const extensible = layout.zip64ExtensibleBytes ?? 0;
    const record = Buffer.alloc(56 + extensible);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(BigInt(44 + extensible), 4);
    record.writeUInt16LE((3 << 8) | 45, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(BigInt(order.length), 24);
    record.writeBigUInt64LE(BigInt(order.length), 32);
    record.writeBigUInt64LE(BigInt(centralDirectory.length), 40);
    record.writeBigUInt64LE(BigInt(offset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(offset + centralDirectory.length), 8); // where the ZIP64 end record starts
    locator.writeUInt32LE(1, 16);
    records.push(record, locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(zip64 ? 0xffff : order.length, 8);
  end.writeUInt16LE(zip64 ? 0xffff : order.length, 10);
  end.writeUInt32LE(zip64 ? SATURATED : centralDirectory.length, 12);
  end.writeUInt32LE(zip64 ? SATURATED : offset, 16);
  return Buffer.concat([...locals, centralDirectory, ...records, end]);
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
