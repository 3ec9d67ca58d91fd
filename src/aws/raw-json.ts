// The SDK drops JSON members it does not know, both ways. cpsync must copy unknown pipeline fields
// back byte-for-byte (AWS keeps adding V2 features), so for GetPipeline and UpdatePipeline it
// sends and reads the raw JSON through the SDK's own middleware: requests are still signed,
// retried and resolved with the SDK's credentials, only the body is ours.

import { Readable } from 'node:stream';
import type { CodePipelineClient } from '@aws-sdk/client-codepipeline';

type Handler = (args: { request: unknown; input: unknown }) => Promise<{ response: unknown; output: unknown }>;

interface HttpRequestLike {
  body?: unknown;
  headers: Record<string, string>;
}
interface HttpResponseLike {
  statusCode: number;
  body?: unknown;
}

/** Sends `command`, optionally replacing its JSON body with `rawInput`, and returns the response
 *  body as parsed JSON (unknown members included). Errors surface as the SDK's exceptions. */
export async function sendRawJson(client: CodePipelineClient, command: object, rawInput?: object): Promise<Record<string, unknown>> {
  let captured = '';
  const stack = (command as unknown as { middlewareStack: { add: Function; addRelativeTo: Function } }).middlewareStack;
  if (rawInput) {
    stack.add(
      (next: Handler) => async (args: { request: unknown; input: unknown }) => {
        const request = args.request as HttpRequestLike;
        const body = JSON.stringify(rawInput);
        request.body = body;
        request.headers['content-length'] = String(Buffer.byteLength(body));
        return next(args);
      },
      { step: 'build', priority: 'low', name: 'cpsyncRawJsonInput' },
    );
  }
  stack.addRelativeTo(
    (next: Handler) => async (args: { request: unknown; input: unknown }) => {
      const result = await next(args);
      const response = result.response as HttpResponseLike;
      if (response.statusCode < 300 && response.body) {
        const chunks: Buffer[] = [];
        for await (const chunk of response.body as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
        const bytes = Buffer.concat(chunks);
        captured = bytes.toString('utf8');
        response.body = Readable.from([bytes]);
      }
      return result;
    },
    { relation: 'after', toMiddleware: 'deserializerMiddleware', name: 'cpsyncRawJsonOutput' },
  );
  await client.send(command as never);
  return captured.trim() ? (JSON.parse(captured) as Record<string, unknown>) : {};
}
