// The bundled `junit` plugin: its XML reader, glob and message rendering on their own (pure), then
// the plugin loaded the way the worker loads it and run through the host with the real
// `node --test` writing JUnit XML (test/fixtures/projects/node-tests).

import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DEFAULT_JUNIT_LIMITS, JUnitXmlError, parseJUnitXml } from '../../plugins/junit/junit-xml.js';
import { renderFailureMessage } from '../../plugins/junit/render.js';
import { globToRegExp, planGlobWalk } from '../../plugins/junit/report-files.js';
import type { JobIdentity, PluginLogger } from '../../src/plugin.js';
import { CpsyncError } from '../../src/util/errors.js';
import { preparePlugin, runPlugin, type PluginJobInput } from '../../src/worker/plugins/host.js';
import { loadPlugin, type AnyPlugin } from '../../src/worker/plugins/load.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const PROJECT = fileURLToPath(new URL('../fixtures/projects/node-tests/', import.meta.url));
const TOOLS = fileURLToPath(new URL('../fixtures/tools/', import.meta.url));

describe('junit XML reader', () => {
  const parseError = (xml: string) => {
    try {
      parseJUnitXml(xml);
    } catch (error) {
      if (error instanceof JUnitXmlError) return error.message;
      throw error;
    }
    return 'parsed';
  };

  it('counts test cases by their children and names failures Suite.Class.test', () => {
    const report = parseJUnitXml(`<?xml version="1.0" encoding="UTF-8"?>
<!-- written by a tool -->
<testsuites name="all" tests="99">
  <testsuite name="Outer">
    <testsuite name="Inner">
      <properties><property name="x" value="y"/></properties>
      <testcase classname="ParserTest" name="ok" time="0.1"/>
      <testcase classname="ParserTest" name="bad"><failure message="expected 1 &lt; 2" type="AssertionError">stack</failure></testcase>
      <testcase classname="ParserTest" name="crash"><error type="NullPointerException">java.lang.NullPointerException
  at Parser.read(Parser.java:10)</error><system-out>noise</system-out></testcase>
      <testcase classname="ParserTest" name="later"><skipped/></testcase>
    </testsuite>
  </testsuite>
</testsuites>`);
    assert.deepEqual(report, {
      passed: 1,
      failed: 2,
      skipped: 1,
      failures: [
        { name: 'Outer.Inner.ParserTest.bad', message: 'expected 1 < 2' },
        { name: 'Outer.Inner.ParserTest.crash', message: 'java.lang.NullPointerException' },
      ],
    });
  });

  it('says the class once when the suite is named after it (Gradle, Surefire), and reads CDATA and references', () => {
    const report = parseJUnitXml(`<testsuite name="com.acme.ParserTest" tests="2">
  <testcase classname="com.acme.ParserTest" name="readsNumbers"><failure><![CDATA[expected <1> but was <2>]]></failure></testcase>
  <testcase classname="com.acme.ParserTest" name='quotes &amp; "&#x41;&#66;"'><failure message=" "  type="Boom"/></testcase>
</testsuite>`);
    assert.deepEqual(report.failures, [
      { name: 'com.acme.ParserTest.readsNumbers', message: 'expected <1> but was <2>' },
      { name: 'com.acme.ParserTest.quotes & "AB"', message: 'Boom' },
    ]);
  });

  it('never expands entities from a DOCTYPE ("billion laughs")', () => {
    const lol = `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<testsuite name="s"><testcase name="t"><failure>&lol3;</failure></testcase></testsuite>`;
    assert.deepEqual(parseJUnitXml(lol).failures, [{ name: 's.t', message: '&lol3;' }]);
  });

  it('keeps a bounded number of failure details and bounded messages', () => {
    const cases = Array.from({ length: 500 }, (_, index) => `<testcase name="t${index}"><failure message="${'m'.repeat(10_000)}"/></testcase>`).join('');
    const report = parseJUnitXml(`<testsuite name="s">${cases}</testsuite>`);
    assert.equal(report.failed, 500);
    assert.equal(report.failures.length, DEFAULT_JUNIT_LIMITS.maxFailures);
    assert.ok(report.failures.every((failure) => failure.message.length <= DEFAULT_JUNIT_LIMITS.maxMessageChars));
  });

  const malformed: [string, string, RegExp][] = [
    ['a truncated report', '<testsuites>\n<testsuite name="x">\n<testcase name="a">', /^line 3: the document ends inside <testcase> \(a truncated report\?\)$/],
    ['mismatched tags', '<testsuites><testsuite></testsuites>', /^line 1: <\/testsuites> where <\/testsuite> was expected$/],
    ['another root element', '<html><body/></html>', /^line 1: the root element is <html>, not <testsuites> or <testsuite>$/],
    ['an empty file', '', /no <testsuites> or <testsuite> element/],
    ['not XML at all', 'PASS all tests', /^line 1: text before the root element$/],
    ['an unquoted attribute', '<testsuite name=x/>', /the value of name is not quoted/],
    ['a stray "<" in text', '<testsuite><testcase name="a"><failure>1 < 2</failure></testcase></testsuite>', /a "<" that starts no tag/],
    ['nesting without end', '<testsuites>'.repeat(100_000), /nested more than 64 deep/],
    ['a second root', '<testsuite/><testsuite/>', /a second root element/],
    ['a test case in a test case', '<testsuite><testcase name="a"><testcase name="b"/></testcase></testsuite>', /<testcase> inside another <testcase>/],
  ];
  for (const [name, xml, message] of malformed) {
    it(`refuses ${name}, naming the line`, () => {
      assert.match(parseError(xml), message);
    });
  }
});

