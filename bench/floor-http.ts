// The floor under any Node HTTP endpoint on this machine: the least a Node server can do with a
// 1 GiB body, driven by the same curl commands as `cpsync local` in bench/local.ts. No parsing, no
// signatures, no checksums, no records; what is left is Node's HTTP parser, the socket, the event
// loop and the page cache, which the emulator pays as well. Modes, by path:
//
//   PUT /discard   reads the body and drops it
//   PUT /write     streams the body into a new file (1 MiB write buffer), no fsync
//   PUT /fsync     the same, then fsync before answering (what the emulator does for durability)
//   GET /read      streams <file> with 1 MiB reads (what the emulator does for GetObject)
//
//   node bench/.out/floor-http.mjs <folder for uploads> <file to serve>
//   prints `url <http://127.0.0.1:PORT>` once listening
//
// Each upload goes to a new file and the previous one is removed after the answer, as the
// emulator does when an object is overwritten. Not a test double; no checks of any kind.

import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const MiB = 1024 * 1024;
const [folder, servedFile] = process.argv.slice(2);
if (!folder || !servedFile) {
  process.stderr.write('usage: floor-http <folder for uploads> <file to serve>\n');
  process.exit(2);
}

let uploads = 0;
let previous: string | undefined;

async function store(request: IncomingMessage, durable: boolean): Promise<void> {
  const path = join(folder!, `upload-${process.pid}-${++uploads}.bin`);
  // `flush`: fsync before the file is closed, i.e. before 'finish' lets pipeline resolve.
  await pipeline(request, createWriteStream(path, { flags: 'wx', highWaterMark: MiB, flush: durable }));
  const replaced = previous;
  previous = path;
  if (replaced) void rm(replaced, { force: true });
}

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method === 'GET' && request.url === '/read') {
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': statSync(servedFile!).size });
    await pipeline(createReadStream(servedFile!, { highWaterMark: MiB }), response);
    return;
  }
  if (request.method === 'PUT' && request.url === '/discard') {
    request.resume();
    await new Promise((resolve) => request.once('end', resolve));
  } else if (request.method === 'PUT' && (request.url === '/write' || request.url === '/fsync')) {
    await store(request, request.url === '/fsync');
  } else {
    request.resume();
    response.writeHead(404, { 'content-length': 0 }).end();
    return;
  }
  response.writeHead(200, { 'content-length': 0 }).end();
}

const server = createServer((request, response) => {
  handle(request, response).catch((error: unknown) => {
    process.stderr.write(`floor-http: ${String(error)}\n`);
    response.destroy();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`url http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
// The uploaded files are in the benchmark's temporary folder, which it removes itself.
process.once('SIGTERM', () => process.exit(0));
