// The bundled `command` executor plugin: runs one command from actions.yaml and collects declared
// output folders or files.
//
//   executor:
//     plugin: command
//     options:
//       argv: [make, -C, inputs/MyApp, "PROJECT={Config:ProjectName}", build]
//       outputs: { MyBuiltApp: inputs/MyApp/build }
//       cwd: inputs/MyApp        # optional, relative to the job workspace
//       timeout: 20m             # optional
//       env: { PROJECT: "{Config:ProjectName}" }   # optional
//
// The argv comes from actions.yaml, which the repository owns; a pipeline supplies only
// configuration values. `{Config:Name}` placeholders are filled in inside one argument, never split
// or given to a shell: `PROJECT={Config:ProjectName}` stays one argument whatever the value holds.

import { z } from 'zod';
// Only the plugin contract comes from cpsync itself: bundled plugins ship as TypeScript and are
// loaded through tsx, so they stay independent of the compiled worker. What the bundled plugins
// share lives in plugins/shared/.
import { definePlugin, type JobOutcome } from '../../src/plugin.js';
import { argvSchema, artifactName, describeMissingPlaceholders, duration, environmentName, fillCommand, formatDuration, templated, textConfigurationSchema, workspacePath } from '../shared/options.js';
import { copyDeclaredOutputs } from '../shared/outputs.js';

export { fillPlaceholders, formatDuration, parseDuration } from '../shared/options.js';

export const commandOptionsSchema = z.strictObject({
  argv: argvSchema,
  outputs: z.record(artifactName, workspacePath).optional(),
  cwd: workspacePath.optional(),
  timeout: duration.optional(),
  env: z.record(environmentName, templated).optional(),
});

export type CommandOptions = z.output<typeof commandOptionsSchema>;

/** The action configuration as CodePipeline sends it: text values by property name. */
export const commandConfigurationSchema = textConfigurationSchema;

const failed = (message: string, failureType: 'JobFailed' | 'ConfigurationError' | 'SystemUnavailable' = 'JobFailed'): JobOutcome => ({ status: 'failed', failureType, message });

export default definePlugin<Readonly<Record<string, string>>, CommandOptions>({
  meta: {
    name: 'command',
    description: 'Runs a command given as an argv list in actions.yaml; copies declared outputs into output artifacts.',
  },
  configSchema: {
    configuration: commandConfigurationSchema,
    options: commandOptionsSchema,
  },
  async execute(ctx) {
    const { options, config } = ctx;
    const { argv, env, missing } = fillCommand(options, config);
    if (missing.size > 0) return failed(describeMissingPlaceholders(missing), 'ConfigurationError');

    const result = await ctx.exec(argv as [string, ...string[]], {
      ...(options.cwd !== undefined && { cwd: options.cwd }),
      ...(env && { env }),
      ...(options.timeout !== undefined && { timeoutMs: options.timeout }),
    });
    const tail = result.outputTail.trim();
    const withTail = (head: string) => (tail ? `${head}: ${tail}` : head);
    if (result.cancelled) return failed('command was stopped: the job was cancelled', 'SystemUnavailable');
    if (result.timedOut) return failed(withTail(`timed out after ${formatDuration(options.timeout ?? result.durationMs)}`));
    if (result.exitCode !== 0) return failed(withTail(result.exitCode === undefined ? `command was killed by ${result.signal ?? 'a signal'}` : `command exited ${result.exitCode}`));

    const collected = await copyDeclaredOutputs(ctx, options.outputs ?? {}, 'after the command ran');
    if (!collected.ok) return failed(collected.message, 'ConfigurationError');
    const copied = collected.copied;
    const outputsNote = copied ? `; ${copied} output${copied === 1 ? '' : 's'} collected` : '';
    return { status: 'succeeded', summary: `command exited 0 in ${formatDuration(result.durationMs)}${outputsNote}` };
  },
});