describe('junit report globs', () => {
  const cases: [string, string[], string[]][] = [
    ['inputs/MyApp/build/test-results/**/*.xml', ['inputs/MyApp/build/test-results/a.xml', 'inputs/MyApp/build/test-results/test/TEST-x.xml'], ['inputs/MyApp/build/test-results/a.txt', 'inputs/MyApp/build/a.xml', 'inputs/Other/build/test-results/a.xml']],
    ['inputs/*/reports/TEST-?.xml', ['inputs/A/reports/TEST-1.xml'], ['inputs/A/B/reports/TEST-1.xml', 'inputs/A/reports/TEST-12.xml']],
    ['out/{unit,it}/[!.]*.xml', ['out/unit/a.xml', 'out/it/b.xml'], ['out/e2e/a.xml', 'out/unit/.hidden.xml']],
    ['./report.xml', ['report.xml'], ['xreport.xml', 'a/report.xml']],
    ['a+b (1)/r.xml', ['a+b (1)/r.xml'], ['aab (1)/r.xml']],
  ];
  for (const [glob, matching, other] of cases) {
    it(`${glob} matches what it should`, () => {
      const pattern = globToRegExp(glob);
      for (const path of matching) assert.ok(pattern.test(path), path);
      for (const path of other) assert.ok(!pattern.test(path), path);
    });
  }

  it('walks only below the part without wildcards, as deep as the pattern reaches', () => {
    assert.deepEqual(planGlobWalk('inputs/MyApp/build/**/*.xml'), { base: 'inputs/MyApp/build', depth: Number.POSITIVE_INFINITY });
    assert.deepEqual(planGlobWalk('inputs/*/r.xml'), { base: 'inputs', depth: 2 });
    assert.deepEqual(planGlobWalk('r.xml'), { base: '', depth: 1 });
  });
});

describe('junit failure message', () => {
  it('lists failures within the limit and says how many more there are', () => {
    const failures = Array.from({ length: 50 }, (_, index) => ({ name: `Suite.Class.test${index}`, message: 'x'.repeat(290) }));
    const message = renderFailureMessage({ passed: 3, failed: 120, skipped: 0, failures }, 5000);
    assert.ok(message.length <= 5000, String(message.length));
    const lines = message.split('\n');
    assert.equal(lines[0], '120 tests failed (3 passed, 120 failed, 0 skipped):');
    assert.equal(lines[1], `Suite.Class.test0: ${'x'.repeat(290)}`);
    assert.equal(lines.at(-1), `and ${120 - (lines.length - 2)} more`);
  });

  it('lists every failure when they fit', () => {
    assert.equal(renderFailureMessage({ passed: 0, failed: 1, skipped: 0, failures: [{ name: 'S.t', message: 'boom' }] }, 5000), '1 test failed (0 passed, 1 failed, 0 skipped):\nS.t: boom');
  });
});

const job: JobIdentity = {
  jobId: 'job-12',
  pipeline: 'MyFirstPipeline',
  stage: 'Test',
  action: 'UnitTests',
  pipelineExecutionId: 'exec-12',
  actionExecutionId: 'action-exec-12',
  actionType: 'Test/My-JUnit-Tests/1',
};

let junit: AnyPlugin;
let root: string;
let workspace: string;

