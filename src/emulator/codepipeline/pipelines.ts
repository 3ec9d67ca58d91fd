// Pipelines: CreatePipeline, GetPipeline, UpdatePipeline, DeletePipeline, ListPipelines.
//
// A pipeline is stored as the PipelineDeclaration JSON exactly as sent (members this endpoint does
// not know are kept and returned), with `version` set: 1 on create, +1 on each update, every
// version kept. Secrets are stored in full and masked as `****` on the way out. Create and update
// first check the model constraints (ValidationException), then the structure rules shared with
// the reconciler (src/model/pipeline-rules.ts), answering the first finding with its exception.

import { startExecution } from './executions.js';
import { AwsError } from '../aws-error.js';
import type { EmulatorContext } from '../context.js';
import { JsonText } from '../json-text.js';
import type { Operation } from '../server.js';
import type { ActionTypeId, Tag } from '../../model/action-type.js';
import { QUOTAS, RULES } from '../../model/limits.js';
import { checkPipelineDeclaration, exceptionFor } from '../../model/pipeline-rules.js';
import { endpointActionTypeLookup, findActionTypeShape } from './action-types.js';
import { InputCheck, type InputObject } from './input.js';
import { paginate } from './next-token.js';
import { checkPipelineShape } from './pipeline-input.js';
import { TABLES, type PipelineRecord, type PipelineVersionRecord } from './records.js';
import { maskSecrets, restoreMaskedSecrets, type SecretTest } from './secrets.js';
import { readTagList, throwForTagFindings } from './tags.js';

/** ListPipelines' page size when maxResults is not given [UNVERIFIED: AWS's default is not documented]. */
export const DEFAULT_PIPELINES_PAGE_SIZE = 100;

export function pipelineArn(context: Pick<EmulatorContext, 'region' | 'accountId'>, name: string): string {
  return `arn:aws:codepipeline:${context.region}:${context.accountId}:${name}`;
}

export function findPipeline(context: EmulatorContext, name: string): PipelineRecord | undefined {
  return context.store.get<PipelineRecord>(TABLES.pipelines, name);
}

/** The current version of a pipeline (secrets in clear: for the engine, never for a response). */
export function currentVersion(record: PipelineRecord): PipelineVersionRecord {
  return record.versions[record.versions.length - 1] as PipelineVersionRecord;
}

/** Whether a configuration key is secret for an action type (deleted custom types included). */
export function secretTest(context: EmulatorContext): SecretTest {
  return (rawId, key) => {
    const id = rawId as Partial<ActionTypeId> | undefined;
    if (!id || typeof id !== 'object' || !id.owner || !id.category || !id.provider || !id.version) return false;
    const shape = findActionTypeShape(context, id as ActionTypeId);
    return Boolean(shape?.actionConfigurationProperties.some((property) => property.name === key && property.secret));
  };
}

function notFound(context: EmulatorContext, name: string): AwsError {
  return new AwsError('PipelineNotFoundException', `Account '${context.accountId}' does not have a pipeline with name '${name}'`);
}

/** Checks create/update input and returns the declaration to store (secrets restored, version set). */
function acceptDeclaration(context: EmulatorContext, pipeline: InputObject, current: PipelineRecord | undefined): Record<string, unknown> {
  const restored = restoreMaskedSecrets(pipeline, current ? currentVersion(current).declaration : undefined, secretTest(context));
  if (!restored.ok) throw new AwsError('InvalidActionDeclarationException', restored.message);
  const findings = checkPipelineDeclaration(restored.declaration, endpointActionTypeLookup(context), { region: context.region });
  const first = findings[0];
  if (first) throw new AwsError(exceptionFor(first), first.message);
  const version = current ? currentVersion(current).version + 1 : 1;
  return { ...restored.declaration, version };
}

function renderDeclaration(context: EmulatorContext, declaration: Record<string, unknown>): Record<string, unknown> {
  return maskSecrets(declaration, secretTest(context));
}

const seconds = (ms: number) => ms / 1000;

const createPipeline: Operation = (input, context) => {
  const check = new InputCheck();
  const pipeline = checkPipelineShape(check, input);
  const tags = readTagList(check, input, 'tags', false) ?? [];
  check.done();
  const name = (pipeline as InputObject).name as string;
  throwForTagFindings(tags);
  const record = context.store.transaction(() => {
    if (findPipeline(context, name)) throw new AwsError('PipelineNameInUseException', `A pipeline with the name '${name}' already exists in account '${context.accountId}'`);
    if (context.store.table(TABLES.pipelines).size >= QUOTAS.pipelinesPerRegion) {
      throw new AwsError('LimitExceededException', `The maximum number of pipelines (${QUOTAS.pipelinesPerRegion}) for this account and Region has been reached`);
    }
    const declaration = acceptDeclaration(context, pipeline as InputObject, undefined);
    const now = context.now();
    const created: PipelineRecord = { name, arn: pipelineArn(context, name), created: now, updated: now, versions: [{ version: 1, declaration, created: now }], tags };
    context.store.put(TABLES.pipelines, name, created);
    // AWS starts a first execution when a pipeline is created (trigger type CreatePipeline).
    startExecution(context, name, { trigger: { triggerType: 'CreatePipeline', triggerDetail: `arn:aws:iam::${context.accountId}:root` } });
    return created;
  });
  return { pipeline: renderDeclaration(context, currentVersion(record).declaration), tags: record.tags satisfies readonly Tag[] };
};

