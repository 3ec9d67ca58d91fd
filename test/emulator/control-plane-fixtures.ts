// Request builders for the control-plane tests: the AWS guide's MyCustomAction.json and
// MyFirstPipeline, and small variations.

import type { PipelineDeclaration } from '@aws-sdk/client-codepipeline';

export { myCustomAction } from '../../src/examples/my-custom-action.js';

export const ROLE_ARN = 'arn:aws:iam::123456789012:role/AWS-CodePipeline-Service';


/** The guide's MyFirstPipeline: an S3 source producing MyApp, then Staging deploying it with CodeDeploy. */
export function myFirstPipeline(overrides: Partial<PipelineDeclaration> = {}): PipelineDeclaration {
  return {
    name: 'MyFirstPipeline',
    roleArn: ROLE_ARN,
    artifactStore: { type: 'S3', location: 'codepipeline-us-east-1-1234567890' },
    stages: [
      {
        name: 'Source',
        actions: [
          {
            name: 'Source',
            actionTypeId: { category: 'Source', owner: 'AWS', provider: 'S3', version: '1' },
            outputArtifacts: [{ name: 'MyApp' }],
            configuration: { S3Bucket: 'awscodepipeline-demobucket-example-date', S3ObjectKey: 'SampleApp_Linux.zip', PollForSourceChanges: 'false' },
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
            inputArtifacts: [{ name: 'MyApp' }],
            outputArtifacts: [],
            configuration: { ApplicationName: 'CodePipelineDemoApplication', DeploymentGroupName: 'CodePipelineDemoFleet' },
            runOrder: 1,
          },
        ],
      },
    ],
    ...overrides,
  };
}

/** The guide's step 4: MyBuildStage inserted before Staging, which now deploys MyBuiltApp. */
export function withMyBuildStage(pipeline: PipelineDeclaration): PipelineDeclaration {
  const [source, staging] = pipeline.stages ?? [];
  return {
    ...pipeline,
    stages: [
      source!,
      {
        name: 'MyBuildStage',
        actions: [
          {
            name: 'MyBuildCustomAction',
            actionTypeId: { category: 'Build', owner: 'Custom', version: '1', provider: 'My-Build-Provider-Name' },
            inputArtifacts: [{ name: 'MyApp' }],
            outputArtifacts: [{ name: 'MyBuiltApp' }],
            configuration: { ProjectName: 'MyBuildProject' },
            runOrder: 1,
          },
        ],
      },
      {
        ...staging!,
        actions: [{ ...staging!.actions![0]!, inputArtifacts: [{ name: 'MyBuiltApp' }] }],
      },
    ],
  };
}

/** Runs `promise` and returns the error's SDK class name (fails the test when it resolves). */
export async function errorName(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).name;
  }
  throw new Error('expected the call to fail');
}

/** Runs `promise` and returns the error (fails when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}
