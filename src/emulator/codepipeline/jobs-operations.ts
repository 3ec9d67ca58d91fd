// The job worker API: PollForJobs, AcknowledgeJob, GetJobDetails, PutJobSuccessResult and
// PutJobFailureResult. Each checks the request shape against the model first, then acts.

import { AwsError, validation } from '../aws-error.js';
import type { Operation } from '../server.js';
import { FAILURE_TYPES, QUOTAS, RULES } from '../../model/limits.js';
import { checkActionTypeId, InputCheck, requireUuid } from './input.js';
import { outputVariablesBytes } from './executions-plan.js';
import { catchUp } from './executions-catch-up.js';
import { acknowledgeJob, dispatchJobs, readJobDetails, recordJobFailure, recordJobSuccess, requireInProgressJob, type SuccessResult } from './jobs.js';
import { planQueryFilter } from './jobs-plan.js';
import { actionTypeRecordKey, TABLES, type ActionTypeRecord } from './records.js';

/** AWS gives maxBatchSize no maximum; a poll here returns at most this many jobs (UNVERIFIED). */
const MAX_BATCH_CAP = 100;

const pollForJobs: Operation = (input, context) => {
  const check = new InputCheck();
  const id = checkActionTypeId(check, input, 'actionTypeId');
  const maxBatchSize = check.optionalInteger(input, 'maxBatchSize', { min: 1 }) ?? 1;
  const queryParam = check.optionalStringMap(input, 'queryParam', RULES.configurationKey, RULES.queryParamValue);
  if (queryParam && Object.keys(queryParam).length > 1) check.fail('queryParam', queryParam, 'Member must have length less than or equal to 1');
  check.done();
  const typeId = id as NonNullable<typeof id>;
  // Only custom types have jobs for workers; AWS answers this for the other owners.
  if (typeId.owner !== 'Custom') throw validation(`ActionType with owner '${typeId.owner}' is not supported`);
  catchUp(context);
  const type = context.store.get<ActionTypeRecord>(TABLES.actionTypes, actionTypeRecordKey(typeId));
  if (!type || type.deleted) {
    throw new AwsError('ActionTypeNotFoundException', `ActionType with id Custom/${typeId.category}/${typeId.provider}/${typeId.version} does not exist`);
  }
  const query = planQueryFilter(type.actionConfigurationProperties, queryParam);
  if ('problem' in query) throw validation(query.problem);
  return { jobs: dispatchJobs(context, type.id, query.filter, Math.min(maxBatchSize, MAX_BATCH_CAP)) };
};

const acknowledge: Operation = (input, context) => {
  const check = new InputCheck();
  const jobId = check.requireUuid(input, 'jobId') as string;
  const nonce = check.requireString(input, 'nonce', RULES.nonce) as string;
  check.done();
  catchUp(context);
  return { status: acknowledgeJob(context, jobId, nonce) };
};

const getJobDetails: Operation = (input, context) => {
  const jobId = requireUuid(input, 'jobId');
  catchUp(context);
  return { jobDetails: readJobDetails(context, jobId) };
};

const putJobSuccessResult: Operation = (input, context) => {
  const check = new InputCheck();
  const jobId = check.requireUuid(input, 'jobId') as string;
  const continuationToken = check.optionalString(input, 'continuationToken', RULES.continuationToken);
  const details = check.optionalObject(input, 'executionDetails');
  const summary = details ? check.optionalString(details, 'executionDetails.summary', RULES.executionSummary) : undefined;
  const externalExecutionId = details ? check.optionalString(details, 'executionDetails.externalExecutionId', RULES.externalExecutionId) : undefined;
  const percentComplete = details ? check.optionalInteger(details, 'executionDetails.percentComplete', { min: QUOTAS.percentMin, max: QUOTAS.percentMax }) : undefined;
  const revision = check.optionalObject(input, 'currentRevision');
  const currentRevision = revision
    ? {
        revision: check.requireString(revision, 'currentRevision.revision', RULES.revision),
        changeIdentifier: check.requireString(revision, 'currentRevision.changeIdentifier', RULES.revisionChangeIdentifier),
        created: check.optionalTimestamp(revision, 'currentRevision.created'),
        revisionSummary: check.optionalString(revision, 'currentRevision.revisionSummary', RULES.revisionSummary),
      }
    : undefined;
  const outputVariables = check.optionalStringMap(input, 'outputVariables', RULES.outputVariableKey);
  check.done();
  if (continuationToken !== undefined && outputVariables !== undefined) {
    throw validation('outputVariables can only be specified when no continuationToken is provided');
  }
  catchUp(context);
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
  const check = new InputCheck();
  const jobId = check.requireUuid(input, 'jobId') as string;
  const failure = check.requireObject(input, 'failureDetails');
  const type = failure ? check.requireEnum(failure, 'failureDetails.type', FAILURE_TYPES) : undefined;
  const message = failure ? check.requireString(failure, 'failureDetails.message', RULES.failureMessage) : undefined;
  const externalExecutionId = failure ? check.optionalString(failure, 'failureDetails.externalExecutionId', RULES.externalExecutionId) : undefined;
  check.done();
  catchUp(context);
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
