// Module hooks for record-loaded-modules.mjs; runs on Node's loader thread.
import { appendFileSync } from 'node:fs';

let file;

export function initialize(data) {
  file = data.file;
}

export async function load(url, context, nextLoad) {
  if (file && !url.startsWith('node:')) appendFileSync(file, `${url}\n`);
  return nextLoad(url, context);
}
