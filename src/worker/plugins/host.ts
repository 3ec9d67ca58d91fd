// The plugin host: checks a plugin's executor options once at worker start-up, then runs one job
// through it. Everything that crosses the boundary is checked, because a plugin is third-party
// code: the action configuration goes in parsed by the plugin's schema, the context is frozen,
// and what comes back is validated, redacted and cut to the API's limits. `runPlugin` never
// rejects: every problem becomes a failed outcome with its CodePipeline failure type.

import { FAILURE_TYPES, type FailureType } from '../../model/limits.js';
import type { ExecFn, JobContext, JobIdentity, PluginLogger, SchemaLike } from '../../plugin.js';
import { CpsyncError, isCpsyncError } from '../../util/errors.js';
import { createExec, type CreateExecOptions } from '../exec.js';
import { createRedactor, stripWorkspacePaths, type Redactor } from '../redact.js';
import { JobFailure } from '../types.js';
import type { AnyPlugin } from './load.js';
import { fitOutcomeToApiLimits, validateOutcome, type SettledOutcome } from './outcome.js';

export type { SettledOutcome } from './outcome.js';

export interface PreparedPlugin {
  readonly plugin: AnyPlugin;
  readonly name: string;
  /** The executor options as the plugin's schema parsed them, deeply frozen. */
  readonly options: unknown;
}

export interface PrepareWhere {
  /** The file the options come from (default "actions.yaml"). */
  readonly file?: string;
  /** The action type, e.g. "Build/My-Build-Provider-Name/1", for messages. */
  readonly actionType?: string;
  /** The action type's configuration property names: `{Config:Name}` in options must use one. */
  readonly configurationKeys?: readonly string[];
}

type Issues = readonly { readonly path: readonly PropertyKey[]; readonly message: string }[];

