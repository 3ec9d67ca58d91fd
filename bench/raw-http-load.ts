// A minimal HTTP/1.1 load generator for bench/local.ts: replays one request (exact bytes) over a
// number of keep-alive connections, one request in flight per connection, and counts the answers
// by status. It exists to measure what the endpoint can serve when the client is not the limit:
// the SDK spends several times the server's CPU per request, so SDK-driven rates on a 2-core
// machine say more about the SDK than about the endpoint. Responses must carry Content-Length.

import { connect } from 'node:net';

export interface LoadResult {
  readonly ms: number;
  /** Answers per HTTP status code. */
  readonly statuses: ReadonlyMap<number, number>;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length: *(\d+)/i;

export async function replayRequest(url: string, request: Buffer, connections: number, total: number): Promise<LoadResult> {
  const { hostname, port } = new URL(url);
  let sent = 0;
  const statuses = new Map<number, number>();
  const start = performance.now();
  await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = connect(Number(port), hostname);
          const next = () => {
            if (sent >= total) {
              socket.end();
              return resolve();
            }
            sent += 1;
            socket.write(request);
          };
          let pending: Buffer = Buffer.alloc(0);
          // Bytes of the current answer's body still to come; -1 while its head is being read.
          let bodyLeft = -1;
          socket.on('data', (chunk: Buffer) => {
            pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
            for (;;) {
              if (bodyLeft < 0) {
                const end = pending.indexOf(HEADER_END);
                if (end < 0) return;
                const head = pending.toString('latin1', 0, end);
                const status = Number(head.slice(9, 12));
                statuses.set(status, (statuses.get(status) ?? 0) + 1);
                bodyLeft = Number(CONTENT_LENGTH.exec(head)?.[1] ?? 0);
                pending = pending.subarray(end + HEADER_END.length);
              }
              if (pending.length < bodyLeft) return;
              pending = pending.subarray(bodyLeft);
              bodyLeft = -1;
              next();
            }
          });
          socket.once('connect', next);
          socket.once('error', reject);
        }),
    ),
  );
  return { ms: performance.now() - start, statuses };
}
