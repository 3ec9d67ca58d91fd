// The S3 REST side. (Being written: see the helper brief.)
import type { EmulatorContext, ObjectStoreApi } from '../context.js';
import type { S3Handler } from '../server.js';
import { sendS3Error } from '../server.js';

export interface S3Backend {
  readonly handler: S3Handler;
  readonly objects: ObjectStoreApi;
  close(): Promise<void>;
}

export function createS3Backend(_context: () => EmulatorContext, _dir: string): S3Backend {
  const notYet = async () => {
    throw new Error('not yet');
  };
  return {
    handler: async (_request, response) => sendS3Error(response, 501, 'NotImplemented', 'not yet'),
    objects: { createBucket: () => undefined, hasBucket: () => false, openObject: notYet, putObject: notYet },
    close: async () => undefined,
  };
}
