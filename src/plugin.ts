// The executor plugin contract: what a plugin author writes and what the worker gives it.
//
// A plugin is a plain object made with `definePlugin`. The worker validates its shape and parses
// the action configuration and the executor options with the plugin's own schemas before any job
// runs. `execute` receives a frozen context; it never sees artifact credentials or AWS clients, and
// it runs tools only through `ctx.exec` (argv arrays, no shell, an environment allow-list,
// timeouts, cancellation of the whole process group, secrets redacted from the output).

import type { FailureType } from './model/limits.js';

/** Anything with zod's `safeParse` (zod 3 or 4 schemas, or a hand-written equivalent). */
export interface SchemaLike<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

export interface PluginMeta {
  /** Short name used in logs and messages, e.g. "command". */
  readonly name: string;
  readonly version?: string;
  readonly description?: string;
}

export interface ExecOptions {
  /** Working directory, relative to the job workspace (default: the workspace). It must stay inside it. */
  readonly cwd?: string;
  /** Extra environment variables, added to the allow-listed ones. */
  readonly env?: Readonly<Record<string, string>>;
  /** Kill the tool (its whole process group) after this long. */
  readonly timeoutMs?: number;
  /** Text written to the tool's standard input. */
  readonly input?: string;
}

export interface ExecResult {
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly timedOut: boolean;
  /** True when the job's AbortSignal stopped the tool (shutdown, cancellation). */
  readonly cancelled: boolean;
  /** The last lines of standard output and error together, secrets redacted. */
  readonly outputTail: string;
  readonly durationMs: number;
}

/** Runs a tool. `argv[0]` is the program (found on PATH); nothing is interpreted by a shell. */
export type ExecFn = (argv: readonly [string, ...string[]], options?: ExecOptions) => Promise<ExecResult>;

export interface PluginLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface JobIdentity {
  readonly jobId: string;
  readonly pipeline: string;
  readonly stage: string;
  readonly action: string;
  readonly pipelineExecutionId: string;
  readonly actionExecutionId: string;
  /** `Category/Provider/Version` of the action type. */
  readonly actionType: string;
}

export interface JobContext<Config = Record<string, string>, Options = Record<string, unknown>> {
  readonly job: JobIdentity;
  /** The action's configuration, parsed by `configSchema.configuration`. */
  readonly config: Config;
  /** The executor options from actions.yaml, parsed by `configSchema.options`. */
  readonly options: Options;
  /** Input artifact name → folder holding its extracted files. */
  readonly inputs: Readonly<Record<string, string>>;
  /** Output artifact name → empty folder to fill; its contents are zipped and uploaded. */
  readonly outputs: Readonly<Record<string, string>>;
  /** The job's workspace folder (inputs/ and outputs/ live in it). */
  readonly workspace: string;
  /** State returned by the previous hop (`in-progress`), on continuation jobs. */
  readonly state: unknown;
  readonly exec: ExecFn;
  readonly log: PluginLogger;
  /** Aborted when the worker shuts down or the job must stop. */
  readonly signal: AbortSignal;
}

export type JobOutcome =
  | {
      readonly status: 'succeeded';
      readonly summary?: string;
      readonly outputVariables?: Readonly<Record<string, string>>;
      readonly externalExecutionId?: string;
    }
  | {
      readonly status: 'failed';
      readonly message: string;
      readonly failureType?: FailureType;
      readonly externalExecutionId?: string;
    }
  | {
      readonly status: 'in-progress';
      /** Carried to the next hop; must serialize to JSON. */
      readonly state: unknown;
      readonly summary?: string;
      readonly percentComplete?: number;
      readonly externalExecutionId?: string;
    };

export interface Plugin<Config = Record<string, string>, Options = Record<string, unknown>> {
  readonly meta: PluginMeta;
  readonly configSchema?: {
    readonly configuration?: SchemaLike<Config>;
    readonly options?: SchemaLike<Options>;
  };
  execute(context: JobContext<Config, Options>): Promise<JobOutcome>;
}

/** Declares an executor plugin with full types. The identity function, for inference. */
export function definePlugin<Config = Record<string, string>, Options = Record<string, unknown>>(plugin: Plugin<Config, Options>): Plugin<Config, Options> {
  return plugin;
}
