// Wire shapes of jobs (PollForJobs `Job`, GetJobDetails `JobDetails`). Pure.

import type { JobCredentialRecord, JobRecord } from './records.js';

/** JobData as workers receive it: configuration in clear (secrets included, as AWS sends them),
 *  S3 locations under the artifact store and the credentials that may use them. */
export function renderJobData(job: JobRecord, credential: JobCredentialRecord): Record<string, unknown> {
  return {
    actionTypeId: job.actionTypeId,
    actionConfiguration: { configuration: job.configuration },
    pipelineContext: {
      pipelineName: job.pipelineName,
      stage: { name: job.stageName },
      action: { name: job.actionName, actionExecutionId: job.actionExecutionId },
      pipelineArn: job.pipelineArn,
      pipelineExecutionId: job.pipelineExecutionId,
    },
    inputArtifacts: job.inputArtifacts.map((artifact) => ({
      name: artifact.name,
      ...(artifact.revision ? { revision: artifact.revision } : {}),
      location: { type: 'S3', s3Location: { bucketName: artifact.bucketName, objectKey: artifact.objectKey } },
    })),
    outputArtifacts: job.outputArtifacts.map((artifact) => ({
      name: artifact.name,
      location: { type: 'S3', s3Location: { bucketName: artifact.bucketName, objectKey: artifact.objectKey } },
    })),
    artifactCredentials: { accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey, sessionToken: credential.sessionToken },
    ...(job.continuationToken ? { continuationToken: job.continuationToken } : {}),
    ...(job.encryptionKey ? { encryptionKey: job.encryptionKey } : {}),
  };
}

export function renderPolledJob(job: JobRecord, credential: JobCredentialRecord, accountId: string): Record<string, unknown> {
  return { id: job.id, data: renderJobData(job, credential), nonce: job.nonce, accountId };
}

/** GetJobDetails carries no nonce: only PollForJobs hands one out. */
export function renderJobDetails(job: JobRecord, credential: JobCredentialRecord, accountId: string): Record<string, unknown> {
  return { id: job.id, data: renderJobData(job, credential), accountId };
}
