// Loading executor plugins from the three sources (bundled registry, local folder, npm package)
// and every way loading can fail, each with its one-line message.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CpsyncError } from '../../src/util/errors.js';
import { describePluginShapeProblem, loadPlugin, pluginLoadFailure, resolvePackageEntry } from '../../src/worker/plugins/load.js';
import { JobFailure } from '../../src/worker/types.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const FIXTURE_PLUGINS = join(REPO, 'test', 'fixtures', 'plugins');

let project: string;
let pluginsDir: string;

function write(path: string, text: string) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

before(() => {
  project = realpathSync(mkdtempSync(join(tmpdir(), 'cpsync-plugins-')));
  pluginsDir = join(project, 'plugins');
  write(join(project, 'package.json'), JSON.stringify({ name: 'some-project', type: 'module' }));

  // An npm-style plugin package, ESM-only with conditional exports.
  const hello = join(project, 'node_modules', 'cpsync-plugin-hello');
  write(join(hello, 'package.json'), JSON.stringify({ name: 'cpsync-plugin-hello', type: 'module', exports: { '.': { import: './lib/main.mjs', require: './lib/main.cjs' } } }));
  write(join(hello, 'lib', 'main.mjs'), "export default { meta: { name: 'hello', version: '2.0.0' }, async execute() { return { status: 'succeeded', summary: 'hello' }; } };\n");
  // A scoped package with only `main`, CommonJS (default export through interop).
  const scoped = join(project, 'node_modules', '@acme', 'cpsync-deploy');
  write(join(scoped, 'package.json'), JSON.stringify({ name: '@acme/cpsync-deploy', main: 'dist/index.js' }));
  write(join(scoped, 'dist', 'index.js'), "module.exports = { meta: { name: 'acme-deploy' }, execute: async () => ({ status: 'succeeded' }) };\n");

  // Local plugins that fail in each possible way.
  write(join(pluginsDir, 'ts-syntax', 'index.ts'), 'export default definePlugin({ meta: { name: "x" }, execute( {\n');
  write(join(pluginsDir, 'js-syntax', 'index.js'), 'export default { meta: { name: "x" }, execute() { return 1 +; } };\n');
  write(join(pluginsDir, 'throws', 'index.mjs'), "throw new Error('cannot start: DATABASE_URL is not set');\n");
  write(join(pluginsDir, 'missing-dep', 'index.js'), "import 'no-such-package-cpsync';\nexport default {};\n");
  write(join(pluginsDir, 'no-execute', 'index.js'), "export default { meta: { name: 'no-execute' } };\n");
  write(join(pluginsDir, 'no-name', 'index.ts'), 'export default { meta: {}, async execute() { return { status: "succeeded" as const }; } };\n');
  write(join(pluginsDir, 'no-default', 'index.js'), "export const somethingElse = 1;\n");
  write(join(pluginsDir, 'bad-schema', 'index.js'), "export default { meta: { name: 'bad-schema' }, configSchema: { options: { parse() {} } }, async execute() {} };\n");
  write(join(pluginsDir, 'function', 'index.js'), 'export default function plugin() {}\n');
  write(join(pluginsDir, 'empty-folder', 'README.md'), 'no index here\n');
});

after(() => rmSync(project, { recursive: true, force: true }));

describe('loadPlugin: sources', () => {
  it('loads a bundled plugin by name from the registry', async () => {
    const loaded = await loadPlugin('command', { pluginsDir, cwd: project });
    assert.equal(loaded.source, 'bundled');
    assert.equal(loaded.plugin.meta.name, 'command');
    assert.equal(loaded.file, join(REPO, 'plugins', 'command', 'index.ts'));
  });

  it('loads a local TypeScript plugin from the plugins folder by bare name', async () => {
    const loaded = await loadPlugin('echo-ts', { pluginsDir: FIXTURE_PLUGINS, cwd: REPO });
    assert.equal(loaded.source, 'local');
    assert.equal(loaded.plugin.meta.name, 'echo-ts');
    assert.equal(typeof loaded.plugin.configSchema?.options?.safeParse, 'function');
    assert.equal(loaded.file, join(FIXTURE_PLUGINS, 'echo-ts', 'index.ts'));
  });

  it('loads a local JavaScript plugin by ./path, exported as `plugin`', async () => {
    const loaded = await loadPlugin('./test/fixtures/plugins/echo-js', { pluginsDir: join(project, 'elsewhere'), cwd: REPO });
    assert.equal(loaded.source, 'local');
    assert.equal(loaded.plugin.meta.name, 'echo-js');
  });

  it('loads an npm package with conditional exports, resolved from the project folder', async () => {
    const loaded = await loadPlugin('cpsync-plugin-hello', { pluginsDir, cwd: join(project) });
    assert.equal(loaded.source, 'npm');
    assert.equal(loaded.plugin.meta.name, 'hello');
    assert.equal(loaded.file, join(project, 'node_modules', 'cpsync-plugin-hello', 'lib', 'main.mjs'));
  });

  it('finds packages in node_modules of parent folders, and unwraps CommonJS', async () => {
    const nested = join(project, 'deep', 'er');
    mkdirSync(nested, { recursive: true });
    const loaded = await loadPlugin('@acme/cpsync-deploy', { pluginsDir, cwd: nested });
    assert.equal(loaded.source, 'npm');
    assert.equal(loaded.plugin.meta.name, 'acme-deploy');
    assert.equal(resolvePackageEntry('@acme/cpsync-deploy', nested), join(project, 'node_modules', '@acme', 'cpsync-deploy', 'dist', 'index.js'));
  });

  it('prefers the bundled plugin over a local folder of the same name', async () => {
    write(join(pluginsDir, 'command', 'index.js'), "export default { meta: { name: 'impostor' }, async execute() {} };\n");
    const loaded = await loadPlugin('command', { pluginsDir, cwd: project });
    assert.equal(loaded.plugin.meta.name, 'command');
    // A path reaches the local one explicitly.
    assert.equal((await loadPlugin('./plugins/command', { pluginsDir, cwd: project })).plugin.meta.name, 'impostor');
  });
});

