// The narrow interface the reconciler uses to talk to CodePipeline, and its adapter over the real
// SDK client. Pipelines travel as raw JSON (see raw-json.ts). The SDK is imported lazily so
// commands that do not talk to AWS never load it.

import type { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { actionTypeArn, partitionForRegion, type ActionTypeDefinition, type ConfigurationProperty, type Tag } from '../model/action-type.js';
import type { ActionCategory } from '../model/limits.js';
import type { JsonObject } from '../model/pipeline.js';
import type { ClientConfig } from './client-config.js';
import { resolveCredentials } from './credentials.js';
import { DEFAULT_RETRY, withRetries, type RetryOptions } from './retry.js';

export interface LivePipeline {
  readonly declaration: JsonObject;
  readonly version: number;
  readonly arn: string;
  readonly updated?: string;
}

export interface CodePipelineApi {
  readonly region: string;
  accountId(): Promise<string>;
  listCustomActionTypes(): Promise<ActionTypeDefinition[]>;
  listPipelineNames(): Promise<string[]>;
  /** Undefined when the pipeline (or that version of it) does not exist. */
  getPipeline(name: string, version?: number): Promise<LivePipeline | undefined>;
  updatePipeline(declaration: JsonObject): Promise<LivePipeline>;
  runningExecutions(name: string): Promise<number>;
  listTags(arn: string): Promise<Tag[]>;
  tagResource(arn: string, tags: readonly Tag[]): Promise<void>;
  untagResource(arn: string, keys: readonly string[]): Promise<void>;
  createCustomActionType(definition: ActionTypeDefinition, tags: readonly Tag[]): Promise<void>;
  deleteCustomActionType(id: { category: string; provider: string; version: string }): Promise<void>;
  actionTypeArn(id: { category: string; provider: string; version: string }): Promise<string>;
  pipelineArn(name: string): Promise<string>;
  /** How many API calls were made (for benchmarks and "no writes" checks). */
  readonly calls: { reads: number; writes: number };
  close(): void;
}

/** Builds the SDK-backed implementation for one target. */
export async function createCodePipelineApi(config: ClientConfig, retry: RetryOptions = DEFAULT_RETRY): Promise<CodePipelineApi> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const sdk = await import('@aws-sdk/client-codepipeline');
  const { sendRawJson } = await import('./raw-json.js');
  const credentials = await resolveCredentials(config);
  const client: CodePipelineClient = new sdk.CodePipelineClient({
    ...(config.region ? { region: config.region } : {}),
    ...(config.codepipelineEndpoint ? { endpoint: config.codepipelineEndpoint } : {}),
    ...(credentials ? { credentials } : {}),
    // cpsync retries itself: the SDK would retry LimitExceededException as if it were throttling.
    maxAttempts: 1,
    // No cacheMiddleware: it caches one handler per command class, which would drop (or reuse) the
    // per-call middleware sendRawJson adds.
  });
  const region = await client.config.region();
  const calls = { reads: 0, writes: 0 };
  const read = <T>(call: () => Promise<T>) => {
    calls.reads++;
    return withRetries(call, retry);
  };
  let account: string | undefined;

  const api: CodePipelineApi = {
    region,
    calls,
    async accountId() {
      // Pipeline ARNs carry the account (see getPipeline); with none read yet, ask STS.
      account ??= await callerAccount(config, region);
      return account;
    },
    async listCustomActionTypes() {
      const types: ActionTypeDefinition[] = [];
      let nextToken: string | undefined;
      do {
        const page = await read(() => client.send(new sdk.ListActionTypesCommand({ actionOwnerFilter: 'Custom', ...(nextToken ? { nextToken } : {}) })));
        for (const type of page.actionTypes ?? []) {
          if (!type.id) continue;
          types.push({
            category: type.id.category as ActionCategory,
            provider: type.id.provider ?? '',
            version: type.id.version ?? '',
            ...(type.settings && Object.keys(type.settings).length ? { settings: { ...type.settings } } : {}),
            configurationProperties: (type.actionConfigurationProperties ?? []).map(
              (property) =>
                ({
                  name: property.name ?? '',
                  required: property.required ?? false,
                  key: property.key ?? false,
                  secret: property.secret ?? false,
                  queryable: property.queryable ?? false,
                  ...(property.description !== undefined ? { description: property.description } : {}),
                  ...(property.type !== undefined ? { type: property.type } : {}),
                }) as ConfigurationProperty,
            ),
            inputArtifactDetails: { minimumCount: type.inputArtifactDetails?.minimumCount ?? 0, maximumCount: type.inputArtifactDetails?.maximumCount ?? 0 },
            outputArtifactDetails: { minimumCount: type.outputArtifactDetails?.minimumCount ?? 0, maximumCount: type.outputArtifactDetails?.maximumCount ?? 0 },
          });
        }
        nextToken = page.nextToken;
      } while (nextToken);
      return types;
    },
    async listPipelineNames() {
      const names: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await read(() => client.send(new sdk.ListPipelinesCommand({ maxResults: 1000, ...(nextToken ? { nextToken } : {}) })));
        for (const summary of page.pipelines ?? []) if (summary.name) names.push(summary.name);
        nextToken = page.nextToken;
      } while (nextToken);
      return names;
    },
    async getPipeline(name, version) {
      try {
        const live = toLivePipeline(await read(() => sendRawJson(client, new sdk.GetPipelineCommand({ name, ...(version ? { version } : {}) }))));
        account ??= /^arn:[^:]+:codepipeline:[^:]*:(\d{12}):/.exec(live.arn)?.[1];
        return live;
      } catch (error) {
        // AWS answers PipelineNotFoundException for versions older than about ten revisions.
        if ((error as Error).name === 'PipelineNotFoundException' || (error as Error).name === 'PipelineVersionNotFoundException') return undefined;
        throw error;
      }
    },
    async updatePipeline(declaration) {
      calls.writes++;
      const { version: _version, ...body } = declaration;
      // Not retried blindly: a dropped response may hide an update that happened (apply re-reads).
      const raw = await sendRawJson(client, new sdk.UpdatePipelineCommand({ pipeline: body as never }), { pipeline: { ...body, version: declaration.version } });
      const pipeline = raw.pipeline as JsonObject;
      return { declaration: pipeline, version: Number(pipeline.version), arn: await api.pipelineArn(String(pipeline.name)) };
    },
    async runningExecutions(name) {
      const page = await read(() => client.send(new sdk.ListPipelineExecutionsCommand({ pipelineName: name, maxResults: 20 })));
      return (page.pipelineExecutionSummaries ?? []).filter((summary) => summary.status === 'InProgress' || summary.status === 'Stopping').length;
    },
    async listTags(arn) {
      const tags: Tag[] = [];
      let nextToken: string | undefined;
      do {
        const page = await read(() => client.send(new sdk.ListTagsForResourceCommand({ resourceArn: arn, ...(nextToken ? { nextToken } : {}) })));
        for (const tag of page.tags ?? []) tags.push({ key: tag.key ?? '', value: tag.value ?? '' });
        nextToken = page.nextToken;
      } while (nextToken);
      return tags;
    },
    async tagResource(arn, tags) {
      if (!tags.length) return;
      calls.writes++;
      await withRetries(() => client.send(new sdk.TagResourceCommand({ resourceArn: arn, tags: tags.map((tag) => ({ ...tag })) })), retry);
    },
    async untagResource(arn, keys) {
      if (!keys.length) return;
      calls.writes++;
      await withRetries(() => client.send(new sdk.UntagResourceCommand({ resourceArn: arn, tagKeys: [...keys] })), retry);
    },
    async createCustomActionType(definition, tags) {
      calls.writes++;
      await client.send(
        new sdk.CreateCustomActionTypeCommand({
          category: definition.category,
          provider: definition.provider,
          version: definition.version,
          ...(definition.settings ? { settings: { ...definition.settings } } : {}),
          configurationProperties: definition.configurationProperties.map((property) => ({ ...property })),
          inputArtifactDetails: { ...definition.inputArtifactDetails },
          outputArtifactDetails: { ...definition.outputArtifactDetails },
          ...(tags.length ? { tags: tags.map((tag) => ({ ...tag })) } : {}),
        }),
      );
    },
    async deleteCustomActionType(id) {
      calls.writes++;
      await withRetries(() => client.send(new sdk.DeleteCustomActionTypeCommand({ category: id.category as ActionCategory, provider: id.provider, version: id.version })), retry);
    },
    async actionTypeArn(id) {
      return actionTypeArn(region, await api.accountId(), id);
    },
    async pipelineArn(name) {
      return `arn:${partitionForRegion(region)}:codepipeline:${region}:${await api.accountId()}:${name}`;
    },
    close() {
      client.destroy();
    },
  };
  return api;
}

function toLivePipeline(raw: Record<string, unknown>): LivePipeline {
  const declaration = raw.pipeline as JsonObject;
  const metadata = (raw.metadata ?? {}) as { pipelineArn?: string; updated?: number };
  return {
    declaration,
    version: Number(declaration.version ?? 1),
    arn: metadata.pipelineArn ?? '',
    ...(metadata.updated !== undefined ? { updated: new Date(Number(metadata.updated) * 1000).toISOString() } : {}),
  };
}


async function callerAccount(config: ClientConfig, region: string): Promise<string> {
  const sts = await import('@aws-sdk/client-sts');
  // With an endpoint override (e.g. `cpsync local`), STS is served by the same endpoint.
  const credentials = await resolveCredentials(config);
  const client = new sts.STSClient({ region, maxAttempts: 3, ...(config.codepipelineEndpoint ? { endpoint: config.codepipelineEndpoint } : {}), ...(credentials ? { credentials } : {}) });
  try {
    const identity = await client.send(new sts.GetCallerIdentityCommand({}));
    return identity.Account ?? '';
  } finally {
    client.destroy();
  }
}
