// The job page in a real browser: a worker (in-process, against the local endpoint) runs a tool that
// prints lines slowly and echoes the action's secret Token; headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core) opens /jobs/<externalExecutionId> while it runs and
// sees what a person would: "in progress", the stage and action, output lines arriving without a
// reload, the secret as ***, then "succeeded". Chromium that cannot start fails the test, unless
// CPSYNC_SKIP_BROWSER=1.

import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';
import { createExec } from '../../src/worker/exec.js';
import { JobBoard } from '../../src/worker/job-board.js';
import { serveMetrics } from '../../src/worker/metrics.js';
import { createRedactor } from '../../src/worker/redact.js';
import type { Executor } from '../../src/worker/run-job.js';
import { buildAction } from '../helpers/pipeline-world.js';
import { createPipeline, jobType, latestExecutionId, seedWorkerWorld, startTestEndpoint, startTestWorker, threeStagePipeline, waitFor, waitForEnd, type TestEndpoint } from '../helpers/worker-world.js';

const CHROMIUM = '/usr/bin/chromium';
const TOOL = fileURLToPath(new URL('../fixtures/tools/fx-slow-lines', import.meta.url));
const SECRET = 'tok-Zq9-very-secret';
const SKIP = process.env.CPSYNC_SKIP_BROWSER === '1';

describe('job page in a browser', { skip: SKIP ? 'CPSYNC_SKIP_BROWSER=1' : false }, () => {
  let browser: BrowserContext | undefined;
  let profile: string | undefined;
  let world: TestEndpoint | undefined;

  before(async () => {
    profile = mkdtempSync(join(tmpdir(), 'cpsync-chromium-'));
    try {
      // A fresh profile (playwright passes it as --user-data-dir).
      browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
        timeout: 30_000,
      });
    } catch (error) {
      throw new Error(
        `Chromium could not start from ${CHROMIUM} (${(error as Error).message.split('\n')[0]}). Install it with \`apt-get install -y chromium\`, or set CPSYNC_SKIP_BROWSER=1 to skip the browser tests.`,
      );
    }
  });

  after(async () => {
    await browser?.close();
    await world?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('shows a running job live, with the secret redacted, until it succeeds', async () => {
    assert.ok(browser, 'the browser started');
    world = await startTestEndpoint();
    await seedWorkerWorld(world);
    await createPipeline(
      world,
      threeStagePipeline('Page', {
        stages: [threeStagePipeline('x').stages![0]!, { name: 'Compile', actions: [buildAction('CompileApp', { configuration: { ProjectName: 'page', Token: SECRET } })] }],
      }),
    );
    const executor: Executor = async (job) => {
      const exec = createExec({ workspace: job.workspace.root, log: job.log, redactor: createRedactor(job.secrets), signal: job.signal, homeDir: job.workspace.home, tmpDir: job.workspace.tmp });
      const result = await exec([process.execPath, TOOL, '16', '400', job.configuration.Token ?? '']);
      if (result.exitCode !== 0) return { status: 'failed', message: `the tool exited ${result.exitCode}: ${result.outputTail}` };
      for (const dir of Object.values(job.workspace.outputs)) await writeFile(join(dir, 'app.bin'), 'built');
      return { status: 'succeeded', summary: 'compiled 16 units' };
    };
    const board = new JobBoard();
    const pageErrors: string[] = [];
    const worker = await startTestWorker(world, { types: [jobType(executor)], jobBoard: board, longRun: { progressIntervalMs: 1_000 } });
    const server = await serveMetrics(worker.metrics, 0, '127.0.0.1', 5, board);
    const context = browser;
    try {
      const execution = await latestExecutionId(world.codepipeline, 'Page');
      const runId = await waitFor('the run on the board', async () => board.list()[0]?.id, 30_000);
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      page.on('console', (message) => message.type() === 'error' && pageErrors.push(message.text()));
      const response = await page.goto(`http://127.0.0.1:${server.port}/jobs/${encodeURIComponent(runId)}`);
      assert.equal(response?.status(), 200);
      // The test files have no DOM types: browser-side code is passed as text. Waits use locators:
      // the page's CSP forbids eval, which string predicates would need.
      await page.evaluate('window.notReloaded = true');

      const status = page.locator('#status');
      assert.equal((await status.textContent())?.trim(), 'in progress');
      assert.equal(await page.locator('#stage').textContent(), 'Compile');
      assert.equal(await page.locator('#action').textContent(), 'CompileApp');
      assert.equal(await page.locator('#pipeline').textContent(), 'Page');
      assert.equal(await page.locator('#provider').textContent(), 'Local-Build');

      // Output lines appear while the page stays loaded.
      const lines = page.locator('#tail > span');
      const first = await lines.count();
      await lines.nth(first + 2).waitFor({ timeout: 20_000 });
      assert.equal(await page.evaluate('window.notReloaded'), true, 'no reload');
      assert.equal((await status.textContent())?.trim(), 'in progress');
      const tail = (await page.locator('#tail').textContent()) ?? '';
      assert.match(tail, /compiling unit \d+ of 16 <ok> & "done"/, 'tool text shown as text');
      assert.match(tail, /using token \*\*\* for the registry/, 'the secret is redacted');
      assert.match((await page.locator('#progress').textContent()) ?? '', /\d+% after/);

      // The end arrives without a reload too.
      await page.locator('#status', { hasText: /^succeeded$/ }).waitFor({ timeout: 30_000 });
      assert.equal(await page.evaluate('window.notReloaded'), true, 'no reload');
      assert.match((await page.locator('#finished').textContent()) ?? '', /^\d{4}-\d\d-\d\dT/);
      assert.match((await page.locator('#tail').textContent()) ?? '', /compiling unit 16 of 16/);
      const html = await page.content();
      assert.ok(!html.includes(SECRET), 'the secret never reaches the page');
      assert.equal((await waitForEnd(world.codepipeline, 'Page', execution)).status, 'Succeeded');
      assert.deepEqual(pageErrors, [], 'no script errors or CSP violations');

      // The list links to the run; an unknown run is a 404 page.
      await page.goto(`http://127.0.0.1:${server.port}/jobs`);
      assert.equal(await page.locator(`a[href="/jobs/${runId}"]`).count(), 1);
      const missing = await page.goto(`http://127.0.0.1:${server.port}/jobs/no-such-run`);
      assert.equal(missing?.status(), 404);
      assert.match((await page.locator('h1').textContent()) ?? '', /not found/i);
    } finally {
      worker.stop();
      await worker.done;
      await server.close();
    }
  });
});
