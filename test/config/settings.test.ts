import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadSettings } from '../../src/config/settings.js';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cpsync-settings-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe('loadSettings', () => {
  it('gives working defaults when there is no settings file', async () => {
    const dir = project({ 'package.json': '{"name":"x"}' });
    const { settings, problems } = await loadSettings(dir);
    assert.deepEqual(problems, []);
    assert.equal(settings.file, undefined);
    assert.equal(settings.actionsFile, join(dir, 'actions.yaml'));
    assert.equal(settings.pipelinesDir, join(dir, 'pipelines'));
    assert.equal(settings.pluginsDir, join(dir, 'plugins'));
    assert.equal(settings.tagPrefix, 'cpsync:');
    assert.deepEqual(settings.targets, [{ name: 'default' }]);
    assert.equal(settings.worker.concurrency, availableParallelism());
    assert.equal(settings.worker.pollIntervalMinMs, 1000);
    assert.equal(settings.worker.pollIntervalMaxMs, 30000);
    assert.equal(settings.worker.workDir, join(dir, '.cpsync/worker'));
  });

  const variants: Record<string, Record<string, string>> = {
    'cpsync.config.yaml': { 'cpsync.config.yaml': 'tagPrefix: "team-a:"\npipelines: deploy/pipelines\n' },
    'cpsync.config.json': { 'cpsync.config.json': '{"tagPrefix": "team-a:", "pipelines": "deploy/pipelines"}' },
    '.cpsyncrc.json': { '.cpsyncrc.json': '{"tagPrefix": "team-a:", "pipelines": "deploy/pipelines"}' },
    '.cpsyncrc (YAML)': { '.cpsyncrc': 'tagPrefix: "team-a:"\npipelines: deploy/pipelines\n' },
    'cpsync.config.mjs': { 'cpsync.config.mjs': 'export default { tagPrefix: "team-a:", pipelines: "deploy/pipelines" };\n' },
    'cpsync.config.ts': { 'cpsync.config.ts': 'const prefix: string = "team-a:";\nexport default { tagPrefix: prefix, pipelines: "deploy/pipelines" };\n' },
    'cpsync.config.js': { 'cpsync.config.js': 'export default { tagPrefix: "team-a:", pipelines: "deploy/pipelines" };\n' },
    'package.json#cpsync': { 'package.json': '{"name":"x","type":"module","cpsync":{"tagPrefix":"team-a:","pipelines":"deploy/pipelines"}}' },
  };
  for (const [name, files] of Object.entries(variants)) {
    it(`finds settings in ${name}`, async () => {
      const dir = project({ 'package.json': '{"name":"x","type":"module"}', ...files });
      const { settings, problems } = await loadSettings(dir);
      assert.deepEqual(problems, []);
      assert.equal(settings.tagPrefix, 'team-a:');
      assert.equal(settings.pipelinesDir, join(dir, 'deploy/pipelines'));
    });
  }

  it('searches up to the project root and resolves paths against the settings file', async () => {
    const dir = project({ 'package.json': '{"name":"x"}', 'cpsync.config.yaml': 'actions: config/actions.yaml\n', 'sub/dir/.keep': '' });
    const { settings } = await loadSettings(join(dir, 'sub/dir'));
    assert.equal(settings.actionsFile, join(dir, 'config/actions.yaml'));
    assert.equal(settings.root, dir);
  });

  it('reads an explicit --config file', async () => {
    const dir = project({ 'ci/settings.yaml': 'targets:\n  - name: prod\n    region: eu-west-1\n    endpointUrl: http://127.0.0.1:4599\nworker:\n  pollInterval: { min: 500ms, max: 2m }\n  grace: 45s\n' });
    const { settings, problems } = await loadSettings(dir, 'ci/settings.yaml');
    assert.deepEqual(problems, []);
    assert.deepEqual(settings.targets, [{ name: 'prod', region: 'eu-west-1', endpointUrl: 'http://127.0.0.1:4599' }]);
    assert.equal(settings.worker.pollIntervalMinMs, 500);
    assert.equal(settings.worker.pollIntervalMaxMs, 120000);
    assert.equal(settings.worker.graceMs, 45000);
  });

  it('reports a missing --config file as a user error', async () => {
    const dir = project({});
    await assert.rejects(loadSettings(dir, 'nope.yaml'), /settings file "nope.yaml" does not exist/);
  });

  it('reports bad settings with their position and a suggestion', async () => {
    const dir = project({ 'package.json': '{"name":"x"}', 'cpsync.config.yaml': 'tagPrefx: x\ntargets:\n  - name: prod\n    region: 7\n' });
    const { problems } = await loadSettings(dir);
    assert.deepEqual(
      problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.message}`),
      ['cpsync.config.yaml:1:1 unknown key "tagPrefx" (did you mean "tagPrefix"?)', 'cpsync.config.yaml:4:13 region must be text, got the number 7'],
    );
  });

  it('locates problems inside package.json#cpsync', async () => {
    const dir = project({ 'package.json': '{\n  "name": "x",\n  "cpsync": {\n    "tagPrefix": "aws:x"\n  }\n}\n' });
    const { problems } = await loadSettings(dir);
    assert.equal(problems.length, 1);
    assert.equal(`${problems[0]?.file}:${problems[0]?.line}`, 'package.json:4');
    assert.match(problems[0]?.message ?? '', /tagPrefix "aws:x" must be a tag-key prefix that does not start with "aws:"/);
  });
});
