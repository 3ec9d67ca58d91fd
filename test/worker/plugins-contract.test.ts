// One contract test over every bundled executor plugin in the registry (Renovate's pattern): a
// plugin added to registry.ts is checked here without writing a new test.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CpsyncError } from '../../src/util/errors.js';
import { preparePlugin } from '../../src/worker/plugins/host.js';
import { describePluginShapeProblem, loadPlugin } from '../../src/worker/plugins/load.js';
import { BUNDLED_PLUGIN_NAMES, BUNDLED_PLUGINS } from '../../src/worker/plugins/registry.js';

// An empty project: bundled plugins must load without anything from the user's folders.
const project = mkdtempSync(join(tmpdir(), 'cpsync-contract-'));
after(() => rmSync(project, { recursive: true, force: true }));

it('the registry lists at least the command plugin', () => {
  assert.ok(BUNDLED_PLUGIN_NAMES.includes('command'));
});

for (const name of BUNDLED_PLUGIN_NAMES) {
  describe(`bundled plugin "${name}"`, () => {
    const load = () => loadPlugin(name, { pluginsDir: join(project, 'plugins'), cwd: project });

    it('lives in plugins/<name>/ at the package root', () => {
      const file = fileURLToPath(BUNDLED_PLUGINS[name]);
      assert.ok(existsSync(file), file);
      assert.match(file, new RegExp(`/plugins/${name}/index\\.ts$`));
    });

    it('loads as a bundled plugin whose meta.name is its registry name', async () => {
      const loaded = await load();
      assert.equal(loaded.source, 'bundled');
      assert.equal(describePluginShapeProblem(loaded.plugin), undefined);
      assert.equal(loaded.plugin.meta.name, name);
      assert.equal(typeof loaded.plugin.meta.description, 'string', 'a description for docs and --help');
    });

    it('has schemas for both the action configuration and the executor options', async () => {
      const { plugin } = await load();
      assert.equal(typeof plugin.configSchema?.configuration?.safeParse, 'function');
      assert.equal(typeof plugin.configSchema?.options?.safeParse, 'function');
    });

    it('accepts a plain text configuration', async () => {
      const { plugin } = await load();
      assert.equal(plugin.configSchema?.configuration?.safeParse({ ProjectName: 'MyProject' }).success, true);
    });

    it('rejects options that are not an object, and options it does not know (typos)', async () => {
      const { plugin } = await load();
      for (const bad of [42, 'argv', null, ['make']]) assert.equal(plugin.configSchema?.options?.safeParse(bad).success, false, JSON.stringify(bad));
      const typo = plugin.configSchema?.options?.safeParse({ thisOptionDoesNotExist: true });
      assert.equal(typo?.success, false);
      assert.ok(!typo?.success && typo?.error.issues.some((issue) => issue.message.includes('thisOptionDoesNotExist') || issue.path.includes('thisOptionDoesNotExist')), 'the unknown option is named');
      assert.throws(() => preparePlugin(plugin, { thisOptionDoesNotExist: true }, { actionType: 'Build/Contract/1' }), (error: unknown) => error instanceof CpsyncError && error.code === 'plugin.options-invalid' && error.message.includes('executor.options'));
    });
  });
}
