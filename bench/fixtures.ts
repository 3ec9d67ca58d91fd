// What the benchmarks create in `cpsync local`: custom action types told apart by one key
// property, and pipelines that copy an S3 object as their source and run one custom action on it.

import { CreateCustomActionTypeCommand, type ActionTypeId, type ActionTypeSettings, type ArtifactStore, type ExecutionMode, type PipelineDeclaration } from '@aws-sdk/client-codepipeline';
import { GUIDE_ROLE_ARN } from '../src/examples/my-first-pipeline.js';

/** A custom action type with one required key property, ProjectName; counts are [min, max]. */
export function projectActionType(id: ActionTypeId, artifacts: { readonly inputs: readonly [number, number]; readonly outputs: readonly [number, number] }, settings?: ActionTypeSettings) {
  return new CreateCustomActionTypeCommand({
    category: id.category,
    provider: id.provider,
    version: id.version,
    ...(settings ? { settings } : {}),
    configurationProperties: [{ name: 'ProjectName', required: true, key: true, secret: false, queryable: false, type: 'String' }],
    inputArtifactDetails: { minimumCount: artifacts.inputs[0], maximumCount: artifacts.inputs[1] },
    outputArtifactDetails: { minimumCount: artifacts.outputs[0], maximumCount: artifacts.outputs[1] },
  });
}

export interface SourceThenActionOptions {
  readonly name: string;
  readonly artifactStore: ArtifactStore;
  /** The S3 object the Source action copies, and the artifact it becomes. */
  readonly source: { readonly bucket: string; readonly key: string; readonly artifact: string };
  /** The second stage (and its one action), running `type` with ProjectName set to the pipeline's name. */
  readonly stage: string;
  readonly type: ActionTypeId;
  readonly outputArtifact?: string;
  readonly executionMode?: ExecutionMode;
}

/** Source (an S3 object) → one stage running a custom action on it: a V2 pipeline. */
export function sourceThenAction(options: SourceThenActionOptions): PipelineDeclaration {
  return {
    name: options.name,
    roleArn: GUIDE_ROLE_ARN,
    artifactStore: options.artifactStore,
    pipelineType: 'V2',
    ...(options.executionMode ? { executionMode: options.executionMode } : {}),
    stages: [
      {
        name: 'Source',
        actions: [
          {
            name: 'Source',
            actionTypeId: { category: 'Source', owner: 'AWS', provider: 'S3', version: '1' },
            configuration: { S3Bucket: options.source.bucket, S3ObjectKey: options.source.key, PollForSourceChanges: 'false' },
            outputArtifacts: [{ name: options.source.artifact }],
            runOrder: 1,
          },
        ],
      },
      {
        name: options.stage,
        actions: [
          {
            name: options.stage,
            actionTypeId: options.type,
            configuration: { ProjectName: options.name },
            inputArtifacts: [{ name: options.source.artifact }],
            ...(options.outputArtifact ? { outputArtifacts: [{ name: options.outputArtifact }] } : {}),
            runOrder: 1,
          },
        ],
      },
    ],
  };
}
