// What one S3 operation gets to work with.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorContext, RequestInfo } from '../context.js';
import type { FaultGate } from '../server.js';
import type { ObjectStore } from './object-store.js';
import type { UploadStore } from './upload-store.js';

export interface S3Call {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly query: URLSearchParams;
  readonly info: RequestInfo;
  readonly faults: FaultGate;
  readonly context: EmulatorContext;
  readonly objects: ObjectStore;
  readonly uploads: UploadStore;
}

/** Applies the "drop the response" fault: true when the caller must not answer. */
export function dropResponse(call: S3Call): boolean {
  if (!call.faults.shouldDropResponse()) return false;
  call.request.socket.destroy();
  return true;
}
