// `cpsync local`: runs the local CodePipeline + S3 endpoint in the foreground until SIGINT or
// SIGTERM. The environment to export goes to stdout (it is the command's result, and a script can
// `eval` it); the banner and shutdown notice go to stderr.

import { resolve } from 'node:path';
import type { FaultRule, LocalEndpointOptions } from '../../emulator/context.js';
import { CpsyncError } from '../../util/errors.js';
import { parseDuration } from '../../util/duration.js';
import { booleanFlag, integerFlag, stringFlag } from '../parse-args.js';
import type { CommandContext, ParsedArgs } from '../spec.js';

export const DEFAULT_DATA_DIR = '.cpsync/local';
/** Dummy credentials: the endpoint insists on SigV4 signatures but accepts any key. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'cpsynclocal', secretAccessKey: 'cpsynclocal' } as const;

const FAULT_KEYS = ['latency', 'throttle', 'error', 'drop'] as const;

function duration(flag: string, text: string): number {
  try {
    return parseDuration(text);
  } catch {
    throw new CpsyncError('cli.bad-flag-value', `--${flag} must be a duration such as 500ms, 30s, 15m or 1h, got "${text}"`, {
      hint: `write e.g. --${flag} 30s`,
    });
  }
}

/** Parses one `--fault OP:latency=50ms,throttle=0.1,error=0.05,drop=0.01`. Pure. */
export function parseFaultRule(text: string): FaultRule {
  const bad = (why: string) =>
    new CpsyncError('cli.bad-flag-value', `--fault "${text}": ${why}`, {
      hint: 'write --fault OPERATION:latency=50ms,throttle=0.1,error=0.05,drop=0.01 (OPERATION: PollForJobs, s3:PutObject, s3:* or *)',
    });
  // The operation may itself contain a colon (s3:PutObject), the settings never do.
  const colon = text.lastIndexOf(':');
  if (colon <= 0 || colon === text.length - 1) throw bad('expected OPERATION:SETTINGS');
  const operation = text.slice(0, colon);
  const rule: { operation: string; latencyMs?: number; throttleRate?: number; errorRate?: number; dropResponseRate?: number } = { operation };
  for (const part of text.slice(colon + 1).split(',')) {
    const [key, value, ...rest] = part.split('=');
    if (!key || value === undefined || rest.length) throw bad(`"${part}" is not key=value`);
    if (!(FAULT_KEYS as readonly string[]).includes(key)) throw bad(`unknown setting "${key}" (use ${FAULT_KEYS.join(', ')})`);
    if (key === 'latency') {
      try {
        rule.latencyMs = parseDuration(value);
      } catch {
        throw bad(`latency "${value}" is not a duration such as 50ms`);
      }
      continue;
    }
    const rate = Number(value);
    if (!/^\d*\.?\d+$/.test(value) || rate < 0 || rate > 1) throw bad(`${key} must be a share from 0 to 1, got "${value}"`);
    if (key === 'throttle') rule.throttleRate = rate;
    else if (key === 'error') rule.errorRate = rate;
    else rule.dropResponseRate = rate;
  }
  return rule;
}

/** Turns the flags into endpoint options. Pure (paths resolved against `cwd`). */
export function parseLocalOptions(args: ParsedArgs, cwd: string): LocalEndpointOptions {
  const timing = (flag: string) => {
    const text = stringFlag(args, flag);
    return text === undefined ? undefined : duration(flag, text);
  };
  const faults = ((args.flags.fault as string[] | undefined) ?? []).map(parseFaultRule);
  const seedText = stringFlag(args, 'seed');
  if (seedText !== undefined && !/^\d+$/.test(seedText)) {
    throw new CpsyncError('cli.bad-flag-value', `--seed must be a whole number, got "${seedText}"`, { hint: 'write e.g. --seed 42' });
  }
  const accountId = stringFlag(args, 'account-id');
  if (accountId !== undefined && !/^\d{12}$/.test(accountId)) {
    throw new CpsyncError('cli.bad-flag-value', `--account-id must be 12 digits, got "${accountId}"`, { hint: 'write e.g. --account-id 123456789012' });
  }
  const dispatchTimeoutMs = timing('dispatch-timeout');
  const actionTimeoutMs = timing('action-timeout');
  const credentialLifetimeMs = timing('credential-lifetime');
  const region = stringFlag(args, 'region');
  const failingActions = (args.flags['failing-action'] as string[] | undefined) ?? [];
  return {
    host: stringFlag(args, 'host') ?? '127.0.0.1',
    port: integerFlag(args, 'port', 4599, 0, 65535),
    dataDir: resolve(cwd, stringFlag(args, 'data') ?? DEFAULT_DATA_DIR),
    reset: booleanFlag(args, 'reset'),
    ...(region ? { region } : {}),
    ...(accountId ? { accountId } : {}),
    ...(dispatchTimeoutMs !== undefined ? { dispatchTimeoutMs } : {}),
    ...(actionTimeoutMs !== undefined ? { actionTimeoutMs } : {}),
    ...(credentialLifetimeMs !== undefined ? { credentialLifetimeMs } : {}),
    ...(failingActions.length ? { failingActions } : {}),
    ...(faults.length ? { faults } : {}),
    ...(seedText !== undefined ? { seed: Number(seedText) } : {}),
  };
}

/** The `export` lines a shell needs to point the AWS CLI and SDKs at the endpoint. Pure. */
export function renderEnvironment(url: string, region: string): string {
  return [
    `export AWS_ENDPOINT_URL=${url}`,
    `export AWS_ACCESS_KEY_ID=${LOCAL_CREDENTIALS.accessKeyId}`,
    `export AWS_SECRET_ACCESS_KEY=${LOCAL_CREDENTIALS.secretAccessKey}`,
    `export AWS_REGION=${region}`,
    // The AWS CLI reads AWS_DEFAULT_REGION; the SDKs read AWS_REGION.
    `export AWS_DEFAULT_REGION=${region}`,
    '',
  ].join('\n');
}

function waitForStopSignal(): Promise<string> {
  return new Promise((resolveSignal) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolveSignal(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export async function runLocal(context: CommandContext): Promise<number> {
  const options = parseLocalOptions(context.args, context.cwd);
  const { startLocalEndpoint } = await import('../../emulator/index.js');
  let endpoint: Awaited<ReturnType<typeof startLocalEndpoint>>;
  try {
    endpoint = await startLocalEndpoint(options);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new CpsyncError('local.port-in-use', `port ${options.port} on ${options.host} is already in use`, {
        hint: 'stop the other process (perhaps another `cpsync local`), or pass --port with a free port (--port 0 picks one)',
        cause: error,
      });
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new CpsyncError('local.bad-host', `cannot listen on host ${options.host}`, { hint: 'pass --host 127.0.0.1 or another local address', cause: error });
    }
    throw error;
  }
  const stopped = waitForStopSignal();
  context.stderr.write(
    `cpsync local: CodePipeline + S3 endpoint at ${endpoint.url} (Region ${endpoint.region}, account ${endpoint.accountId})\n` +
      `  state in ${options.dataDir}${options.reset ? ' (reset)' : ''}; stop with Ctrl-C\n`,
  );
  context.stdout.write(renderEnvironment(endpoint.url, endpoint.region));
  const signal = await stopped;
  context.stderr.write(`cpsync local: ${signal} received, stopping\n`);
  await endpoint.close();
  return 0;
}
