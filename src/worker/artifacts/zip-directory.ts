// Reads a ZIP's end records and central directory out of bytes taken from the end of the archive,
// so an artifact in S3 can be planned from a ranged GET of its tail before its body arrives
// (APPNOTE 6.3.10: 4.3.16 end of central directory record, 4.3.14–15 ZIP64 record and locator,
// 4.3.12 central directory header, 4.5.3 ZIP64 extended information). Pure: bytes in, entries out;
// every malformation is a HostileArchive('corrupt') saying what is wrong. Names, extra fields and
// timestamps are decoded by yauzl's own helpers, so entries read exactly as they did through yauzl.

import yauzl from 'yauzl';
import { HostileArchive, quoteName } from './archive-rules.js';

const EOCD_SIGNATURE = 0x06054b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const ZIP64_EOCD_SIZE = 56;
const CENTRAL_SIGNATURE = 0x02014b50;
const CENTRAL_SIZE = 46;
export const LOCAL_HEADER_SIGNATURE = 0x04034b50;
/** Fixed part of a local file header; the name and extra field follow. */
export const LOCAL_HEADER_SIZE = 30;
const ZIP64_EXTRA_ID = 0x0001;
const UINT16_MAX = 0xffff;
const UINT32_MAX = 0xffffffff;

/** Bytes from the end that always hold the end records: the EOCD with the longest comment, the ZIP64
 *  locator and the ZIP64 record (its extensible data sector aside, which nothing writes). */
export const END_RECORDS_MAX_BYTES = EOCD_SIZE + MAX_COMMENT + ZIP64_LOCATOR_SIZE + ZIP64_EOCD_SIZE;

/** Bytes [start, start + bytes.length) of an archive of `size` bytes. */
export interface ArchiveWindow {
  readonly start: number;
  readonly bytes: Buffer;
}

export interface EndOfCentralDirectory {
  readonly entryCount: number;
  readonly directoryOffset: number;
  readonly directorySize: number;
  /** Where the end records begin: the central directory and every entry lie before it. */
  readonly endRecordsOffset: number;
}

export type EndRecords = { readonly found: EndOfCentralDirectory } | { readonly needFrom: number } | { readonly missing: true };

export interface DirectoryEntry {
  /** Position in the central directory. */
  readonly index: number;
  /** The decoded name, backslashes kept (the rules treat them as separators). */
  readonly name: string;
  readonly flags: number;
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
  readonly externalAttributes: number;
  readonly lastModified: Date | undefined;
}

function corrupt(artifact: string, why: string): HostileArchive {
  return new HostileArchive('corrupt', `input artifact ${artifact} is not a valid ZIP file: ${why}`);
}

