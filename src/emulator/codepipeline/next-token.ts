// Pagination tokens for the List* operations. A token names the list it belongs to and the last
// key returned, so a page boundary survives inserts and deletes between calls. Tokens are opaque
// to callers; one that this endpoint did not issue (or issued for another list) is answered with
// InvalidNextTokenException, as AWS does for "a token not issued by a previous call".

import { AwsError } from '../aws-error.js';

interface TokenBody {
  readonly l: string;
  readonly a: string;
}

export function encodeNextToken(list: string, afterKey: string): string {
  return Buffer.from(JSON.stringify({ l: list, a: afterKey } satisfies TokenBody), 'utf8').toString('base64url');
}

/** The key after which the next page starts; throws InvalidNextTokenException for a foreign token. */
export function decodeNextToken(list: string, token: string): string {
  try {
    const body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<TokenBody>;
    if (body && body.l === list && typeof body.a === 'string') return body.a;
  } catch {
    // fall through
  }
  throw new AwsError('InvalidNextTokenException', 'The next token is not valid. Use the token returned by the previous call.');
}

/** One page of `items` (already in a stable order) after `token`, with the token for the next page. */
export function paginate<T>(list: string, items: readonly T[], keyOf: (item: T) => string, pageSize: number, token: string | undefined): { page: T[]; nextToken?: string } {
  let start = 0;
  if (token !== undefined) {
    const after = decodeNextToken(list, token);
    const index = items.findIndex((item) => keyOf(item) > after);
    start = index === -1 ? items.length : index;
  }
  const page = items.slice(start, start + pageSize);
  const more = start + pageSize < items.length;
  return more ? { page, nextToken: encodeNextToken(list, keyOf(page[page.length - 1] as T)) } : { page };
}