function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${String(part)}` : String(part)), prefix);
}

function formatIssues(prefix: string, issues: Issues): string {
  return issues
    .map((issue) => {
      const where = formatPath(prefix, issue.path);
      // zod reports a bad record key as "Invalid key in record" with the key's own problem inside.
      const inner = issue as { code?: string; issues?: readonly { message?: string }[] };
      const text = inner.code === 'invalid_key' && inner.issues?.[0]?.message ? inner.issues[0].message : issue.message;
      const message = text.split('\n')[0] ?? '';
      return where ? `${where}: ${message}` : message;
    })
    .join('; ');
}

/** Every `{Config:Name}` in the string values of `value`, with the path where it occurs. */
function findConfigReferences(value: unknown, path: PropertyKey[] = []): { readonly name: string; readonly path: PropertyKey[] }[] {
  if (typeof value === 'string') return [...value.matchAll(/\{Config:([^}]*)\}/g)].map((match) => ({ name: match[1] ?? '', path }));
  if (Array.isArray(value)) return value.flatMap((item, index) => findConfigReferences(item, [...path, index]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => findConfigReferences(item, [...path, key]));
  return [];
}

/** Checks the executor options from actions.yaml with the plugin's own schema, once, at start-up.
 *  Throws a CpsyncError naming the field (`executor.options.argv[0]`) on any problem. */
export function preparePlugin(plugin: AnyPlugin, executorOptions: unknown, where: PrepareWhere = {}): PreparedPlugin {
  const name = plugin.meta.name;
  const file = where.file ?? 'actions.yaml';
  const at = where.actionType ? `${file}, action type ${where.actionType}` : file;
  const schema = plugin.configSchema?.options as SchemaLike<unknown> | undefined;
  const given = executorOptions ?? {};
  let options: unknown = given;
  if (schema) {
    const parsed = schema.safeParse(given);
    if (!parsed.success) {
      throw new CpsyncError('plugin.options-invalid', `${at}: ${formatIssues('executor.options', parsed.error.issues)}`, {
        hint: `fix executor.options for the "${name}" plugin in ${file}`,
      });
    }
    options = parsed.data;
  } else if (given !== null && typeof given === 'object' && Object.keys(given).length > 0) {
    throw new CpsyncError('plugin.options-invalid', `${at}: executor.options: the "${name}" plugin takes no options`, { hint: `remove executor.options in ${file}` });
  }
  if (where.configurationKeys) {
    const known = new Set(where.configurationKeys);
    for (const reference of findConfigReferences(executorOptions)) {
      if (!known.has(reference.name)) {
        const list = where.configurationKeys.length ? where.configurationKeys.join(', ') : 'none';
        throw new CpsyncError('plugin.unknown-config-reference', `${at}: ${formatPath('executor.options', reference.path)} uses {Config:${reference.name}}, which is not a configuration property of the action type`, {
          hint: `use one of its configurationProperties (${list}) or declare ${reference.name} there`,
        });
      }
    }
  }
  return Object.freeze({ plugin, name, options: deepFreeze(options) });
}

export interface PluginJobInput {
  readonly job: JobIdentity;
  /** The action's configuration as the job data gives it (secret values included). */
  readonly configuration: Readonly<Record<string, string>>;
  /** Input artifact name → extracted folder. */
  readonly inputs: Readonly<Record<string, string>>;
  /** Output artifact name → empty folder. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly workspace: string;
  /** The previous hop's state, on continuation jobs. */
  readonly state?: unknown;
  readonly log: PluginLogger;
  readonly signal: AbortSignal;
  /** Configuration keys whose values are secret (the action type's `secret: true` properties). */
  readonly secretKeys?: readonly string[];
  /** More values to hide (tokens the worker holds). */
  readonly secrets?: readonly string[];
  /** A redactor shared with the rest of the job (values above are added to it). */
  readonly redactor?: Redactor;
  /** Settings for the exec gateway (extra environment names, kill grace, ...). */
  readonly execOptions?: Omit<CreateExecOptions, 'workspace' | 'job' | 'signal' | 'log' | 'redactor'>;
  /** Replaces the gateway entirely (tests of callers only). */
  readonly exec?: ExecFn;
}

/** Freezes a value and everything reachable from it (plain data; class instances are frozen too). */
export function deepFreeze<T>(value: T, seen = new WeakSet<object>()): T {
  if (value === null || typeof value !== 'object' || seen.has(value)) return value;
  seen.add(value);
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key], seen);
  return Object.freeze(value);
}

function frozenCopy<T>(value: T): T {
  let copy: T;
  try {
    copy = structuredClone(value);
  } catch {
    copy = value;
  }
  return deepFreeze(copy);
}

function redactingLogger(log: PluginLogger, redactor: Redactor): PluginLogger {
  const clean = (fields?: Record<string, unknown>) =>
    fields && Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, typeof value === 'string' ? redactor.redact(value) : value]));
  return Object.freeze({
    debug: (message: string, fields?: Record<string, unknown>) => log.debug(redactor.redact(message), clean(fields)),
    info: (message: string, fields?: Record<string, unknown>) => log.info(redactor.redact(message), clean(fields)),
    warn: (message: string, fields?: Record<string, unknown>) => log.warn(redactor.redact(message), clean(fields)),
    error: (message: string, fields?: Record<string, unknown>) => log.error(redactor.redact(message), clean(fields)),
  });
}

/** A JobFailure, also one made by another copy of cpsync's module (plugins loaded through tsx get
 *  their own): recognised by shape. */
function asJobFailure(error: unknown): { failureType: FailureType; message: string } | undefined {
  if (error instanceof JobFailure) return error;
  if (error instanceof Error && error.name === 'JobFailure' && FAILURE_TYPES.includes((error as { failureType?: FailureType }).failureType as FailureType)) {
    return { failureType: (error as unknown as { failureType: FailureType }).failureType, message: error.message };
  }
  return undefined;
}

/** Why the job's signal fired, as a failure. */
function abortFailure(name: string, reason: unknown): JobFailure {
  const failure = asJobFailure(reason);
  if (failure) return new JobFailure(failure.failureType, failure.message);
  if (reason instanceof Error && reason.name === 'TimeoutError') return new JobFailure('JobFailed', `plugin ${name} did not finish within the job's time limit`);
  const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'the job was cancelled';
  return new JobFailure('SystemUnavailable', `plugin ${name} was stopped: ${why}`);
}

