// The AWS guide's MyFirstPipeline ("Create and Add a Custom Action in CodePipeline"): an S3
// source action producing MyApp, then a Staging stage deploying it with CodeDeploy. The demo,
// the tests and the benchmarks all start from this pipeline as a team has it before cpsync.

import type { PipelineDeclaration } from '@aws-sdk/client-codepipeline';

export interface MyFirstPipelineOptions {
  readonly name?: string;
  readonly artifactBucket: string;
  /** The artifact store's KMS key; absent uses the default aws/s3 key. */
  readonly kmsKeyArn?: string;
  readonly sourceBucket: string;
  readonly sourceKey: string;
  readonly roleArn?: string;
  /** Leave out pipelineType and executionMode, as the guide (and clients as old as AWS CLI 2.9) do. */
  readonly withoutV2Fields?: boolean;
}

export const GUIDE_ROLE_ARN = 'arn:aws:iam::123456789012:role/AWS-CodePipeline-Service';

export function myFirstPipeline(options: MyFirstPipelineOptions): PipelineDeclaration {
  return {
    name: options.name ?? 'MyFirstPipeline',
    roleArn: options.roleArn ?? GUIDE_ROLE_ARN,
    artifactStore: { type: 'S3', location: options.artifactBucket, ...(options.kmsKeyArn ? { encryptionKey: { id: options.kmsKeyArn, type: 'KMS' } } : {}) },
    ...(options.withoutV2Fields ? {} : { pipelineType: 'V2' as const, executionMode: 'SUPERSEDED' as const }),
    stages: [
      {
        name: 'Source',
        actions: [
          {
            name: 'Source',
            actionTypeId: { category: 'Source', owner: 'AWS', provider: 'S3', version: '1' },
            configuration: { S3Bucket: options.sourceBucket, S3ObjectKey: options.sourceKey, PollForSourceChanges: 'false' },
            outputArtifacts: [{ name: 'MyApp' }],
            runOrder: 1,
          },
        ],
      },
      {
        name: 'Staging',
        actions: [
          {
            name: 'Deploy-CodeDeploy-Application',
            actionTypeId: { category: 'Deploy', owner: 'AWS', provider: 'CodeDeploy', version: '1' },
            configuration: { ApplicationName: 'CodePipelineDemoApplication', DeploymentGroupName: 'CodePipelineDemoFleet' },
            inputArtifacts: [{ name: 'MyApp' }],
            runOrder: 1,
          },
        ],
      },
    ],
  };
}