const getPipeline: Operation = (input, context) => {
  const check = new InputCheck();
  const name = check.requireString(input, 'name', RULES.pipelineName);
  const version = check.optionalInteger(input, 'version', { min: 1 });
  check.done();
  const record = findPipeline(context, name as string);
  if (!record) throw notFound(context, name as string);
  // AWS answers PipelineNotFoundException for versions older than about the last 10 (a known
  // service bug); this endpoint keeps every version and answers them all.
  const wanted = version === undefined ? currentVersion(record) : record.versions.find((candidate) => candidate.version === version);
  if (!wanted) throw new AwsError('PipelineVersionNotFoundException', `Pipeline '${record.name}' does not have version ${version}`);
  return renderGetPipeline(context, record, wanted);
};

/** GetPipeline answers, kept while nothing they show can have changed. Records are replaced, never
 *  mutated, so a record (one pipeline incarnation after one update) is a safe key; masking depends on
 *  the action types as well, so a change to that table starts afresh. Readers polling a pipeline
 *  (the reconciler, workers, dashboards) then cost a look-up instead of a walk and a stringify. */
const renderedPipelines = new WeakMap<PipelineRecord, { readonly typesGeneration: number; readonly byVersion: Map<number, JsonText> }>();

function renderGetPipeline(context: EmulatorContext, record: PipelineRecord, wanted: PipelineVersionRecord): JsonText {
  const typesGeneration = context.store.generation(TABLES.actionTypes);
  let rendered = renderedPipelines.get(record);
  if (!rendered || rendered.typesGeneration !== typesGeneration) {
    rendered = { typesGeneration, byVersion: new Map() };
    renderedPipelines.set(record, rendered);
  }
  let text = rendered.byVersion.get(wanted.version);
  if (!text) {
    text = new JsonText(
      JSON.stringify({
        pipeline: renderDeclaration(context, wanted.declaration),
        metadata: { pipelineArn: record.arn, created: seconds(record.created), updated: seconds(record.updated) },
      }),
    );
    rendered.byVersion.set(wanted.version, text);
  }
  return text;
}

const updatePipeline: Operation = (input, context) => {
  const check = new InputCheck();
  const pipeline = checkPipelineShape(check, input);
  check.done();
  const name = (pipeline as InputObject).name as string;
  // A `version` in the request is not compared with the current one: AWS does not document a
  // check [UNVERIFIED], so optimistic locking must not rely on it.
  const record = context.store.transaction(() => {
    const current = findPipeline(context, name);
    if (!current) throw notFound(context, name);
    const declaration = acceptDeclaration(context, pipeline as InputObject, current);
    const now = context.now();
    const next: PipelineRecord = { ...current, updated: now, versions: [...current.versions, { version: declaration.version as number, declaration, created: now }] };
    context.store.put(TABLES.pipelines, name, next);
    return next;
  });
  return { pipeline: renderDeclaration(context, currentVersion(record).declaration) };
};

const deletePipeline: Operation = (input, context) => {
  const check = new InputCheck();
  const name = check.requireString(input, 'name', RULES.pipelineName);
  check.done();
  // The model lists no not-found error for DeletePipeline; deleting an unknown name succeeds
  // (the emulator moto does the same; AWS's answer is [UNVERIFIED]).
  context.store.transaction(() => {
    if (findPipeline(context, name as string)) context.store.delete(TABLES.pipelines, name as string);
  });
  return undefined;
};

const listPipelines: Operation = (input, context) => {
  const check = new InputCheck();
  const nextToken = check.optionalString(input, 'nextToken', RULES.nextToken);
  const maxResults = check.optionalInteger(input, 'maxResults', { min: 1, max: 1000 });
  check.done();
  const records = [...context.store.table<PipelineRecord>(TABLES.pipelines).values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const { page, nextToken: next } = paginate('ListPipelines', records, (record) => record.name, maxResults ?? DEFAULT_PIPELINES_PAGE_SIZE, nextToken);
  return {
    pipelines: page.map((record) => {
      const { declaration, version } = currentVersion(record);
      return {
        name: record.name,
        version,
        ...(typeof declaration.pipelineType === 'string' ? { pipelineType: declaration.pipelineType } : {}),
        ...(typeof declaration.executionMode === 'string' ? { executionMode: declaration.executionMode } : {}),
        created: seconds(record.created),
        updated: seconds(record.updated),
      };
    }),
    ...(next ? { nextToken: next } : {}),
  };
};

export const pipelineOperations: Record<string, Operation> = {
  CreatePipeline: createPipeline,
  GetPipeline: getPipeline,
  UpdatePipeline: updatePipeline,
  DeletePipeline: deletePipeline,
  ListPipelines: listPipelines,
};
