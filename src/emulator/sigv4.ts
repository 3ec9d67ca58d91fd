// Reads who signed a request. Like moto, the endpoint does not verify signatures against secret
// keys (any key works) but it does insist that requests are SigV4-signed, as AWS does, and it
// needs the access key id to tell per-job artifact credentials apart.

import type { IncomingMessage } from 'node:http';

export interface Signer {
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
  /** The x-amz-security-token, for temporary credentials. */
  readonly sessionToken: string | undefined;
  /** When the signature was made (X-Amz-Date). */
  readonly signedAt: Date | undefined;
}

const HEADER = /^AWS4-HMAC-SHA256\s+Credential=([^/\s,]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;

/** The signer of a request, or undefined when it is not SigV4-signed (header or presigned query). */
export function readSigner(request: IncomingMessage, query: URLSearchParams): Signer | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = HEADER.exec(authorization.trim());
    if (!match) return undefined;
    return {
      accessKeyId: match[1] as string,
      region: match[3] as string,
      service: match[4] as string,
      sessionToken: headerString(request, 'x-amz-security-token'),
      // Only presigned S3 requests need the date (their expiry); most requests never ask.
      get signedAt() {
        return parseAmzDate(headerString(request, 'x-amz-date'));
      },
    };
  }
  if (query.get('X-Amz-Algorithm') === 'AWS4-HMAC-SHA256') {
    const credential = query.get('X-Amz-Credential')?.split('/');
    if (!credential || credential.length !== 5 || !query.get('X-Amz-Signature')) return undefined;
    return {
      accessKeyId: credential[0] as string,
      region: credential[2] as string,
      service: credential[3] as string,
      sessionToken: query.get('X-Amz-Security-Token') ?? undefined,
      signedAt: parseAmzDate(query.get('X-Amz-Date') ?? undefined),
    };
  }
  return undefined;
}

function headerString(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseAmzDate(value: string | undefined): Date | undefined {
  const match = value && /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match;
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
}
