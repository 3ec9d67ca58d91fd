import { z } from 'zod';
import { RULES } from '../model/limits.js';

// Settings found by cosmiconfig under the name `cpsync`. Every field is optional: a repository
// with only actions.yaml and pipelines/ works with the defaults in settings.ts.

const duration = z
  .union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, { error: 'must be a duration such as 500ms, 5s, 2m or 1h' })])
  .meta({ description: 'A duration: a number of seconds, or text such as 500ms, 5s, 2m, 1h.' });

export const targetSchema = z
  .strictObject({
    name: z.string().min(1, { error: 'must not be empty' }).regex(/^[A-Za-z0-9._-]+$/, { error: "may only contain letters, digits, '.', '-' and '_'" }).meta({ description: 'Name used by --target and in plans.' }),
    region: z.string().min(RULES.region.min, { error: `must be at least ${RULES.region.min} characters` }).max(RULES.region.max).meta({ description: 'AWS Region (default: AWS_REGION).' }).optional(),
    profile: z.string().min(1).meta({ description: 'Shared-config profile (default: AWS_PROFILE).' }).optional(),
    roleArn: z.string().regex(RULES.roleArn.pattern, { error: 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)' }).meta({ description: 'Role to assume for this target.' }).optional(),
    endpointUrl: z.url({ protocol: /^https?$/, error: 'must be an http or https URL such as http://127.0.0.1:4599' }).optional(),
  })
  .meta({ description: 'An account and Region to reconcile.' });

export const settingsSchema = z
  .strictObject({
    $schema: z.string().optional(),
    actions: z.string().min(1).meta({ description: 'Path of actions.yaml (default "actions.yaml").' }).optional(),
    pipelines: z.string().min(1).meta({ description: 'Folder of pipeline files (default "pipelines").' }).optional(),
    plugins: z.string().min(1).meta({ description: 'Folder of local executor plugins (default "plugins").' }).optional(),
    tagPrefix: z
      .string()
      .min(1)
      .max(64)
      .regex(/^(?!aws:)[A-Za-z0-9 _.:/=+\-@]+$/, { error: 'must be a tag-key prefix that does not start with "aws:"' })
      .meta({ description: 'Prefix of the tags cpsync uses to record what it owns (default "cpsync:").' })
      .optional(),
    targets: z.array(targetSchema).min(1, { error: 'must list at least one target' }).optional(),
    worker: z
      .strictObject({
        concurrency: z.number().int().min(1).max(256).meta({ description: 'Jobs run at once (default: number of cores).' }).optional(),
        pollInterval: z
          .strictObject({ min: duration.optional(), max: duration.optional() })
          .meta({ description: 'Bounds of the idle back-off between polls (default 1s to 30s).' })
          .optional(),
        workDir: z.string().min(1).meta({ description: 'Where job workspaces and the job ledger live (default ".cpsync/worker").' }).optional(),
        grace: duration.meta({ description: 'How long running jobs may finish after SIGTERM (default 30s).' }).optional(),
        tokenKey: z
          .string()
          .min(16, { error: 'must be at least 16 characters' })
          .meta({ description: 'Key that signs continuation tokens; shared by the fleet. Prefer ${env:NAME}.' })
          .optional(),
      })
      .optional(),
  })
  .meta({ title: 'cpsync settings', description: 'Settings for cpsync (cpsync.config.*, .cpsyncrc*, package.json#cpsync).' });

export type WrittenSettings = z.infer<typeof settingsSchema>;
