// The one gateway through which the worker runs third-party tools (STYLE.md: "exactly one gateway
// for child processes"). Every plugin gets an `ExecFn` made here, so the rules hold for all of them:
//
// - argv arrays only, never a shell: a configuration value such as `; rm -rf /` is one argument;
// - the working directory stays inside the job's workspace (symlinks resolved before checking);
// - the environment is an allow-list (`extendEnv: false`): the worker's AWS credentials and the
//   job's artifact credentials never reach a tool unless a plugin passes them on purpose;
// - each tool leads its own process group; a timeout, the job's AbortSignal, or the tool's own
//   exit ends the whole group (SIGTERM, then SIGKILL after a grace period), so no grandchild
//   outlives its job;
// - output is streamed to the job's logger a line at a time with secrets redacted, and only a
//   bounded tail is kept for the result.

import { mkdirSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import type { ExecFn, ExecOptions, ExecResult, JobIdentity, PluginLogger } from '../plugin.js';
import { CpsyncError } from '../util/errors.js';
import { createLineSplitter, createRedactor, type Redactor } from './redact.js';
import { JobFailure } from './types.js';

/** Environment variables every tool gets from the worker's own environment, when set there. */
export const BASE_ENV_NAMES = ['PATH', 'LANG', 'LC_ALL', 'TZ'] as const;

/** Names that can never be allow-listed: a tool that needs AWS access gets it from its plugin,
 *  explicitly, not by inheriting the worker's identity. */
const NEVER_INHERITED = new Set(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN']);

export const DEFAULT_KILL_GRACE_MS = 5_000;
export const DEFAULT_TAIL_LINES = 50;
export const DEFAULT_TAIL_BYTES = 4 * 1024;

export interface CreateExecOptions {
  /** The job's workspace (absolute). Working directories must stay inside it. */
  readonly workspace: string;
  /** Exposed to tools as CPSYNC_JOB_ID, CPSYNC_PIPELINE, CPSYNC_STAGE, CPSYNC_ACTION, CPSYNC_EXECUTION_ID. */
  readonly job?: JobIdentity;
  /** The job's signal: aborting it stops the running tool's whole process group. */
  readonly signal?: AbortSignal;
  /** Receives every output line (redacted). */
  readonly log?: PluginLogger;
  /** Values to hide from the log and the tail. */
  readonly redactor?: Redactor;
  /** Where allow-listed variables are read from (default: `process.env`). */
  readonly sourceEnv?: Readonly<Record<string, string | undefined>>;
  /** More variable names to pass through from `sourceEnv` (worker settings), besides BASE_ENV_NAMES. */
  readonly extraEnvNames?: readonly string[];
  /** HOME for tools (default `<workspace>/.home`), so nothing writes to the worker user's home. */
  readonly homeDir?: string;
  /** TMPDIR for tools (default `<workspace>/.tmp`). */
  readonly tmpDir?: string;
  /** Between SIGTERM and SIGKILL (default 5s). */
  readonly killGraceMs?: number;
  /** Timeout when the call gives none (default: none). */
  readonly defaultTimeoutMs?: number;
  readonly tailLines?: number;
  readonly tailBytes?: number;
}

/** The last lines of output, at most `maxLines` lines and `maxBytes` bytes (UTF-8) together. */
export class OutputTail {
  private readonly lines: string[] = [];
  private bytes = 0;

  constructor(
    private readonly maxLines: number,
    private readonly maxBytes: number,
  ) {}

  push(line: string): void {
    let kept = line;
    if (Buffer.byteLength(kept) > this.maxBytes) {
      // Keep the end of an overlong line: that is where tools print the error.
      const buffer = Buffer.from(kept);
      kept = `…${buffer.subarray(buffer.length - (this.maxBytes - 4)).toString('utf8').replace(/^\uFFFD+/, '')}`;
    }
    this.lines.push(kept);
    this.bytes += Buffer.byteLength(kept) + 1;
    while (this.lines.length > this.maxLines || (this.bytes - 1 > this.maxBytes && this.lines.length > 1)) {
      const dropped = this.lines.shift() as string;
      this.bytes -= Buffer.byteLength(dropped) + 1;
    }
  }

  text(): string {
    return this.lines.join('\n');
  }
}

/** The child's environment: allow-listed names from `sourceEnv`, the per-job HOME and TMPDIR, the
 *  job's identity, then what the plugin passes (which may override anything but CPSYNC_*). Pure. */
export function buildChildEnv(options: {
  readonly sourceEnv: Readonly<Record<string, string | undefined>>;
  readonly extraEnvNames?: readonly string[];
  readonly homeDir: string;
  readonly tmpDir: string;
  readonly job?: JobIdentity;
  readonly env?: Readonly<Record<string, string>>;
}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...BASE_ENV_NAMES, ...(options.extraEnvNames ?? [])]) {
    const value = options.sourceEnv[name];
    if (value !== undefined && !NEVER_INHERITED.has(name)) env[name] = value;
  }
  env.HOME = options.homeDir;
  env.TMPDIR = options.tmpDir;
  Object.assign(env, options.env ?? {});
  if (options.job) {
    env.CPSYNC_JOB_ID = options.job.jobId;
    env.CPSYNC_PIPELINE = options.job.pipeline;
    env.CPSYNC_STAGE = options.job.stage;
    env.CPSYNC_ACTION = options.job.action;
    env.CPSYNC_EXECUTION_ID = options.job.pipelineExecutionId;
  }
  return env;
}

