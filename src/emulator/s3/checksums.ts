// Flexible checksums (x-amz-checksum-*). The SDK sends one per upload (CRC32 by default), as a
// header or an aws-chunked trailer; S3 verifies it, stores it, and returns it on a full-object
// GetObject when the client sends `x-amz-checksum-mode: ENABLED`, which the SDK then validates.
// CRC32, CRC32C, SHA1 and SHA256 are computed and verified here; CRC64NVME is stored as sent
// (Node has no implementation and a JavaScript one over BigInt would dominate throughput).

import { createHash, type Hash } from 'node:crypto';
import * as zlib from 'node:zlib';

export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export interface StoredChecksum {
  readonly algorithm: ChecksumAlgorithm;
  /** Base64, as in the header. */
  readonly value: string;
}

export function checksumHeaderName(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

export function parseChecksumAlgorithm(text: string | undefined): ChecksumAlgorithm | undefined {
  const upper = text?.toUpperCase();
  return CHECKSUM_ALGORITHMS.find((algorithm) => algorithm === upper);
}

/** An incremental digest for one algorithm; `undefined` from `digest()` when it cannot compute it. */
export interface Digest {
  update(chunk: Buffer): void;
  digest(): string | undefined;
}

export function createDigest(algorithm: ChecksumAlgorithm): Digest {
  switch (algorithm) {
    case 'SHA1':
    case 'SHA256':
      return hashDigest(createHash(algorithm === 'SHA1' ? 'sha1' : 'sha256'));
    case 'CRC32':
      return crcDigest(nativeCrc32 ?? tableCrc(CRC32_TABLE));
    case 'CRC32C':
      return crcDigest(tableCrc(CRC32C_TABLE));
    case 'CRC64NVME':
      return { update: () => undefined, digest: () => undefined };
  }
}

function hashDigest(hash: Hash): Digest {
  return { update: (chunk) => void hash.update(chunk), digest: () => hash.digest('base64') };
}

type CrcStep = (chunk: Buffer, previous: number) => number;

function crcDigest(step: CrcStep): Digest {
  let value = 0;
  return {
    update: (chunk) => {
      value = step(chunk, value);
    },
    digest: () => {
      const bytes = Buffer.alloc(4);
      bytes.writeUInt32BE(value >>> 0);
      return bytes.toString('base64');
    },
  };
}

// zlib.crc32 exists from Node 20.15; older 20.x falls back to the table.
const nativeCrc32: CrcStep | undefined = typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? (chunk, previous) => zlib.crc32(chunk, previous) : undefined;

function makeTable(polynomial: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? polynomial ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

const CRC32_TABLE = makeTable(0xedb88320);
const CRC32C_TABLE = makeTable(0x82f63b78);

function tableCrc(table: Uint32Array): CrcStep {
  return (chunk, previous) => {
    let crc = ~previous;
    for (let i = 0; i < chunk.length; i++) crc = (table[(crc ^ (chunk[i] as number)) & 0xff] as number) ^ (crc >>> 8);
    return ~crc >>> 0;
  };
}
