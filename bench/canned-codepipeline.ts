// A CodePipeline endpoint that answers every call of an operation with one fixed body, so
// bench/local.ts can show what the SDK client alone can do (its ceiling) with the same commands it
// sends to `cpsync local`: the server's share of each request is then as small as a Node HTTP
// server's can be. The bodies are real answers of `cpsync local`, captured by the benchmark before
// it starts this, so the SDK parses the same JSON. Not an emulator: no state, no signatures.
//
//   node bench/.out/canned-codepipeline.mjs <answers.json>    ({ "<operation>": "<JSON body>" })
//   prints `url <http://127.0.0.1:PORT>` once listening

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const answersFile = process.argv[2];
if (!answersFile) {
  process.stderr.write('usage: canned-codepipeline <answers.json>\n');
  process.exit(2);
}
const answers = new Map(Object.entries(JSON.parse(readFileSync(answersFile, 'utf8')) as Record<string, string>).map(([operation, body]) => [operation, Buffer.from(body)]));

const server = createServer((request, response) => {
  // X-Amz-Target: CodePipeline_20150709.<Operation>
  const target = request.headers['x-amz-target'];
  const body = typeof target === 'string' ? answers.get(target.slice(target.indexOf('.') + 1)) : undefined;
  // Read the request to its end, as any endpoint must, before answering.
  request.resume();
  request.once('end', () => {
    if (!body) {
      const error = Buffer.from(JSON.stringify({ __type: 'UnknownOperationException', message: `no canned answer for ${String(target)}` }));
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'content-length': error.length }).end(error);
      return;
    }
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': body.length, 'x-amzn-requestid': '00000000-0000-0000-0000-000000000000' }).end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`url http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => process.exit(0));