/** The absolute working directory for `cwd` (relative to the workspace, or absolute inside it).
 *  Refuses anything that leaves the workspace, following symlinks. */
export function resolveWorkingDirectory(workspace: string, cwd: string | undefined): string {
  const root = realpathSync(workspace);
  const target = resolve(root, cwd ?? '.');
  const outside = (path: string) => {
    const rel = relative(root, path);
    return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
  };
  const escape = () => new JobFailure('ConfigurationError', `working directory ${JSON.stringify(cwd)} is outside the job workspace`);
  if (outside(target)) throw escape();
  let real: string;
  try {
    real = realpathSync(target);
  } catch {
    throw new JobFailure('ConfigurationError', `working directory ${JSON.stringify(cwd)} does not exist in the job workspace`);
  }
  if (outside(real)) throw escape();
  if (!statSync(real).isDirectory()) throw new JobFailure('ConfigurationError', `working directory ${JSON.stringify(cwd)} is not a folder`);
  return real;
}

function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    // ESRCH: the group is gone. EPERM: not ours any more (cannot happen for our own children).
    return false;
  }
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

function checkArgv(argv: unknown): asserts argv is readonly [string, ...string[]] {
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((part) => typeof part === 'string') || argv[0] === '') {
    throw new JobFailure('JobFailed', 'exec needs a non-empty array of strings, the program first');
  }
  if (argv.some((part: string) => part.includes('\0'))) throw new JobFailure('ConfigurationError', 'an argument contains a NUL character');
}

