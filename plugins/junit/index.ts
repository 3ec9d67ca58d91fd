// The bundled `junit` executor plugin: runs a test command, then reads the JUnit XML reports it
// wrote and reports the tests, not just the exit code.
//
//   executor:
//     plugin: junit
//     options:
//       argv: [node, --test, --test-reporter=junit, --test-reporter-destination=build/test-results/junit.xml]
//       cwd: inputs/MyApp                                   # optional, relative to the job workspace
//       reports: ["inputs/MyApp/build/test-results/**/*.xml"]   # globs, relative to the job workspace
//       outputs: { reports: TestReports }                   # optional: package the reports
//       timeout: 20m                                        # optional
//       env: { SUITE: "{Config:Suite}" }                    # optional
//
// The result comes from the reports: failing test cases fail the job with their names and
// messages. Reports already in the input artifact (committed, or left by an earlier stage) are
// ignored unless the command rewrites them, so a stale green report cannot pass for this run.

import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { definePlugin, type JobOutcome } from '../../src/plugin.js';
import { argvSchema, artifactName, describeMissingPlaceholders, duration, environmentName, fillCommand, formatDuration, templated, textConfigurationSchema, workspacePath } from '../shared/options.js';
import { copyFilesKeepingLayout, isInside } from '../shared/outputs.js';
import { DEFAULT_JUNIT_LIMITS, JUnitXmlError, mergeReports, parseJUnitXml, type JUnitReport } from './junit-xml.js';
import { renderCounts, renderFailureMessage } from './render.js';
import { DEFAULT_FIND_LIMITS, FindError, findFiles, selectWrittenFiles, type FoundFile } from './report-files.js';

/** Reports are written by the code under test: bounded before anything is read. */
export const REPORT_LIMITS = {
  maxFiles: DEFAULT_FIND_LIMITS.maxFiles,
  maxFileBytes: 16 * 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
} as const;

/** CodePipeline's failure message limit is 5000; leave room for redaction markers. */
const MESSAGE_BUDGET = 4900;

const glob = workspacePath.refine((value) => !value.includes('\0'), { error: 'must not contain NUL' });

export const junitOptionsSchema = z.strictObject({
  argv: argvSchema,
  reports: z
    .union([glob, z.array(glob, { error: 'must be a glob or a list of globs' }).min(1, { error: 'must name at least one glob' })], { error: 'must be a glob or a list of globs, relative to the job workspace' })
    .transform((value) => (typeof value === 'string' ? [value] : value)),
  outputs: z.strictObject({ reports: artifactName }).optional(),
  cwd: workspacePath.optional(),
  timeout: duration.optional(),
  env: z.record(environmentName, templated).optional(),
});

export type JUnitOptions = z.output<typeof junitOptionsSchema>;

const failed = (message: string, failureType: 'JobFailed' | 'ConfigurationError' | 'SystemUnavailable' = 'JobFailed'): JobOutcome => ({ status: 'failed', failureType, message });

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

/** Reads and parses the report files; a problem is returned as a failed outcome. */
async function readReports(files: readonly FoundFile[]): Promise<{ readonly ok: true; readonly report: JUnitReport } | { readonly ok: false; readonly outcome: JobOutcome }> {
  const reports: JUnitReport[] = [];
  let total = 0;
  for (const file of files) {
    if (file.size > REPORT_LIMITS.maxFileBytes) return { ok: false, outcome: failed(`report ${file.relativePath} is ${file.size} bytes; the junit plugin reads at most ${REPORT_LIMITS.maxFileBytes} per file`) };
    total += file.size;
    if (total > REPORT_LIMITS.maxTotalBytes) return { ok: false, outcome: failed(`the reports take more than ${REPORT_LIMITS.maxTotalBytes} bytes together; the junit plugin reads at most that much (narrow the report globs)`) };
    // Size checked again on the bytes actually read: the file may have grown since it was listed.
    const bytes = await readFile(file.path);
    if (bytes.length > REPORT_LIMITS.maxFileBytes) return { ok: false, outcome: failed(`report ${file.relativePath} is ${bytes.length} bytes; the junit plugin reads at most ${REPORT_LIMITS.maxFileBytes} per file`) };
    try {
      reports.push(parseJUnitXml(bytes.toString('utf8')));
    } catch (error) {
      if (error instanceof JUnitXmlError) return { ok: false, outcome: failed(`report ${file.relativePath} is not valid JUnit XML: ${error.message}`) };
      throw error;
    }
  }
  return { ok: true, report: mergeReports(reports, DEFAULT_JUNIT_LIMITS.maxFailures) };
}