before(async () => {
  process.env.PATH = `${TOOLS}:${process.env.PATH ?? ''}`;
  junit = (await loadPlugin('junit', { pluginsDir: join(REPO, 'plugins'), cwd: REPO })).plugin;
  root = realpathSync(mkdtempSync(join(tmpdir(), 'cpsync-junit-')));
});
after(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
beforeEach(() => {
  workspace = join(root, `job-${++counter}`);
  cpSync(PROJECT, join(workspace, 'inputs', 'MyApp'), { recursive: true });
  mkdirSync(join(workspace, 'outputs', 'TestReports'), { recursive: true });
});

const REPORTS = 'inputs/MyApp/build/test-results/**/*.xml';
const nodeTest = (...files: string[]) => ['node', '--test', '--test-reporter=junit', '--test-reporter-destination=build/test-results/junit.xml', ...files];

const runJUnit = async (options: Record<string, unknown>, overrides: Partial<PluginJobInput> = {}) => {
  const log: string[] = [];
  const record = (message: string) => void log.push(message);
  const logger: PluginLogger = { debug: record, info: record, warn: record, error: record };
  const outcome = await runPlugin(preparePlugin(junit, { cwd: 'inputs/MyApp', reports: [REPORTS], ...options }), {
    job,
    configuration: { Suite: 'passing' },
    inputs: { MyApp: join(workspace, 'inputs', 'MyApp') },
    outputs: { TestReports: join(workspace, 'outputs', 'TestReports') },
    workspace,
    log: logger,
    signal: new AbortController().signal,
    execOptions: { killGraceMs: 200 },
    ...overrides,
  });
  return { outcome, log };
};

describe('junit plugin: options at start-up', () => {
  it('accepts the example in docs/plugins/junit.md', () => {
    const text = readFileSync(join(REPO, 'docs', 'plugins', 'junit.md'), 'utf8');
    const executor = (parse(/```yaml\n([\s\S]*?)```/.exec(text)?.[1] ?? '') as { executor: { plugin: string; options: unknown } }).executor;
    assert.equal(executor.plugin, 'junit');
    assert.doesNotThrow(() => preparePlugin(junit, executor.options, { configurationKeys: ['Suite'] }));
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['no reports', { argv: ['node'] }, /executor\.options\.reports: /],
    ['an empty list of reports', { argv: ['node'], reports: [] }, /executor\.options\.reports: /],
    ['a report glob outside the workspace', { argv: ['node'], reports: ['../x/*.xml'] }, /executor\.options\.reports/],
    ['an absolute report glob', { argv: ['node'], reports: '/tmp/*.xml' }, /executor\.options\.reports/],
    ['no argv', { reports: 'r.xml' }, /executor\.options\.argv: /],
    ['a bad artifact name', { argv: ['node'], reports: 'r.xml', outputs: { reports: 'no spaces' } }, /executor\.options\.outputs\.reports: output artifact names/],
    ['an unknown kind of output', { argv: ['node'], reports: 'r.xml', outputs: { coverage: 'Cov' } }, /executor\.options\.outputs/],
  ];
  for (const [name, options, message] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => preparePlugin(junit, options, { actionType: 'Test/My-JUnit-Tests/1' }), (error: unknown) => error instanceof CpsyncError && message.test(error.message));
    });
  }
});