function readUInt64(buffer: Buffer, offset: number, artifact: string, field: string): number {
  const value = buffer.readBigUInt64LE(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(artifact, `its ${field} (${value}) is beyond any real archive`);
  return Number(value);
}

function windowHas(window: ArchiveWindow, start: number, length: number): boolean {
  return start >= window.start && start + length <= window.start + window.bytes.length;
}

/**
 * Finds the end of central directory record (and its ZIP64 form) in `window`, which must end where
 * the archive ends and hold its last END_RECORDS_MAX_BYTES bytes (or all of it). Returns `needFrom`
 * when the ZIP64 record lies before the window, and `missing` when there is no end record at all
 * (not a ZIP, or a truncated one: the caller looks at the first bytes to say which).
 */
export function readEndRecords(window: ArchiveWindow, size: number, artifact: string): EndRecords {
  const { bytes, start } = window;
  if (start + bytes.length !== size || (start > 0 && bytes.length < END_RECORDS_MAX_BYTES)) {
    throw new Error(`readEndRecords needs the archive's last ${END_RECORDS_MAX_BYTES} bytes`);
  }
  // Search backwards, as yauzl and Info-ZIP do; a record only counts if its comment ends the file.
  const lowest = Math.max(0, bytes.length - EOCD_SIZE - MAX_COMMENT);
  let at = -1;
  for (let i = bytes.length - EOCD_SIZE; i >= lowest; i--) {
    if (bytes.readUInt32LE(i) === EOCD_SIGNATURE && bytes.readUInt16LE(i + 20) === bytes.length - i - EOCD_SIZE) {
      at = i;
      break;
    }
  }
  if (at < 0) return { missing: true };
  const eocdOffset = start + at;
  const diskNumber = bytes.readUInt16LE(at + 4);
  const entryCount = bytes.readUInt16LE(at + 10);
  const directorySize = bytes.readUInt32LE(at + 12);
  const directoryOffset = bytes.readUInt32LE(at + 16);

  const locator = at - ZIP64_LOCATOR_SIZE;
  if (locator >= 0 && bytes.readUInt32LE(locator) === ZIP64_LOCATOR_SIGNATURE) {
    const recordOffset = readUInt64(bytes, locator + 8, artifact, 'ZIP64 end record offset');
    if (recordOffset + ZIP64_EOCD_SIZE > start + locator) throw corrupt(artifact, `its ZIP64 end record offset ${recordOffset} points past the record's locator`);
    if (!windowHas(window, recordOffset, ZIP64_EOCD_SIZE)) return { needFrom: recordOffset };
    const record = recordOffset - start;
    if (bytes.readUInt32LE(record) !== ZIP64_EOCD_SIGNATURE) throw corrupt(artifact, `no ZIP64 end of central directory record at offset ${recordOffset}`);
    const zip64Disk = bytes.readUInt32LE(record + 16);
    if (zip64Disk !== 0) throw corrupt(artifact, `it spans several disks (disk number ${zip64Disk}), which cpsync does not read`);
    return {
      found: checkedEnd(artifact, {
        entryCount: readUInt64(bytes, record + 32, artifact, 'entry count'),
        directorySize: readUInt64(bytes, record + 40, artifact, 'central directory size'),
        directoryOffset: readUInt64(bytes, record + 48, artifact, 'central directory offset'),
        endRecordsOffset: recordOffset,
      }),
    };
  }
  if (diskNumber !== 0) throw corrupt(artifact, `it spans several disks (disk number ${diskNumber}), which cpsync does not read`);
  if (entryCount === UINT16_MAX || directoryOffset === UINT32_MAX) throw corrupt(artifact, 'its end record needs a ZIP64 record, and there is none');
  return { found: checkedEnd(artifact, { entryCount, directorySize, directoryOffset, endRecordsOffset: eocdOffset }) };
}

function checkedEnd(artifact: string, end: EndOfCentralDirectory): EndOfCentralDirectory {
  const directoryEnd = end.directoryOffset + end.directorySize;
  if (directoryEnd > end.endRecordsOffset) {
    throw corrupt(artifact, `its central directory (bytes ${end.directoryOffset}–${directoryEnd}) runs past its end record at ${end.endRecordsOffset} (truncated?)`);
  }
  if (end.entryCount * CENTRAL_SIZE > end.directorySize) {
    throw corrupt(artifact, `its end record counts ${end.entryCount} entries, which do not fit in a ${end.directorySize}-byte central directory`);
  }
  return end;
}

/** Reads every central directory header. `window` must hold the whole central directory. */
export function readCentralDirectory(window: ArchiveWindow, end: EndOfCentralDirectory, artifact: string): DirectoryEntry[] {
  if (!windowHas(window, end.directoryOffset, end.directorySize)) throw new Error('readCentralDirectory needs the whole central directory');
  const directory = window.bytes.subarray(end.directoryOffset - window.start, end.directoryOffset - window.start + end.directorySize);
  const entries: DirectoryEntry[] = [];
  let at = 0;
  for (let index = 0; index < end.entryCount; index++) {
    if (at + CENTRAL_SIZE > directory.length) throw corrupt(artifact, `its central directory ends after ${index} of ${end.entryCount} entries`);
    const signature = directory.readUInt32LE(at);
    if (signature !== CENTRAL_SIGNATURE) throw corrupt(artifact, `central directory entry ${index} has no header signature (found 0x${signature.toString(16)})`);
    const flags = directory.readUInt16LE(at + 8);
    const method = directory.readUInt16LE(at + 10);
    const time = directory.readUInt16LE(at + 12);
    const date = directory.readUInt16LE(at + 14);
    const crc32 = directory.readUInt32LE(at + 16);
    let compressedSize = directory.readUInt32LE(at + 20);
    let uncompressedSize = directory.readUInt32LE(at + 24);
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    const externalAttributes = directory.readUInt32LE(at + 38);
    let localHeaderOffset = directory.readUInt32LE(at + 42);
    const variable = at + CENTRAL_SIZE;
    const next = variable + nameLength + extraLength + commentLength;
    if (next > directory.length) throw corrupt(artifact, `central directory entry ${index} runs past the end of the central directory`);
    const rawName = directory.subarray(variable, variable + nameLength);
    let extraFields: yauzl.ExtraField[];
    try {
      extraFields = yauzl.parseExtraFields(directory.subarray(variable + nameLength, variable + nameLength + extraLength));
    } catch {
      throw corrupt(artifact, `central directory entry ${index} has a malformed extra field`);
    }
    // ZIP64 extended information: only the fields saturated in the fixed header, in this order.
    const zip64 = extraFields.find((field) => field.id === ZIP64_EXTRA_ID)?.data;
    let cursor = 0;
    const wide = (field: string): number => {
      if (!zip64 || cursor + 8 > zip64.length) throw corrupt(artifact, `central directory entry ${index} needs a ZIP64 ${field} and has none`);
      const value = readUInt64(zip64, cursor, artifact, field);
      cursor += 8;
      return value;
    };
    if (uncompressedSize === UINT32_MAX) uncompressedSize = wide('uncompressed size');
    if (compressedSize === UINT32_MAX) compressedSize = wide('compressed size');
    if (localHeaderOffset === UINT32_MAX) localHeaderOffset = wide('local header offset');

    const name = yauzl.getFileNameLowLevel(flags, rawName, extraFields, true);
    // yauzl's Entry reads the Info-ZIP and NTFS extended timestamps before the DOS one.
    const lastModified = Object.assign(new yauzl.Entry(), { extraFields, lastModFileDate: date, lastModFileTime: time }).getLastModDate();
    entries.push({
      index,
      name,
      flags,
      method,
      crc32,
      compressedSize,
      uncompressedSize,
      localHeaderOffset,
      externalAttributes,
      lastModified: Number.isFinite(lastModified.getTime()) ? lastModified : undefined,
    });
    at = next;
  }
  return entries;
}

/** Reads a local file header's fixed part; returns how many bytes (name, extra field) follow it. */
export function readLocalHeader(header: Buffer, offset: number, entryName: string, artifact: string): { readonly variableLength: number } {
  if (header.length < LOCAL_HEADER_SIZE || header.readUInt32LE(0) !== LOCAL_HEADER_SIGNATURE) {
    throw corrupt(artifact, `the central directory puts entry ${quoteName(entryName)} at offset ${offset}, where there is no local file header`);
  }
  return { variableLength: header.readUInt16LE(26) + header.readUInt16LE(28) };
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (ZIP's, as zlib.crc32), continuing from `previous`; for Node versions without zlib.crc32. */
export function crc32Portable(data: Uint8Array, previous = 0): number {
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = ~previous >>> 0;
  for (let i = 0; i < data.length; i++) crc = (crcTable[(crc ^ (data[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return ~crc >>> 0;
}