describe('loadPlugin: failures', () => {
  const expectError = async (reference: string, code: string, message: RegExp, cwd = project) => {
    let caught: unknown;
    try {
      await loadPlugin(reference, { pluginsDir, cwd });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof CpsyncError, `expected a CpsyncError, got ${String(caught)}`);
    assert.equal(caught.code, code);
    assert.match(caught.message, message);
    assert.doesNotMatch(caught.message, /\n/, 'message must be one line');
    assert.ok(caught.hint, 'a hint says what to do');
    return caught;
  };

  it('not found: lists every place it looked', async () => {
    const error = await expectError('deploy-to-moon', 'plugin.not-found', /executor plugin "deploy-to-moon" not found; looked for a bundled plugin \(command, make, junit\), plugins\/deploy-to-moon\/index\.ts\|\.js\|\.mjs, the npm package "deploy-to-moon" from /);
    assert.match(error.hint ?? '', /bundled plugins are command/);
  });

  it('not found: a ./path without an index file', async () => {
    await expectError('./plugins/empty-folder', 'plugin.not-found', /looked for plugins\/empty-folder\/index\.ts\|\.js\|\.mjs/);
  });

  it('refuses a file that is not JavaScript or TypeScript', async () => {
    await expectError('./plugins/empty-folder/README.md', 'plugin.load-failed', /\(plugins\/empty-folder\/README\.md\) is not a \.ts, \.js or \.mjs file/);
  });

  it('refuses a reference that is no name and no path', async () => {
    await expectError('plugins/../../etc', 'plugin.bad-reference', /neither a bundled plugin/);
  });

  const failures: [string, string, RegExp][] = [
    ['ts-syntax', 'plugin.load-failed', /executor plugin "ts-syntax" \(plugins\/ts-syntax\/index\.ts\) failed to load: plugins\/ts-syntax\/index\.ts:\d+:\d+: ERROR: Expected/],
    ['js-syntax', 'plugin.load-failed', /executor plugin "js-syntax" \(plugins\/js-syntax\/index\.js\) failed to load: SyntaxError: Unexpected token/],
    ['throws', 'plugin.load-failed', /failed to load: cannot start: DATABASE_URL is not set/],
    ['missing-dep', 'plugin.load-failed', /failed to load: .*no-such-package-cpsync/],
    ['no-execute', 'plugin.invalid', /executor plugin "no-execute" \(plugins\/no-execute\/index\.js\) is not a plugin: execute must be a function/],
    ['no-name', 'plugin.invalid', /is not a plugin: meta\.name must be a non-empty string/],
    ['no-default', 'plugin.invalid', /is not a plugin: it has no default export and no export named `plugin`/],
    ['bad-schema', 'plugin.invalid', /is not a plugin: configSchema\.options must have a safeParse function/],
    ['function', 'plugin.invalid', /is not a plugin: the export is a function, not an object/],
  ];
  for (const [name, code, message] of failures) {
    it(`${name}: ${code}`, async () => {
      await expectError(name, code, message);
    });
  }

  it('at job time, a loading problem is a ConfigurationError', async () => {
    const error = await expectError('deploy-to-moon', 'plugin.not-found', /not found/);
    const failure = pluginLoadFailure(error);
    assert.ok(failure instanceof JobFailure);
    assert.equal(failure.failureType, 'ConfigurationError');
    assert.match(failure.message, /executor plugin "deploy-to-moon" not found/);
  });
});

describe('describePluginShapeProblem', () => {
  const cases: [string, unknown, string | undefined][] = [
    ['a valid plugin', { meta: { name: 'x' }, execute() {} }, undefined],
    ['null', null, 'the export is null, not an object'],
    ['a string', 'command', 'the export is a string, not an object'],
    ['no meta', { execute() {} }, 'meta is missing'],
    ['a blank name', { meta: { name: ' ' }, execute() {} }, 'meta.name must be a non-empty string'],
    ['execute not a function', { meta: { name: 'x' }, execute: 'run' }, 'execute must be a function'],
    ['configSchema not an object', { meta: { name: 'x' }, execute() {}, configSchema: 5 }, 'configSchema must be an object'],
    ['configuration without safeParse', { meta: { name: 'x' }, execute() {}, configSchema: { configuration: {} } }, 'configSchema.configuration must have a safeParse function (a zod schema)'],
  ];
  for (const [name, value, expected] of cases) {
    it(name, () => assert.equal(describePluginShapeProblem(value), expected));
  }
});