/** Makes the `exec` function a job's plugin uses. */
export function createExec(options: CreateExecOptions): ExecFn {
  for (const name of options.extraEnvNames ?? []) {
    if (NEVER_INHERITED.has(name)) {
      throw new CpsyncError('worker.env-not-allowed', `${name} cannot be passed to tools from the worker's environment`, {
        hint: 'remove it from the allowed environment names; a plugin that needs AWS credentials must pass them itself',
      });
    }
  }
  const redactor = options.redactor ?? createRedactor();
  const graceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const homeDir = options.homeDir ?? join(options.workspace, '.home');
  const tmpDir = options.tmpDir ?? join(options.workspace, '.tmp');

  return async (argv, execOptions: ExecOptions = {}): Promise<ExecResult> => {
    checkArgv(argv);
    const started = performance.now();
    const cwd = resolveWorkingDirectory(options.workspace, execOptions.cwd);
    mkdirSync(homeDir, { recursive: true });
    mkdirSync(tmpDir, { recursive: true });
    const env = buildChildEnv({ sourceEnv: options.sourceEnv ?? process.env, extraEnvNames: options.extraEnvNames, homeDir, tmpDir, job: options.job, env: execOptions.env });
    const timeoutMs = execOptions.timeoutMs ?? options.defaultTimeoutMs;
    const tail = new OutputTail(options.tailLines ?? DEFAULT_TAIL_LINES, options.tailBytes ?? DEFAULT_TAIL_BYTES);
    const program = argv[0];

    if (options.signal?.aborted) {
      return { exitCode: undefined, signal: undefined, timedOut: false, cancelled: true, outputTail: '', durationMs: 0 };
    }

    options.log?.debug(`running ${redactor.redact(JSON.stringify(argv))}`, { cwd: relative(options.workspace, cwd) || '.' });
    const subprocess = execa(program, argv.slice(1), {
      cwd,
      env,
      extendEnv: false,
      shell: false,
      // Its own process group (setsid), so the whole tree can be signalled as one.
      detached: true,
      reject: false,
      buffer: false,
      stripFinalNewline: false,
      windowsHide: true,
      ...(execOptions.input === undefined ? { stdin: 'ignore' as const } : { input: execOptions.input }),
    });

    const onLine = (stream: 'stdout' | 'stderr') => (line: string) => {
      tail.push(line);
      options.log?.info(line, { stream });
    };
    const stdout = createLineSplitter({ redactor, onLine: onLine('stdout') });
    const stderr = createLineSplitter({ redactor, onLine: onLine('stderr') });
    subprocess.stdout?.on('data', (chunk: Buffer) => stdout.write(chunk));
    subprocess.stderr?.on('data', (chunk: Buffer) => stderr.write(chunk));

    const pid = subprocess.pid;
    let leaderExited = false;
    let timedOut = false;
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = () => {
      if (pid === undefined || killTimer) return;
      signalGroup(pid, 'SIGTERM');
      killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
    };
    // When the tool exits, whatever it left running in its group (a server started with `&`)
    // would outlive the job and keep its output pipes open: end it too.
    subprocess.on('exit', () => {
      leaderExited = true;
      killGroup();
    });
    const timer =
      timeoutMs !== undefined && pid !== undefined
        ? setTimeout(() => {
            if (leaderExited) return;
            timedOut = true;
            killGroup();
          }, timeoutMs)
        : undefined;
    const onAbort = () => {
      if (leaderExited) return;
      cancelled = true;
      killGroup();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    try {
      const result = await subprocess;
      stdout.end();
      stderr.end();
      if (pid !== undefined && signalGroup(pid, 0)) {
        // Stragglers that closed their output: give them the grace period, then SIGKILL.
        killGroup();
        const deadline = performance.now() + graceMs + 50;
        while (signalGroup(pid, 0) && performance.now() < deadline) await sleep(25);
        if (signalGroup(pid, 'SIGKILL')) {
          // SIGKILL is delivered asynchronously; wait a little so callers see the group gone (a
          // zombie nobody reaps keeps the group "alive" to kill(0), hence the bound).
          const killed = performance.now() + 1_000;
          while (signalGroup(pid, 0) && performance.now() < killed) await sleep(25);
        }
      }
      if (pid === undefined || (result.failed && result.exitCode === undefined && result.signal === undefined && !timedOut && !cancelled)) {
        throw spawnFailure(program, result);
      }
      return {
        exitCode: result.exitCode,
        signal: result.signal,
        timedOut,
        cancelled,
        outputTail: tail.text(),
        durationMs: Math.round(performance.now() - started),
      };
    } finally {
      if (timer) clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  };
}

function spawnFailure(program: string, result: { code?: string; originalMessage?: string }): JobFailure {
  const name = JSON.stringify(program);
  if (result.code === 'ENOENT') return new JobFailure('ConfigurationError', `cannot run ${name}: not found${program.includes('/') ? '' : ' on PATH'}`);
  if (result.code === 'EACCES') return new JobFailure('ConfigurationError', `cannot run ${name}: permission denied (is it executable?)`);
  return new JobFailure('JobFailed', `cannot run ${name}: ${(result.originalMessage ?? 'unknown error').split('\n')[0]}`);
}
