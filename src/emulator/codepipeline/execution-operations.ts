// Pipeline execution operations (StartPipelineExecution, StopPipelineExecution,
// GetPipelineExecution, ListPipelineExecutions, GetPipelineState) and, merged in, the job worker
// operations. Shapes are checked against the model before anything is read or written.

import { AwsError, validation } from '../aws-error.js';
import type { EmulatorContext } from '../context.js';
import type { Operation } from '../server.js';
import { RULES } from '../../model/limits.js';
import { catchUp } from './executions-catch-up.js';
import { InputCheck } from './input.js';
import { readPipelinePlan } from './executions-plan.js';
import { renderExecution, renderExecutionSummary, renderPipelineState } from './executions-render.js';
import { executionsOf, findPipeline, planOf, startExecution, stopExecution } from './executions.js';
import { jobOperations } from './jobs-operations.js';
import { actionTypeRecordKey, TABLES, type ActionTypeRecord, type ExecutionRecord, type PipelineRecord } from './records.js';

const VARIABLE_NAME = { min: 1, max: 128, pattern: /^[A-Za-z0-9@\-_]+$/ } as const;
const VARIABLE_VALUE = { min: 1, max: 1000 } as const;
const STOP_REASON = { min: 0, max: 200 } as const;
const SOURCE_REVISION_TYPES = ['COMMIT_ID', 'IMAGE_DIGEST', 'S3_OBJECT_VERSION_ID', 'S3_OBJECT_KEY'] as const;

function requirePipeline(context: EmulatorContext, name: string): PipelineRecord {
  const pipeline = findPipeline(context, name);
  if (!pipeline) throw new AwsError('PipelineNotFoundException', `Account '${context.accountId}' does not have a pipeline with name '${name}'`);
  return pipeline;
}

/** The caller as the trigger detail names it (the endpoint does not know real identities). */
function callerArn(context: EmulatorContext): string {
  return `arn:aws:iam::${context.accountId}:root`;
}

const startPipelineExecution: Operation = (input, context) => {
  const check = new InputCheck();
  const name = check.requireString(input, 'name', RULES.pipelineName) as string;
  const clientRequestToken = check.optionalString(input, 'clientRequestToken', RULES.clientRequestToken);
  const variables = check.objectItems(check.optionalList(input, 'variables', { min: 1, max: 50 }), 'variables').map(({ item, path }) => ({
    name: check.requireString(item, `${path}.name`, VARIABLE_NAME) as string,
    value: check.requireString(item, `${path}.value`, VARIABLE_VALUE) as string,
  }));
  // Accepted and checked, but not applied: the stand-in S3 source always reads the configured key.
  for (const { item, path } of check.objectItems(check.optionalList(input, 'sourceRevisions', { min: 0, max: 50 }), 'sourceRevisions')) {
    check.requireString(item, `${path}.actionName`, RULES.actionName);
    check.requireEnum(item, `${path}.revisionType`, SOURCE_REVISION_TYPES);
    check.requireString(item, `${path}.revisionValue`, RULES.revision);
  }
  check.done();
  catchUp(context);
  const pipeline = requirePipeline(context, name);
  if (variables.length) {
    const declaration = pipeline.versions[pipeline.versions.length - 1]?.declaration ?? {};
    const declared = new Set(readPipelinePlan(declaration, context.region).variables.map((variable) => variable.name));
    const unknown = variables.find((variable) => !declared.has(variable.name));
    if (unknown) throw validation(`Pipeline variable '${unknown.name}' is not declared in pipeline '${name}'`);
  }
  const execution = startExecution(context, name, {
    trigger: { triggerType: 'StartPipelineExecution', triggerDetail: callerArn(context) },
    ...(clientRequestToken ? { clientRequestToken } : {}),
    ...(variables.length ? { variables } : {}),
  });
  return { pipelineExecutionId: execution.pipelineExecutionId };
};

function findExecution(context: EmulatorContext, pipeline: PipelineRecord, executionId: string): ExecutionRecord | undefined {
  const execution = context.store.get<ExecutionRecord>(TABLES.executions, executionId);
  return execution && execution.pipelineName === pipeline.name && execution.pipelineCreated === pipeline.created ? execution : undefined;
}

