// Receives an upload body (PutObject, UploadPart): decodes its framing, streams it to a staged
// file while computing the MD5 ETag and the flexible checksum, then checks them against what the
// headers promised. Nothing is held in memory beyond the chunk in flight.

import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createDigest, type StoredChecksum } from './checksums.js';
import { discardStaged, stageBody, type StagedFile } from './disk-files.js';
import { createPayloadDecoder, verifyUpload, type UploadExpectations } from './payload.js';

export interface ReceivedUpload {
  readonly staged: StagedFile;
  /** Hex MD5 of the body (the ETag of a plaintext or SSE-S3 upload), when it was computed. */
  readonly md5Hex: string | undefined;
  readonly checksum: StoredChecksum | undefined;
}

/** `md5`: whether the caller needs the body's MD5 (for its ETag); it is computed anyway when the
 *  request sent Content-MD5, which must be verified. */
export async function receiveUpload(request: IncomingMessage, expected: UploadExpectations, dir: string, options: { readonly md5: boolean }): Promise<ReceivedUpload> {
  const decoder = createPayloadDecoder(expected);
  const md5 = options.md5 || expected.contentMd5 !== undefined ? createHash('md5') : undefined;
  const digest = expected.checksum ? createDigest(expected.checksum.algorithm) : undefined;
  const observe = (piece: Buffer) => {
    md5?.update(piece);
    digest?.update(piece);
  };
  const staged = await stageBody(dir, request, {
    write: (raw) => {
      const kept = decoder.write(raw);
      if (Buffer.isBuffer(kept)) observe(kept);
      else kept.forEach(observe);
      return kept;
    },
    end: () => decoder.end(),
  });
  const md5Bytes = md5?.digest();
  const verdict = verifyUpload(expected, { size: staged.size, md5: md5Bytes?.toString('base64'), computedChecksum: digest?.digest(), trailers: decoder.trailers });
  if (verdict instanceof Error) {
    await discardStaged(staged);
    throw verdict;
  }
  return { staged, md5Hex: md5Bytes?.toString('hex'), checksum: verdict };
}