describe('junit plugin: running the real node --test', () => {
  it('succeeds with the counts, output variables and the reports packaged', async () => {
    const { outcome } = await runJUnit({ argv: nodeTest('tests/{Config:Suite}.mjs'), outputs: { reports: 'TestReports' } });
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome));
    assert.match(outcome.status === 'succeeded' ? (outcome.summary ?? '') : '', /^2 passed, 0 failed, 1 skipped \(1 report in \d+(\.\d+)?m?s\)$/);
    assert.deepEqual(outcome.status === 'succeeded' && outcome.outputVariables, { tests_passed: '2', tests_failed: '0', tests_skipped: '1' });
    assert.deepEqual(readdirSync(join(workspace, 'outputs', 'TestReports')), ['junit.xml']);
    assert.match(readFileSync(join(workspace, 'outputs', 'TestReports', 'junit.xml'), 'utf8'), /<testsuite name="Calculator"/);
  });

  it('fails with JobFailed listing the failing tests and their messages', async () => {
    const { outcome } = await runJUnit({ argv: nodeTest('tests/passing.mjs', 'tests/failing.mjs') });
    assert.deepEqual(outcome, {
      status: 'failed',
      failureType: 'JobFailed',
      message: ['2 tests failed (3 passed, 2 failed, 1 skipped):', 'Parser.test.reads negative numbers: expected -1 to parse as 1-1 !== 1', 'Parser.test.rejects garbage: unexpected token <EOF>'].join('\n'),
    });
  });

  it('keeps a long list of failures within the API limit, with "and N more"', async () => {
    const { outcome } = await runJUnit({ argv: nodeTest('tests/many-failing.mjs') });
    assert.equal(outcome.status === 'failed' && outcome.failureType, 'JobFailed');
    const message = outcome.status === 'failed' ? outcome.message : '';
    assert.ok(message.length <= 5000, String(message.length));
    const lines = message.split('\n');
    assert.equal(lines[0], '60 tests failed (0 passed, 60 failed, 0 skipped):');
    assert.match(lines[1] ?? '', /^Bulk\.test\.case 1: case 1 failed: x+/);
    assert.equal(lines.at(-1), `and ${60 - (lines.length - 2)} more`);
  });

  it('fails with the command tail when the command fails although the reports pass', async () => {
    const script = `${nodeTest('tests/passing.mjs').join(' ')} >/dev/null; echo "coverage 41% is below 80%" >&2; exit 3`;
    const { outcome } = await runJUnit({ argv: ['sh', '-c', script] });
    assert.deepEqual(outcome, { status: 'failed', failureType: 'JobFailed', message: 'the test command exited 3, although its reports show no failing test (2 passed, 0 failed, 1 skipped): coverage 41% is below 80%' });
  });

  it('fails with ConfigurationError naming the globs when no report is written', async () => {
    const { outcome } = await runJUnit({ argv: ['node', '--test', 'tests/passing.mjs'], reports: [REPORTS, 'inputs/MyApp/reports/*.xml'] });
    assert.deepEqual(outcome, {
      status: 'failed',
      failureType: 'ConfigurationError',
      message: "the test command wrote no JUnit reports matching inputs/MyApp/build/test-results/**/*.xml, inputs/MyApp/reports/*.xml; check executor.options.reports and the test tool's JUnit reporter",
    });
  });

  it('fails with JobFailed and the tail when the command fails before writing reports', async () => {
    const { outcome } = await runJUnit({ argv: ['node', '-e', 'console.error("SyntaxError: Unexpected token"); process.exit(4)'] });
    assert.deepEqual(outcome, { status: 'failed', failureType: 'JobFailed', message: `the test command exited 4 and wrote no reports matching ${REPORTS}: SyntaxError: Unexpected token` });
  });

  it('ignores reports that were there before the command ran', async () => {
    const stale = join(workspace, 'inputs', 'MyApp', 'build', 'test-results', 'old', 'TEST-green.xml');
    mkdirSync(join(stale, '..'), { recursive: true });
    writeFileSync(stale, '<testsuite name="Old"><testcase name="passes"/></testsuite>');
    const nothingNew = await runJUnit({ argv: ['node', '-e', ''] });
    assert.equal(nothingNew.outcome.status === 'failed' && nothingNew.outcome.failureType, 'ConfigurationError');
    assert.match(nothingNew.outcome.status === 'failed' ? nothingNew.outcome.message : '', /\(1 older report from before the command ran ignored\)/);
    const fresh = await runJUnit({ argv: nodeTest('tests/passing.mjs') });
    assert.match(fresh.outcome.status === 'succeeded' ? (fresh.outcome.summary ?? '') : '', /^2 passed, 0 failed, 1 skipped \(1 report in/);
  });

  it('fails with JobFailed naming the file and line of a malformed report', async () => {
    const { outcome } = await runJUnit({ argv: ['fx-write', 'build/test-results/junit.xml', '<testsuites>\n<testsuite name="x">\n<testcase name="a">'] });
    assert.deepEqual(outcome, {
      status: 'failed',
      failureType: 'JobFailed',
      message: 'report inputs/MyApp/build/test-results/junit.xml is not valid JUnit XML: line 3: the document ends inside <testcase> (a truncated report?)',
    });
  });

  it('refuses an oversized report without reading it', async () => {
    const write = `require('node:fs').writeFileSync('build/test-results/huge.xml', '<testsuite>' + ' '.repeat(17 * 1024 * 1024) + '</testsuite>')`;
    const { outcome } = await runJUnit({ argv: ['node', '-e', write] });
    assert.deepEqual(outcome, { status: 'failed', failureType: 'JobFailed', message: `report inputs/MyApp/build/test-results/huge.xml is ${17 * 1024 * 1024 + 23} bytes; the junit plugin reads at most ${16 * 1024 * 1024} per file` });
  });

  it('fails when the reports hold no test case', async () => {
    const { outcome } = await runJUnit({ argv: ['fx-write', 'build/test-results/empty.xml', '<testsuites/>'] });
    assert.deepEqual(outcome, { status: 'failed', failureType: 'JobFailed', message: `no test cases in the 1 report matching ${REPORTS}` });
  });

  it('fails with ConfigurationError for a placeholder without a value', async () => {
    const { outcome } = await runJUnit({ argv: nodeTest('tests/{Config:Suite}.mjs') }, { configuration: {} });
    assert.deepEqual(outcome, { status: 'failed', failureType: 'ConfigurationError', message: "executor options use {Config:Suite}, but the action's configuration has no such value" });
  });
});