/** Runs one job through a prepared plugin. Resolves with a settled outcome (failures carry their
 *  type, texts are redacted and cut to API limits); never rejects. Resolves promptly once
 *  `input.signal` aborts, even if the plugin ignores it. */
export async function runPlugin(prepared: PreparedPlugin, input: PluginJobInput): Promise<SettledOutcome> {
  const { plugin, name } = prepared;
  const redactor = input.redactor ?? createRedactor();
  for (const value of input.secrets ?? []) redactor.add(value);
  for (const key of input.secretKeys ?? []) {
    const value = input.configuration[key];
    if (value) redactor.add(value);
  }
  const clean = (text: string) => stripWorkspacePaths(redactor.redact(text), input.workspace);
  const fail = (failureType: FailureType, message: string): SettledOutcome => fitOutcomeToApiLimits({ status: 'failed', failureType, message: clean(message) });

  // The configuration, parsed by the plugin's schema.
  let config: unknown = { ...input.configuration };
  const configurationSchema = plugin.configSchema?.configuration as SchemaLike<unknown> | undefined;
  if (configurationSchema) {
    let parsed: ReturnType<SchemaLike<unknown>['safeParse']>;
    try {
      parsed = configurationSchema.safeParse({ ...input.configuration });
    } catch (error) {
      return fail('JobFailed', `plugin ${name}: its configuration schema threw: ${error instanceof Error ? error.message : String(error)}`);
    }
    // Name the key and say what is wrong; never repeat the value (it may be a secret).
    if (!parsed.success) return fail('ConfigurationError', `action configuration is invalid: ${formatIssues('', parsed.error.issues)}`);
    config = parsed.data;
  }

  const log = redactingLogger(input.log, redactor);
  const exec =
    input.exec ??
    createExec({ ...input.execOptions, workspace: input.workspace, job: input.job, signal: input.signal, log, redactor });
  const context: JobContext<unknown, unknown> = Object.freeze({
    job: frozenCopy(input.job),
    config: frozenCopy(config),
    options: prepared.options,
    inputs: frozenCopy({ ...input.inputs }),
    outputs: frozenCopy({ ...input.outputs }),
    workspace: input.workspace,
    state: frozenCopy(input.state),
    exec,
    log,
    signal: input.signal,
  });

  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(abortFailure(name, input.signal.reason));
    if (input.signal.aborted) onAbort();
    else input.signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);

  let returned: unknown;
  try {
    returned = await Promise.race([Promise.resolve().then(() => plugin.execute(context)), aborted]);
  } catch (error) {
    const failure = asJobFailure(error);
    if (failure) return fail(failure.failureType, failure.message);
    if (isCpsyncError(error)) return fail(error.code.startsWith('plugin.') ? 'ConfigurationError' : 'JobFailed', error.message);
    const message = error instanceof Error ? error.message || error.name : String(error);
    return fail('JobFailed', message || `plugin ${name} threw without a message`);
  } finally {
    if (onAbort) input.signal.removeEventListener('abort', onAbort);
  }

  const checked = validateOutcome(returned);
  if (!checked.ok) return fail('JobFailed', `plugin ${name} returned an invalid result: ${checked.problem}`);
  const outcome = checked.outcome;
  switch (outcome.status) {
    case 'succeeded':
      return fitOutcomeToApiLimits({
        ...outcome,
        ...(outcome.summary !== undefined && { summary: clean(outcome.summary) }),
        ...(outcome.outputVariables && { outputVariables: Object.fromEntries(Object.entries(outcome.outputVariables).map(([key, value]) => [key, redactor.redact(value)])) }),
      });
    case 'failed':
      return fitOutcomeToApiLimits({ ...outcome, message: clean(outcome.message) });
    case 'in-progress':
      return fitOutcomeToApiLimits({ ...outcome, ...(outcome.summary !== undefined && { summary: clean(outcome.summary) }) });
  }
}
