// A sink that answers the S3 calls of bench/local-client.ts and stores nothing, so the benchmark can
// show what the SDK client alone costs for the same transfer (the floor any endpoint is measured
// against): multipart uploads are drained and acknowledged, GetObject streams `size` zero bytes
// from one buffer in memory. Not an emulator; no checks of any kind.
//
//   node bench/.out/null-s3.mjs <size>     prints `url <http://127.0.0.1:PORT>` once listening

import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const size = Number(process.argv[2] ?? 0);
const block = Buffer.alloc(1024 * 1024);

function sendXml(response: ServerResponse, xml: string): void {
  response.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
  response.end(xml);
}

/** `size` bytes of zeros, 1 MiB per write, waiting for 'drain' when the socket is full. */
function sendZeros(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'binary/octet-stream', 'content-length': size, etag: '"null"' });
  let sent = 0;
  const pump = () => {
    while (sent < size) {
      const length = Math.min(block.length, size - sent);
      sent += length;
      if (!response.write(length === block.length ? block : block.subarray(0, length))) return void response.once('drain', pump);
    }
    response.end();
  };
  pump();
}

let parts = 0;
const server = createServer((request, response) => {
  const url = request.url ?? '/';
  if (request.method === 'GET') return sendZeros(response);
  request.resume();
  request.once('end', () => {
    if (request.method === 'POST' && url.includes('uploads')) {
      parts = 0;
      return sendXml(response, '<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>null-upload</UploadId></InitiateMultipartUploadResult>');
    }
    if (request.method === 'POST') return sendXml(response, `<CompleteMultipartUploadResult><ETag>"00000000000000000000000000000000-${parts}"</ETag></CompleteMultipartUploadResult>`);
    if (request.method === 'PUT') parts += 1;
    response.writeHead(200, { etag: '"00000000000000000000000000000000"', 'content-length': 0 });
    response.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`url http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => process.exit(0));
