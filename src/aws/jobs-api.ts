// The job API the worker uses (src/worker/types.ts JobsApi), over the real SDK client. The SDK is
// imported lazily and its own retries are off (maxAttempts 1): cpsync's policy (retry.ts) retries
// throttling, 5xx and dropped connections with full-jitter back-off. Polls are not retried here;
// the poll loop backs off instead.

import { resolveCredentials } from './credentials.js';
import type { CodePipelineClient, Job, JobData as SdkJobData } from '@aws-sdk/client-codepipeline';
import type { ActionTypeRef, ArtifactLocation, JobData, JobsApi, PolledJob } from '../worker/types.js';
import type { ClientConfig } from './client-config.js';
import { DEFAULT_RETRY, withRetries, type RetryOptions } from './retry.js';

/** Result calls get more patience than reads: a result that never lands leaves the pipeline waiting. */
export const RESULT_RETRY: RetryOptions = { attempts: 10, baseDelayMs: 200, maxDelayMs: 10_000 };

export interface JobsApiOptions {
  readonly retry?: RetryOptions;
  readonly resultRetry?: RetryOptions;
  /** Told about each retried call (for logs). */
  readonly onRetry?: (operation: string, error: unknown, attempt: number) => void;
}

export async function createJobsApi(config: ClientConfig, options: JobsApiOptions = {}): Promise<JobsApi> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = await import('@aws-sdk/client-codepipeline');
  const credentials = await resolveCredentials(config);
  const client: CodePipelineClient = new sdk.CodePipelineClient({
    ...(config.region ? { region: config.region } : {}),
    ...(config.codepipelineEndpoint ? { endpoint: config.codepipelineEndpoint } : {}),
    ...(credentials ? { credentials } : {}),
    // cpsync retries itself (retry.ts): the SDK would retry LimitExceededException as throttling.
    maxAttempts: 1,
    // Each command's middleware stack is resolved once instead of on every send.
    cacheMiddleware: true,
  });
  const region = await client.config.region();
  const retry = options.retry ?? DEFAULT_RETRY;
  const resultRetry = options.resultRetry ?? RESULT_RETRY;
  const retried = <T>(operation: string, call: () => Promise<T>, policy: RetryOptions = retry) => withRetries(call, policy, (error, attempt) => options.onRetry?.(operation, error, attempt));

  return {
    region,
    async listCustomActionTypes() {
      const types: ActionTypeRef[] = [];
      let nextToken: string | undefined;
      do {
        const page = await retried('ListActionTypes', () => client.send(new sdk.ListActionTypesCommand({ actionOwnerFilter: 'Custom', ...(nextToken ? { nextToken } : {}) })));
        for (const type of page.actionTypes ?? []) {
          if (type.id?.category && type.id.provider && type.id.version) types.push({ category: type.id.category, provider: type.id.provider, version: type.id.version });
        }
        nextToken = page.nextToken;
      } while (nextToken);
      return types;
    },
    async poll(type, maxBatchSize, queryParam) {
      const response = await client.send(
        new sdk.PollForJobsCommand({
          actionTypeId: { category: type.category as never, owner: 'Custom', provider: type.provider, version: type.version },
          maxBatchSize,
          ...(queryParam && Object.keys(queryParam).length ? { queryParam: { ...queryParam } } : {}),
        }),
      );
      return (response.jobs ?? []).flatMap((job) => toPolledJob(job));
    },
    async acknowledge(jobId, nonce) {
      let attempt = 0;
      try {
        const response = await retried('AcknowledgeJob', () => {
          attempt++;
          return client.send(new sdk.AcknowledgeJobCommand({ jobId, nonce }));
        });
        return response.status ?? 'Unknown';
      } catch (error) {
        // A nonce is good for one acknowledgement and only this worker holds it (it came with our
        // poll). InvalidNonce on a retry therefore means our earlier attempt was applied and only
        // its answer was lost: the job is ours, and dropping it would leave it hanging.
        if ((error as Error).name === 'InvalidNonceException' && attempt > 1) return 'InProgress';
        throw error;
      }
    },
    async details(jobId) {
      const response = await retried('GetJobDetails', () => client.send(new sdk.GetJobDetailsCommand({ jobId })));
      const data = response.jobDetails?.data;
      if (!data) throw Object.assign(new Error(`GetJobDetails returned no data for job ${jobId}`), { name: 'JobNotFoundException' });
      return toJobData(data);
    },
    async succeed(jobId, result) {
      await retried(
        'PutJobSuccessResult',
        () =>
          client.send(
            new sdk.PutJobSuccessResultCommand({
              jobId,
              ...(result.continuationToken ? { continuationToken: result.continuationToken } : {}),
              ...(result.executionDetails ? { executionDetails: { ...result.executionDetails } } : {}),
              ...(result.outputVariables && Object.keys(result.outputVariables).length ? { outputVariables: { ...result.outputVariables } } : {}),
            }),
          ),
        resultRetry,
      );
    },
    async fail(jobId, result) {
      await retried(
        'PutJobFailureResult',
        () =>
          client.send(
            new sdk.PutJobFailureResultCommand({
              jobId,
              failureDetails: { type: result.type, message: result.message, ...(result.externalExecutionId ? { externalExecutionId: result.externalExecutionId } : {}) },
            }),
          ),
        resultRetry,
      );
    },
    close() {
      client.destroy();
    },
  };
}

function toPolledJob(job: Job): PolledJob[] {
  // Every member is optional in the model; a job without an id or nonce cannot be acknowledged.
  if (!job.id || !job.nonce || !job.data) return [];
  return [{ id: job.id, nonce: job.nonce, ...(job.accountId ? { accountId: job.accountId } : {}), data: toJobData(job.data) }];
}

function toArtifacts(list: SdkJobData['inputArtifacts']): ArtifactLocation[] {
  return (list ?? []).flatMap((artifact) => {
    const s3 = artifact.location?.s3Location;
    if (!artifact.name || !s3?.bucketName || !s3.objectKey) return [];
    return [{ name: artifact.name, bucketName: s3.bucketName, objectKey: s3.objectKey, ...(artifact.revision ? { revision: artifact.revision } : {}) }];
  });
}

export function toJobData(data: SdkJobData): JobData {
  const context = data.pipelineContext;
  const credentials = data.artifactCredentials;
  return {
    actionType: { category: data.actionTypeId?.category ?? '', provider: data.actionTypeId?.provider ?? '', version: data.actionTypeId?.version ?? '' },
    configuration: { ...(data.actionConfiguration?.configuration ?? {}) },
    pipeline: context?.pipelineName ?? '',
    stage: context?.stage?.name ?? '',
    action: context?.action?.name ?? '',
    actionExecutionId: context?.action?.actionExecutionId ?? '',
    pipelineExecutionId: context?.pipelineExecutionId ?? '',
    ...(context?.pipelineArn ? { pipelineArn: context.pipelineArn } : {}),
    inputArtifacts: toArtifacts(data.inputArtifacts),
    outputArtifacts: toArtifacts(data.outputArtifacts),
    credentials: { accessKeyId: credentials?.accessKeyId ?? '', secretAccessKey: credentials?.secretAccessKey ?? '', sessionToken: credentials?.sessionToken ?? '' },
    ...(data.continuationToken ? { continuationToken: data.continuationToken } : {}),
    ...(data.encryptionKey?.id ? { encryptionKey: { id: data.encryptionKey.id, type: data.encryptionKey.type ?? 'KMS' } } : {}),
  };
}