const stopPipelineExecution: Operation = (input, context) => {
  const check = new InputCheck();
  const pipelineName = check.requireString(input, 'pipelineName', RULES.pipelineName) as string;
  const executionId = check.requireUuid(input, 'pipelineExecutionId') as string;
  const abandon = check.optionalBoolean(input, 'abandon') ?? false;
  const reason = check.optionalString(input, 'reason', STOP_REASON);
  check.done();
  catchUp(context);
  const pipeline = requirePipeline(context, pipelineName);
  const execution = findExecution(context, pipeline, executionId);
  // StopPipelineExecution has no PipelineExecutionNotFoundException in the model; an unknown id is
  // reported as not stoppable (UNVERIFIED).
  if (!execution) throw new AwsError('PipelineExecutionNotStoppableException', `Unable to stop pipeline execution '${executionId}': no such execution of pipeline '${pipelineName}'`);
  if (execution.status === 'Stopping') {
    // A stop-and-wait may be escalated to abandon once; anything else repeats a request.
    if (execution.stopRequest?.abandon || !abandon) {
      throw new AwsError('DuplicatedStopRequestException', `Pipeline execution '${executionId}' is already stopping${execution.stopRequest?.abandon ? ' (abandon)' : ''}`);
    }
  } else if (execution.status !== 'InProgress') {
    throw new AwsError('PipelineExecutionNotStoppableException', `Unable to stop pipeline execution '${executionId}': it is ${execution.status}`);
  }
  stopExecution(context, execution, abandon, reason || undefined);
  return { pipelineExecutionId: executionId };
};

const getPipelineExecution: Operation = (input, context) => {
  const check = new InputCheck();
  const pipelineName = check.requireString(input, 'pipelineName', RULES.pipelineName) as string;
  const executionId = check.requireUuid(input, 'pipelineExecutionId') as string;
  check.done();
  catchUp(context);
  const pipeline = requirePipeline(context, pipelineName);
  const execution = findExecution(context, pipeline, executionId);
  if (!execution) {
    throw new AwsError('PipelineExecutionNotFoundException', `Pipeline execution with id '${executionId}' was not found in pipeline '${pipelineName}'`);
  }
  return { pipelineExecution: renderExecution(execution, planOf(context, execution)) };
};

/** nextToken is the sequence of the last execution returned, made opaque. */
function encodeToken(pipeline: PipelineRecord, sequence: number): string {
  return Buffer.from(JSON.stringify({ p: pipeline.name, c: pipeline.created, s: sequence })).toString('base64url');
}

function decodeToken(token: string, pipeline: PipelineRecord): number {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { p?: unknown; c?: unknown; s?: unknown };
    if (value.p === pipeline.name && value.c === pipeline.created && typeof value.s === 'number') return value.s;
  } catch {
    // fall through
  }
  throw new AwsError('InvalidNextTokenException', 'The next token is not valid');
}

const listPipelineExecutions: Operation = (input, context) => {
  const check = new InputCheck();
  const pipelineName = check.requireString(input, 'pipelineName', RULES.pipelineName) as string;
  const maxResults = check.optionalInteger(input, 'maxResults', { min: 1, max: 100 }) ?? 100;
  const nextToken = check.optionalString(input, 'nextToken', RULES.nextToken);
  const filter = check.optionalObject(input, 'filter');
  const succeededIn = filter ? check.optionalObject(filter, 'filter.succeededInStage') : undefined;
  const stageName = succeededIn ? check.optionalString(succeededIn, 'filter.succeededInStage.stageName', RULES.stageName) : undefined;
  check.done();
  catchUp(context);
  const pipeline = requirePipeline(context, pipelineName);
  const before = nextToken ? decodeToken(nextToken, pipeline) : Number.POSITIVE_INFINITY;
  // Newest first, as AWS lists them.
  const matching = executionsOf(context, pipeline)
    .reverse()
    .filter((execution) => execution.sequence < before && (!stageName || execution.stageStatuses[stageName] === 'Succeeded'));
  const page = matching.slice(0, maxResults);
  const last = page[page.length - 1];
  return {
    pipelineExecutionSummaries: page.map((execution) => renderExecutionSummary(execution, planOf(context, execution))),
    ...(matching.length > maxResults && last ? { nextToken: encodeToken(pipeline, last.sequence) } : {}),
  };
};

const getPipelineState: Operation = (input, context) => {
  const check = new InputCheck();
  const name = check.requireString(input, 'name', RULES.pipelineName) as string;
  check.done();
  catchUp(context);
  const pipeline = requirePipeline(context, name);
  const declaration = pipeline.versions[pipeline.versions.length - 1]?.declaration ?? {};
  return renderPipelineState({
    pipeline,
    plan: readPipelinePlan(declaration, context.region),
    executions: executionsOf(context, pipeline),
    settingsOf: (id) => context.store.get<ActionTypeRecord>(TABLES.actionTypes, actionTypeRecordKey(id))?.settings,
  });
};

export const executionOperations: Record<string, Operation> = {
  StartPipelineExecution: startPipelineExecution,
  StopPipelineExecution: stopPipelineExecution,
  GetPipelineExecution: getPipelineExecution,
  ListPipelineExecutions: listPipelineExecutions,
  GetPipelineState: getPipelineState,
  ...jobOperations,
};
