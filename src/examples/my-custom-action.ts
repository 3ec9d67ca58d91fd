// The AWS guide's MyCustomAction.json, with its placeholder artifact counts filled in (input 1..1;
// output 0..1, since the guide's own pipeline gives the action an output). Used by the tests that
// drive the guide's steps through the SDK and through the AWS CLI.

import type { CreateCustomActionTypeCommandInput } from '@aws-sdk/client-codepipeline';

export function myCustomAction(overrides: Partial<CreateCustomActionTypeCommandInput> = {}): CreateCustomActionTypeCommandInput {
  return {
    category: 'Build',
    provider: 'My-Build-Provider-Name',
    version: '1',
    settings: {
      entityUrlTemplate: 'https://my-build-instance/job/{Config:ProjectName}/',
      executionUrlTemplate: 'https://my-build-instance/job/{Config:ProjectName}/lastSuccessfulBuild/{ExternalExecutionId}/',
    },
    configurationProperties: [
      {
        name: 'ProjectName',
        required: true,
        key: true,
        secret: false,
        queryable: false,
        type: 'String',
        description: 'The name of the build project must be provided when this action is added to the pipeline.',
      },
    ],
    inputArtifactDetails: { maximumCount: 1, minimumCount: 1 },
    outputArtifactDetails: { maximumCount: 1, minimumCount: 0 },
    tags: [{ key: 'Project', value: 'ProjectA' }],
    ...overrides,
  };
}