export default definePlugin<Readonly<Record<string, string>>, JUnitOptions>({
  meta: {
    name: 'junit',
    description: 'Runs a test command, reads the JUnit XML reports it writes and fails the job on failing tests, naming them; can package the reports.',
  },
  configSchema: {
    configuration: textConfigurationSchema,
    options: junitOptionsSchema,
  },
  async execute(ctx) {
    const { options, config } = ctx;
    const { argv, env, missing } = fillCommand(options, config);
    if (missing.size > 0) return failed(describeMissingPlaceholders(missing), 'ConfigurationError');
    const globs = options.reports.join(', ');

    let before: FoundFile[];
    try {
      before = await findFiles(ctx.workspace, options.reports);
    } catch (error) {
      if (error instanceof FindError) return failed(error.message, 'ConfigurationError');
      throw error;
    }

    const result = await ctx.exec(argv as [string, ...string[]], {
      ...(options.cwd !== undefined && { cwd: options.cwd }),
      ...(env && { env }),
      ...(options.timeout !== undefined && { timeoutMs: options.timeout }),
    });
    const tail = result.outputTail.trim();
    const withTail = (head: string) => (tail ? `${head}: ${tail}` : head);
    if (result.cancelled) return failed('the test command was stopped: the job was cancelled', 'SystemUnavailable');
    if (result.timedOut) return failed(withTail(`the test command timed out after ${formatDuration(options.timeout ?? result.durationMs)}`));
    const exit = result.exitCode === 0 ? undefined : result.exitCode === undefined ? `was killed by ${result.signal ?? 'a signal'}` : `exited ${result.exitCode}`;

    let written: FoundFile[];
    let stale: FoundFile[];
    try {
      ({ written, stale } = selectWrittenFiles(before, await findFiles(ctx.workspace, options.reports)));
    } catch (error) {
      if (error instanceof FindError) return failed(error.message, 'ConfigurationError');
      throw error;
    }
    if (written.length === 0) {
      // A command that failed before writing reports (a compile error) is the job's failure; a
      // command that succeeded without them means the globs or the reporter are set up wrong.
      if (exit) return failed(withTail(`the test command ${exit} and wrote no reports matching ${globs}`));
      const ignored = stale.length ? ` (${plural(stale.length, 'older report')} from before the command ran ignored)` : '';
      return failed(`the test command wrote no JUnit reports matching ${globs}${ignored}; check executor.options.reports and the test tool's JUnit reporter`, 'ConfigurationError');
    }

    const read = await readReports(written);
    if (!read.ok) return read.outcome;
    const report = read.report;

    const target = options.outputs ? ctx.outputs[options.outputs.reports] : undefined;
    if (options.outputs && target === undefined) ctx.log.debug(`output ${options.outputs.reports} is not an output artifact of this action; reports not packaged`);
    if (target !== undefined) {
      const inside = [];
      for (const file of written) if (await isInside(ctx.workspace, file.path)) inside.push(file.path);
      await copyFilesKeepingLayout(inside, target);
    }

    const reportsNote = `${plural(written.length, 'report')} in ${formatDuration(result.durationMs)}`;
    if (report.failed > 0) return failed(renderFailureMessage(report, MESSAGE_BUDGET));
    if (exit) return failed(withTail(`the test command ${exit}, although its reports show no failing test (${renderCounts(report)})`));
    if (report.passed + report.skipped === 0) return failed(`no test cases in the ${plural(written.length, 'report')} matching ${globs}`);
    return {
      status: 'succeeded',
      summary: `${renderCounts(report)} (${reportsNote})`,
      outputVariables: { tests_passed: String(report.passed), tests_failed: String(report.failed), tests_skipped: String(report.skipped) },
    };
  },
});
