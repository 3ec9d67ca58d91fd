import { readFileSync } from 'node:fs';

/** cpsync's own version, from its package.json (the same path from src/ and dist/). */
export function cpsyncVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
