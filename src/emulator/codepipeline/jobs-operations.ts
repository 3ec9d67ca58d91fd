// The job worker API: PollForJobs, AcknowledgeJob, GetJobDetails, PutJobSuccessResult and
// PutJobFailureResult. Each checks the request shape against the model first, then acts.

import { AwsError, validation } from '../aws-error.js';
import type { Operation } from '../server.js';
import { ACTION_CATEGORIES, ACTION_OWNERS, FAILURE_TYPES, QUOTAS, RULES, UUID_PATTERN } from '../../model/limits.js';
import { InputReader } from './executions-input.js';
import { outputVariablesBytes } from './executions-plan.js';
import { acknowledgeJob, dispatchJobs, readJobDetails, recordJobFailure, recordJobSuccess, requireInProgressJob, type SuccessResult } from './jobs.js';
import { planQueryFilter } from './jobs-plan.js';
import { actionTypeRecordKey, TABLES, type ActionTypeRecord } from './records.js';

const JOB_ID = { min: 1, max: Number.MAX_SAFE_INTEGER, pattern: UUID_PATTERN } as const;
/** AWS gives maxBatchSize no maximum; a poll here returns at most this many jobs (UNVERIFIED). */
const MAX_BATCH_CAP = 100;

const pollForJobs: Operation = (input, context) => {
  const read = new InputReader(input);
  const rawType = read.object('actionTypeId', input.actionTypeId, true);
  const category = read.oneOf('actionTypeId.category', rawType?.category, ACTION_CATEGORIES, Boolean(rawType));
  const owner = read.oneOf('actionTypeId.owner', rawType?.owner, ACTION_OWNERS, Boolean(rawType));
  const provider = rawType ? read.stringAt('actionTypeId.provider', rawType.provider, RULES.provider, true) : undefined;
  const version = rawType ? read.stringAt('actionTypeId.version', rawType.version, RULES.version, true) : undefined;
  const maxBatchSize = read.integer('maxBatchSize', { min: 1 }) ?? 1;
  const queryParam = read.stringMap('queryParam', input.queryParam, RULES.configurationKey, RULES.queryParamValue, 1);
  read.done();
  // Only custom types have jobs for workers; AWS answers this for the other owners.
  if (owner !== 'Custom') throw validation(`ActionType with owner '${owner}' is not supported`);
  const type = context.store.get<ActionTypeRecord>(TABLES.actionTypes, actionTypeRecordKey({ category: category!, provider: provider!, version: version! }));
  if (!type || type.deleted) {
    throw new AwsError('ActionTypeNotFoundException', `ActionType with id Custom/${category}/${provider}/${version} does not exist`);
  }
  const query = planQueryFilter(type.actionConfigurationProperties, queryParam);
  if ('problem' in query) throw validation(query.problem);
  return { jobs: dispatchJobs(context, type.id, query.filter, Math.min(maxBatchSize, MAX_BATCH_CAP)) };
};

const acknowledge: Operation = (input, context) => {
  const read = new InputReader(input);
  const jobId = read.string('jobId', JOB_ID, true);
  const nonce = read.string('nonce', RULES.nonce, true);
  read.done();
  return { status: acknowledgeJob(context, jobId, nonce) };
};

const getJobDetails: Operation = (input, context) => {
  const read = new InputReader(input);
  const jobId = read.string('jobId', JOB_ID, true);
  read.done();
  return { jobDetails: readJobDetails(context, jobId) };
};

const putJobSuccessResult: Operation = (input, context) => {
  const read = new InputReader(input);
  const jobId = read.string('jobId', JOB_ID, true);
  const continuationToken = read.string('continuationToken', RULES.continuationToken);
  const details = read.object('executionDetails', input.executionDetails);
  const summary = details ? read.stringAt('executionDetails.summary', details.summary, RULES.executionSummary) : undefined;
  const externalExecutionId = details ? read.stringAt('executionDetails.externalExecutionId', details.externalExecutionId, RULES.externalExecutionId) : undefined;
  const percentComplete = details ? read.integerAt('executionDetails.percentComplete', details.percentComplete, { min: QUOTAS.percentMin, max: QUOTAS.percentMax }) : undefined;
  const revision = read.object('currentRevision', input.currentRevision);
  const currentRevision = revision
    ? {
        revision: read.stringAt('currentRevision.revision', revision.revision, RULES.revision, true),
        changeIdentifier: read.stringAt('currentRevision.changeIdentifier', revision.changeIdentifier, RULES.revisionChangeIdentifier, true),
        created: typeof revision.created === 'number' ? revision.created * 1000 : undefined,
        revisionSummary: read.stringAt('currentRevision.revisionSummary', revision.revisionSummary, RULES.revisionSummary),
      }
    : undefined;
  const outputVariables = read.stringMap('outputVariables', input.outputVariables, RULES.outputVariableKey, undefined);
  read.done();
  if (continuationToken !== undefined && outputVariables !== undefined) {
    throw validation('outputVariables can only be specified when no continuationToken is provided');
  }
  const job = requireInProgressJob(context, jobId);
  if (outputVariables && outputVariablesBytes(outputVariables) > QUOTAS.outputVariablesBytes) {
    throw new AwsError('OutputVariablesSizeExceededException', `The output variables exceed the maximum size of ${QUOTAS.outputVariablesBytes} bytes`);
  }
  const result: SuccessResult = {
    ...(continuationToken ? { continuationToken } : {}),
    ...(details
      ? {
          executionDetails: {
            ...(summary !== undefined ? { summary } : {}),
            ...(externalExecutionId !== undefined ? { externalExecutionId } : {}),
            ...(percentComplete !== undefined ? { percentComplete } : {}),
          },
        }
      : {}),
    ...(outputVariables ? { outputVariables } : {}),
    ...(currentRevision ? { currentRevision: currentRevision as SuccessResult['currentRevision'] } : {}),
  };
  recordJobSuccess(context, job, result);
  return undefined;
};

const putJobFailureResult: Operation = (input, context) => {
  const read = new InputReader(input);
  const jobId = read.string('jobId', JOB_ID, true);
  const failure = read.object('failureDetails', input.failureDetails, true);
  const type = failure ? read.oneOf('failureDetails.type', failure.type, FAILURE_TYPES, true) : undefined;
  const message = failure ? read.stringAt('failureDetails.message', failure.message, RULES.failureMessage, true) : undefined;
  const externalExecutionId = failure ? read.stringAt('failureDetails.externalExecutionId', failure.externalExecutionId, RULES.externalExecutionId) : undefined;
  read.done();
  const job = requireInProgressJob(context, jobId);
  recordJobFailure(context, job, { type: type!, message: message!, ...(externalExecutionId ? { externalExecutionId } : {}) });
  return undefined;
};

export const jobOperations: Record<string, Operation> = {
  PollForJobs: pollForJobs,
  AcknowledgeJob: acknowledge,
  GetJobDetails: getJobDetails,
  PutJobSuccessResult: putJobSuccessResult,
  PutJobFailureResult: putJobFailureResult,
};
