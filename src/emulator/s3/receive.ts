// Receives an upload body (PutObject, UploadPart): decodes its framing, streams it to a staged
// file while computing the MD5 ETag and the flexible checksum, then checks them against what the
// headers promised. Nothing is held in memory beyond the chunk in flight.

import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createDigest, type StoredChecksum } from './checksums.js';
import { discardStaged, stageStream, type StagedFile } from './disk-files.js';
import { openPayload, verifyUpload, type UploadExpectations } from './payload.js';

export interface ReceivedUpload {
  readonly staged: StagedFile;
  /** Hex MD5 of the body: the ETag of a single-request upload. */
  readonly md5Hex: string;
  readonly checksum: StoredChecksum | undefined;
}

export async function receiveUpload(request: IncomingMessage, expected: UploadExpectations, dir: string): Promise<ReceivedUpload> {
  const payload = openPayload(request, expected);
  const md5 = createHash('md5');
  const digest = expected.checksum ? createDigest(expected.checksum.algorithm) : undefined;
  const staged = await stageStream(dir, payload.chunks, (chunk) => {
    md5.update(chunk);
    digest?.update(chunk);
  });
  const md5Bytes = md5.digest();
  const verdict = verifyUpload(expected, { size: staged.size, md5: md5Bytes.toString('base64'), computedChecksum: digest?.digest(), trailers: payload.trailers });
  if (verdict instanceof Error) {
    await discardStaged(staged);
    throw verdict;
  }
  return { staged, md5Hex: md5Bytes.toString('hex'), checksum: verdict };
}
