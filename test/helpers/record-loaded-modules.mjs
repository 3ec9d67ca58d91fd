// Preload that records every module file the process loads, for checks such as "start-up does not
// load the AWS SDK". Use: `node --import ./test/helpers/record-loaded-modules.mjs ...` with
// CPSYNC_RECORD_MODULES=<file>; one URL or path per line is appended to that file.
//  - ES modules: a `load` hook (module.register, Node >= 20.6) appends each URL as it is loaded.
//  - CommonJS: require.cache is shared by every require(), so its keys are appended at exit.
// Without CPSYNC_RECORD_MODULES it does nothing.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const file = process.env.CPSYNC_RECORD_MODULES;
if (file) {
  register('./record-loaded-modules-hooks.mjs', import.meta.url, { data: { file } });
  const require = createRequire(import.meta.url);
  process.on('exit', () => {
    const paths = Object.keys(require.cache);
    if (paths.length > 0) appendFileSync(file, `${paths.join('\n')}\n`);
  });
}
