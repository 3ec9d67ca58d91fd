// Start-up: `cpsync --version` and `cpsync validate` (the example actions.yaml and pipelines/ in the
// repo root) against bare `node -e 0`, using the compiled binary. Neither may load the AWS SDK.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, execTimed, REPO_ROOT, type Benchmark, type Case, type Check } from './harness.js';

const node = process.execPath;
const cli = join(REPO_ROOT, 'dist', 'cli', 'main.js');
const recorder = join(REPO_ROOT, 'test', 'helpers', 'record-loaded-modules.mjs');
// No inherited NODE_OPTIONS (npm run bench itself runs under tsx) and no colour codes.
const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
delete env.NODE_OPTIONS;

const version: Case = { name: '--version', command: node, args: [cli, '--version'], env };
// Exit 1 (problems found) is still a full validate run.
const validate: Case = { name: 'validate', command: node, args: [cli, 'validate'], env, okExitCodes: [0, 1] };

/** Runs the case once, untimed, with a preload that records loaded module files. */
function noAwsSdk(c: Case): Check {
  return {
    name: `\`cpsync ${c.args.slice(1).join(' ')}\` loads no @aws-sdk module`,
    run: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cpsync-bench-'));
      try {
        const file = join(dir, 'modules.txt');
        const result = await execTimed({ ...c, args: ['--import', recorder, ...c.args], env: { ...c.env, CPSYNC_RECORD_MODULES: file } });
        const modules = readFileSync(file, 'utf8').split('\n').filter(Boolean);
        const sdk = modules.filter((path) => path.includes('/@aws-sdk/'));
        const detail = `${new Set(modules).size} module files loaded, exit ${result.exitCode}`;
        return sdk.length === 0 ? { ok: true, detail } : { ok: false, detail: `${detail}; loaded ${sdk[0]} and ${sdk.length - 1} more` };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export const benchmark: Benchmark = {
  name: 'startup',
  title: 'CLI start-up',
  description:
    'Wall time of `cpsync --version` and `cpsync validate` (the example `actions.yaml` and `pipelines/` in the repository root) with the compiled binary `node dist/cli/main.js`, against bare Node start-up (`node -e 0`). Targets: `--version` within 2× and `validate` within 4× of bare Node; neither may load the AWS SDK.',
  setup: async () => ensureBuilt(),
  baseline: { name: 'node -e 0', command: node, args: ['-e', '0'], env },
  cases: [version, validate],
  targets: [
    { case: '--version', maxRatio: 2 },
    { case: 'validate', maxRatio: 4 },
  ],
  checks: [noAwsSdk(version), noAwsSdk(validate)],
};
