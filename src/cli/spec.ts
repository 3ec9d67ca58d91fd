// The command-line surface as data: every command, flag and example lives here, so `--help`,
// the "did you mean" suggestions and docs/cli.md are all rendered from one source.

export interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  readonly type: 'boolean' | 'string';
  readonly multiple?: boolean;
  readonly valueName?: string;
  readonly description: string;
}

export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
  readonly optional?: boolean;
}

export interface ParsedArgs {
  readonly flags: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
}

export interface CommandContext {
  readonly args: ParsedArgs;
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Whether stdout is a terminal (colour, prompts). */
  readonly interactive: boolean;
}

export type CommandRunner = (context: CommandContext) => Promise<number>;

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  readonly description: string;
  readonly positionals?: readonly PositionalSpec[];
  readonly flags: readonly FlagSpec[];
  readonly examples: readonly string[];
  /** Loaded only when the command runs, so start-up stays cheap. */
  readonly load: () => Promise<CommandRunner>;
}

/** Flags every command accepts. */
export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: 'help', short: 'h', type: 'boolean', description: 'Show help for the command.' },
  { name: 'debug', type: 'boolean', description: 'Print stack traces and internal detail on errors.' },
  { name: 'config', type: 'string', valueName: 'FILE', description: 'Read settings from FILE instead of searching for cpsync.config.* / .cpsyncrc*.' },
  { name: 'no-color', type: 'boolean', description: 'Never colour output (NO_COLOR is also respected).' },
];

/** Flags of commands that talk to AWS; they override the standard AWS variables, as the AWS CLI does. */
export const AWS_FLAGS: readonly FlagSpec[] = [
  { name: 'region', type: 'string', valueName: 'REGION', description: 'AWS Region (overrides AWS_REGION and the target settings).' },
  { name: 'profile', type: 'string', valueName: 'NAME', description: 'AWS shared-config profile (overrides AWS_PROFILE).' },
  { name: 'endpoint-url', type: 'string', valueName: 'URL', description: 'Send CodePipeline and S3 calls to URL (overrides AWS_ENDPOINT_URL*), e.g. a `cpsync local` endpoint.' },
];
