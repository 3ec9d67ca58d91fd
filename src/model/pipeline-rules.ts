// The structure rules CodePipeline enforces on CreatePipeline and UpdatePipeline, as pure code.
// The local endpoint turns the first finding into the AWS exception named by `exceptionFor()`;
// the reconciler runs the same rules offline on merged pipelines before calling AWS, and shows
// every finding. Paths use the PipelineDeclaration's JSON member names with 0-based indexes:
// ['stages', 1, 'actions', 0, 'configuration', 'ProjectName'].
//
// Which of the four exceptions AWS raises for each rule is not documented per rule [UNVERIFIED];
// the grouping below follows the exceptions' names: whole-pipeline rules are structure, rules
// inside one stage are stage declaration, rules about one action and its type are action
// declaration, and plain model constraints (lengths, patterns, ranges) are validation.

import type { ActionTypeId, ArtifactDetails, ConfigurationProperty } from './action-type.js';
import type { Finding, PathSegment } from './findings.js';
import { ACTION_CATEGORIES, ACTION_OWNERS, QUOTAS, RULES, describeStringViolation, type StringRule } from './limits.js';

/** The AWS exception a finding corresponds to. */
export type PipelineExceptionType = 'InvalidStructureException' | 'InvalidStageDeclarationException' | 'InvalidActionDeclarationException' | 'ValidationException';

/** What the rules need to know about an action type. */
export interface ActionTypeShape {
  readonly actionConfigurationProperties: readonly ConfigurationProperty[];
  readonly inputArtifactDetails: ArtifactDetails;
  readonly outputArtifactDetails: ArtifactDetails;
}

/**
 * Finds an action type for an action's `actionTypeId`:
 * - an ActionTypeShape when it exists and may be used,
 * - `'unavailable'` when it does not exist or is a deleted custom type (an error),
 * - `'unknown'` when the caller cannot tell (offline, an AWS type cpsync's catalogue lacks):
 *   the type-dependent rules are skipped for that action.
 */
export type ActionTypeLookup = (id: ActionTypeId) => ActionTypeShape | 'unavailable' | 'unknown';

export interface PipelineRuleOptions {
  /** The pipeline's own Region; enables the cross-Region and artifactStores Region rules. */
  readonly region?: string;
}

// Loose input shapes: the rules must survive any JSON (merged files, requests from other tools).
interface ArtifactLike {
  readonly name?: unknown;
}
interface ActionLike {
  readonly name?: unknown;
  readonly actionTypeId?: { readonly category?: unknown; readonly owner?: unknown; readonly provider?: unknown; readonly version?: unknown };
  readonly runOrder?: unknown;
  readonly configuration?: unknown;
  readonly inputArtifacts?: unknown;
  readonly outputArtifacts?: unknown;
  readonly namespace?: unknown;
  readonly region?: unknown;
  readonly roleArn?: unknown;
}
interface StageLike {
  readonly name?: unknown;
  readonly actions?: unknown;
}
export interface PipelineDeclarationLike {
  readonly name?: unknown;
  readonly roleArn?: unknown;
  readonly artifactStore?: unknown;
  readonly artifactStores?: unknown;
  readonly stages?: unknown;
  readonly pipelineType?: unknown;
  readonly executionMode?: unknown;
  readonly variables?: unknown;
  readonly triggers?: unknown;
  readonly [member: string]: unknown;
}

const CODES = {
  'pipeline.invalid-string': 'ValidationException',
  'pipeline.run-order': 'ValidationException',
  'pipeline.action-type-id': 'ValidationException',
  'pipeline.stage-count': 'InvalidStructureException',
  'pipeline.too-many-actions': 'InvalidStructureException',
  'pipeline.no-source-stage': 'InvalidStructureException',
  'pipeline.source-outside-first-stage': 'InvalidStructureException',
  'pipeline.no-non-source-stage': 'InvalidStructureException',
  'pipeline.duplicate-stage': 'InvalidStructureException',
  'pipeline.duplicate-output-artifact': 'InvalidStructureException',
  'pipeline.input-artifact-not-produced': 'InvalidStructureException',
  'pipeline.artifact-store': 'InvalidStructureException',
  'pipeline.artifact-store-region': 'InvalidStructureException',
  'pipeline.duplicate-namespace': 'InvalidStructureException',
  'pipeline.reserved-namespace': 'InvalidStructureException',
  'pipeline.v2-feature': 'InvalidStructureException',
  'pipeline.stage-action-count': 'InvalidStageDeclarationException',
  'pipeline.duplicate-action': 'InvalidStageDeclarationException',
  'pipeline.action-type-unavailable': 'InvalidActionDeclarationException',
  'pipeline.artifact-count': 'InvalidActionDeclarationException',
  'pipeline.unknown-configuration-key': 'InvalidActionDeclarationException',
  'pipeline.missing-configuration-key': 'InvalidActionDeclarationException',
  'pipeline.queryable-value': 'InvalidActionDeclarationException',
  'pipeline.cross-region-action': 'InvalidActionDeclarationException',
  'pipeline.configuration-size': 'InvalidActionDeclarationException',
} as const satisfies Record<string, PipelineExceptionType>;

export type PipelineRuleCode = keyof typeof CODES;

/** The AWS exception CodePipeline raises for a finding of these rules. */
export function exceptionFor(finding: Pick<Finding, 'code'>): PipelineExceptionType {
  return (CODES as Record<string, PipelineExceptionType>)[finding.code] ?? 'InvalidStructureException';
}

/** How messages name an action: `action 'CI' in stage 'Build'`. */
function actionLabel(stage: string, action: string): string {
  return `action '${action}' in stage '${stage}'`;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const obj = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

/** Checks a whole PipelineDeclaration. Returns every finding, in document order. Pure. */
export function checkPipelineDeclaration(declaration: PipelineDeclarationLike, lookupActionType: ActionTypeLookup, options: PipelineRuleOptions = {}): Finding[] {
  const findings: Finding[] = [];
  const add = (code: PipelineRuleCode, path: readonly PathSegment[], message: string, extra: { hint?: string; target?: 'key' | 'value' } = {}) =>
    findings.push({ code, path, message, ...extra });
  const checkString = (path: readonly PathSegment[], value: unknown, rule: StringRule, label: string) => {
    if (typeof value !== 'string') return;
    const problem = describeStringViolation(value, rule);
    if (problem) add('pipeline.invalid-string', path, `${label} ${JSON.stringify(value)} ${problem}`);
  };

  checkString(['name'], declaration.name, RULES.pipelineName, 'pipeline name');
  checkString(['roleArn'], declaration.roleArn, RULES.roleArn, 'roleArn');

  const stages = list(declaration.stages);
  if (stages.length < QUOTAS.stagesMin || stages.length > QUOTAS.stagesMax) {
    add(
      'pipeline.stage-count',
      ['stages'],
      stages.length < QUOTAS.stagesMin
        ? `Pipeline has only ${stages.length} stage(s). There should be a minimum of ${QUOTAS.stagesMin} stages in a pipeline`
        : `Pipeline has ${stages.length} stages. There should be a maximum of ${QUOTAS.stagesMax} stages in a pipeline`,
      { hint: 'a pipeline needs a source stage and at least one stage after it' },
    );
  }

  checkArtifactStores(declaration, stages, options, add);
  checkV2Features(declaration, add);

  const stageNames = new Map<string, number>();
  const producedBefore = new Set<string>(); // outputs of earlier stages
  const outputOwners = new Map<string, string>(); // artifact name → label of the action producing it
  const namespaces = new Map<string, string>();
  let totalActions = 0;
  let nonSourceStages = 0;

  stages.forEach((rawStage, stageIndex) => {
    const stage = (obj(rawStage) ?? {}) as StageLike;
    const stagePath: PathSegment[] = ['stages', stageIndex];
    const stageName = str(stage.name) ?? `#${stageIndex + 1}`;
    checkString([...stagePath, 'name'], stage.name, RULES.stageName, 'stage name');
    const firstUse = stageNames.get(stageName);
    if (firstUse !== undefined) {
      add('pipeline.duplicate-stage', [...stagePath, 'name'], `Stage name '${stageName}' is used by more than one stage (stages ${firstUse + 1} and ${stageIndex + 1}); stage names must be unique in a pipeline`, {
        hint: 'rename one of the stages',
      });
    } else stageNames.set(stageName, stageIndex);

    const actions = list(stage.actions);
    totalActions += actions.length;
    if (actions.length < QUOTAS.actionsPerStageMin || actions.length > QUOTAS.actionsPerStageMax) {
      add(
        'pipeline.stage-action-count',
        [...stagePath, 'actions'],
        `Stage '${stageName}' has ${actions.length} actions; a stage must have from ${QUOTAS.actionsPerStageMin} to ${QUOTAS.actionsPerStageMax} actions`,
      );
    }

    const actionNames = new Set<string>();
    let sourceCount = 0;
    const parsed = actions.map((rawAction, actionIndex) => ({ action: (obj(rawAction) ?? {}) as ActionLike, actionIndex }));
    // Outputs of this stage, with the runOrder that produced them: an input must come from a lower runOrder.
    const stageOutputs = new Map<string, number>();
    for (const { action } of parsed) {
      const runOrder = typeof action.runOrder === 'number' ? action.runOrder : 1;
      for (const artifact of list(action.outputArtifacts)) {
        const name = str((obj(artifact) as ArtifactLike | undefined)?.name);
        if (name !== undefined && !stageOutputs.has(name)) stageOutputs.set(name, runOrder);
        else if (name !== undefined) stageOutputs.set(name, Math.min(stageOutputs.get(name) as number, runOrder));
      }
    }

    for (const { action, actionIndex } of parsed) {
      const actionPath: PathSegment[] = [...stagePath, 'actions', actionIndex];
      const actionName = str(action.name) ?? `#${actionIndex + 1}`;
      const label = actionLabel(stageName, actionName);
      checkString([...actionPath, 'name'], action.name, RULES.actionName, 'action name');
      if (actionNames.has(actionName)) {
        add('pipeline.duplicate-action', [...actionPath, 'name'], `Action name '${actionName}' is used more than once in stage '${stageName}'; action names must be unique within a stage`, {
          hint: 'rename one of the actions',
        });
      }
      actionNames.add(actionName);

      const runOrder = action.runOrder ?? 1;
      if (typeof runOrder !== 'number' || !Number.isInteger(runOrder) || runOrder < QUOTAS.runOrderMin || runOrder > QUOTAS.runOrderMax) {
        add('pipeline.run-order', [...actionPath, 'runOrder'], `runOrder ${JSON.stringify(runOrder)} of ${label} must be a whole number from ${QUOTAS.runOrderMin} to ${QUOTAS.runOrderMax}`);
      }

      const id = readActionTypeId(action.actionTypeId);
      if (!id) {
        add('pipeline.action-type-id', [...actionPath, 'actionTypeId'], `${label} needs an actionTypeId with category (${ACTION_CATEGORIES.join(', ')}), owner (${ACTION_OWNERS.join(', ')}), provider and version`);
      }
      const isSource = id?.category === 'Source';
      if (isSource) sourceCount++;
      if (isSource && stageIndex > 0) {
        add('pipeline.source-outside-first-stage', [...actionPath, 'actionTypeId', 'category'], `${label} is a Source action; Source actions may only appear in the first stage`, {
          hint: 'move the action into the first stage, or use a non-Source category',
        });
      }
      if (!isSource && id && stageIndex === 0) {
        add('pipeline.no-source-stage', [...actionPath, 'actionTypeId', 'category'], `${label} is a ${id.category} action; the first stage may only contain Source actions`, {
          hint: 'move the action to a later stage',
        });
      }

      const configuration = obj(action.configuration) ?? {};
      for (const [key, value] of Object.entries(configuration)) {
        checkString([...actionPath, 'configuration', key], key, RULES.configurationKey, 'configuration key');
        checkString([...actionPath, 'configuration', key], value, RULES.configurationValue, `configuration value of ${key} in ${label}`);
      }
      const configurationBytes = Buffer.byteLength(JSON.stringify(configuration));
      if (configurationBytes > QUOTAS.actionConfigurationBytes) {
        add('pipeline.configuration-size', [...actionPath, 'configuration'], `the configuration of ${label} is ${configurationBytes} bytes; the maximum is ${QUOTAS.actionConfigurationBytes}`);
      }

      // Artifacts: inputs must come from an earlier stage or a lower runOrder in this stage.
      const inputs = list(action.inputArtifacts);
      inputs.forEach((artifact, artifactIndex) => {
        const name = str((obj(artifact) as ArtifactLike | undefined)?.name);
        if (name === undefined) return;
        checkString([...actionPath, 'inputArtifacts', artifactIndex, 'name'], name, RULES.artifactName, 'input artifact name');
        const sameStageOrder = stageOutputs.get(name);
        const producedEarlier = producedBefore.has(name) || (sameStageOrder !== undefined && typeof runOrder === 'number' && sameStageOrder < runOrder);
        if (!producedEarlier) {
          const inStageLater = sameStageOrder !== undefined;
          add('pipeline.input-artifact-not-produced', [...actionPath, 'inputArtifacts', artifactIndex, 'name'],
            inStageLater
              ? `Input artifact '${name}' of ${label} is produced in the same stage by an action that does not run before it (runOrder ${sameStageOrder}, this action ${String(runOrder)})`
              : `Input artifact '${name}' of ${label} is not the output artifact of any action that runs before it`,
            { hint: inStageLater ? `give ${actionName} a runOrder greater than ${sameStageOrder}` : 'name the output artifact of an earlier action' });
        }
      });
      const outputs = list(action.outputArtifacts);
      outputs.forEach((artifact, artifactIndex) => {
        const name = str((obj(artifact) as ArtifactLike | undefined)?.name);
        if (name === undefined) return;
        checkString([...actionPath, 'outputArtifacts', artifactIndex, 'name'], name, RULES.artifactName, 'output artifact name');
        const owner = outputOwners.get(name);
        if (owner !== undefined) {
          add('pipeline.duplicate-output-artifact', [...actionPath, 'outputArtifacts', artifactIndex, 'name'], `Output artifact name '${name}' of ${label} is already the output of ${owner}; output artifact names must be unique in a pipeline`, {
            hint: 'give each output artifact its own name',
          });
        } else outputOwners.set(name, label);
      });

      const namespace = str(action.namespace);
      if (namespace !== undefined) {
        checkString([...actionPath, 'namespace'], namespace, RULES.namespace, 'namespace');
        const other = namespaces.get(namespace);
        if (other !== undefined) {
          add('pipeline.duplicate-namespace', [...actionPath, 'namespace'], `Namespace '${namespace}' of ${label} is already used by ${other}; namespaces must be unique in a pipeline`);
        } else namespaces.set(namespace, label);
        if (namespace === 'codepipeline') {
          add('pipeline.reserved-namespace', [...actionPath, 'namespace'], `Namespace 'codepipeline' of ${label} is reserved by CodePipeline`);
        }
      }
      if (action.roleArn !== undefined) checkString([...actionPath, 'roleArn'], action.roleArn, RULES.roleArn, 'roleArn');

      const region = str(action.region);
      if (region !== undefined) checkString([...actionPath, 'region'], region, RULES.region, 'region');
      const crossRegion = region !== undefined && (options.region === undefined || region !== options.region);
      if (crossRegion && id && (id.owner === 'Custom' || id.owner === 'ThirdParty' || isSource)) {
        const kind = id.owner === 'Custom' ? 'a custom action' : id.owner === 'ThirdParty' ? 'a third-party action' : 'a Source action';
        add('pipeline.cross-region-action', [...actionPath, 'region'], `${label} is ${kind} and cannot be cross-Region (region '${region}')`, {
          hint: 'remove region from the action: it runs in the pipeline Region',
        });
      }

      if (id) checkAgainstType(id, action, configuration, inputs.length, outputs.length, actionPath, label, lookupActionType, add);
    }

    if (sourceCount < parsed.length) nonSourceStages++;
    for (const name of stageOutputs.keys()) producedBefore.add(name);
  });

  if (stages.length > 0 && list((obj(stages[0]) as StageLike | undefined)?.actions).length === 0) {
    add('pipeline.no-source-stage', ['stages', 0], 'The first stage must contain at least one Source action');
  }
  if (stages.length >= QUOTAS.stagesMin && nonSourceStages === 0) {
    add('pipeline.no-non-source-stage', ['stages'], 'The pipeline has only Source actions; at least one stage must contain a non-Source action');
  }
  if (totalActions > QUOTAS.actionsPerPipeline) {
    add('pipeline.too-many-actions', ['stages'], `The pipeline has ${totalActions} actions; the maximum is ${QUOTAS.actionsPerPipeline}`);
  }
  for (const [namespace, label] of namespaces) {
    if (outputOwners.has(namespace)) {
      add('pipeline.duplicate-namespace', ['stages'], `Namespace '${namespace}' of ${label} has the same name as an output artifact; namespaces must not match artifact names`);
    }
  }
  return findings;
}

function readActionTypeId(raw: ActionLike['actionTypeId']): ActionTypeId | undefined {
  const id = obj(raw);
  if (!id) return undefined;
  const { category, owner, provider, version } = id;
  if (typeof category !== 'string' || !(ACTION_CATEGORIES as readonly string[]).includes(category)) return undefined;
  if (typeof owner !== 'string' || !(ACTION_OWNERS as readonly string[]).includes(owner)) return undefined;
  if (typeof provider !== 'string' || typeof version !== 'string') return undefined;
  return { category, owner, provider, version } as ActionTypeId;
}

/** The message AWS gives for an action type that does not exist or was deleted (seen live). */
export function unavailableTypeMessage(id: ActionTypeId, actionName: string): string {
  return `ActionType (Category: '${id.category}', Provider: '${id.provider}', Owner: '${id.owner}', Version: '${id.version}') in action '${actionName}' is not available`;
}

type Add = (code: PipelineRuleCode, path: readonly PathSegment[], message: string, extra?: { hint?: string; target?: 'key' | 'value' }) => void;

function checkAgainstType(
  id: ActionTypeId,
  action: ActionLike,
  configuration: Record<string, unknown>,
  inputCount: number,
  outputCount: number,
  actionPath: readonly PathSegment[],
  label: string,
  lookup: ActionTypeLookup,
  add: Add,
): void {
  const type = lookup(id);
  if (type === 'unknown') return;
  if (type === 'unavailable') {
    add('pipeline.action-type-unavailable', [...actionPath, 'actionTypeId'], unavailableTypeMessage(id, str(action.name) ?? ''), {
      hint: id.owner === 'Custom' ? `create the custom action type ${id.category}/${id.provider}/${id.version} first (or restore it)` : 'check the category, provider and version',
    });
    return;
  }
  for (const [side, count, details] of [
    ['inputArtifacts', inputCount, type.inputArtifactDetails],
    ['outputArtifacts', outputCount, type.outputArtifactDetails],
  ] as const) {
    if (count < details.minimumCount || count > details.maximumCount) {
      const range = details.minimumCount === details.maximumCount ? `exactly ${details.minimumCount}` : `from ${details.minimumCount} to ${details.maximumCount}`;
      add('pipeline.artifact-count', [...actionPath, side], `${label} has ${count} ${side === 'inputArtifacts' ? 'input' : 'output'} artifact(s); its action type ${id.owner}/${id.category}/${id.provider}/${id.version} allows ${range}`);
    }
  }
  const properties = new Map(type.actionConfigurationProperties.map((property) => [property.name, property]));
  for (const [key, value] of Object.entries(configuration)) {
    const property = properties.get(key);
    if (!property) {
      const known = [...properties.keys()];
      add('pipeline.unknown-configuration-key', [...actionPath, 'configuration', key], `Configuration key '${key}' of ${label} is not a configuration property of its action type`, {
        target: 'key',
        hint: known.length ? `use one of: ${known.join(', ')}` : 'this action type takes no configuration',
      });
      continue;
    }
    if (property.queryable && typeof value === 'string') {
      const problem = describeStringViolation(value, RULES.queryableConfigurationValue);
      if (problem) {
        add('pipeline.queryable-value', [...actionPath, 'configuration', key], `Queryable configuration value of ${key} in ${label} ${problem}; a queryable value has at most 20 characters`, {
          hint: 'job workers poll by this value; keep it short, e.g. a project id',
        });
      }
    }
  }
  for (const property of type.actionConfigurationProperties) {
    if (property.required && !(property.name in configuration)) {
      add('pipeline.missing-configuration-key', [...actionPath, 'configuration'], `Action configuration for ${label} is missing required configuration '${property.name}'`, {
        hint: `add ${property.name} to the action's configuration`,
      });
    }
  }
}

function checkArtifactStores(declaration: PipelineDeclarationLike, stages: readonly unknown[], options: PipelineRuleOptions, add: Add): void {
  const single = declaration.artifactStore !== undefined && declaration.artifactStore !== null;
  const multi = declaration.artifactStores !== undefined && declaration.artifactStores !== null;
  if (single === multi) {
    add(
      'pipeline.artifact-store',
      single ? ['artifactStores'] : ['artifactStore'],
      single ? 'Pipeline declares both artifactStore and artifactStores; use exactly one' : 'Pipeline declares neither artifactStore nor artifactStores; exactly one is required',
      { hint: 'use artifactStore for a single-Region pipeline, artifactStores for cross-Region actions' },
    );
  }
  if (single) {
    checkStore(obj(declaration.artifactStore), ['artifactStore'], add);
    return;
  }
  const stores = obj(declaration.artifactStores);
  if (!stores) return;
  for (const [region, store] of Object.entries(stores)) checkStore(obj(store), ['artifactStores', region], add);
  const needed = new Set<string>();
  if (options.region) needed.add(options.region);
  for (const stage of stages) {
    for (const action of list((obj(stage) as StageLike | undefined)?.actions)) {
      const region = str((obj(action) as ActionLike | undefined)?.region);
      if (region) needed.add(region);
    }
  }
  for (const region of needed) {
    if (!(region in stores)) {
      add('pipeline.artifact-store-region', ['artifactStores'], `artifactStores has no artifact store for Region '${region}'; it needs one for the pipeline Region and for each action Region`);
    }
  }
}

function checkStore(store: Record<string, unknown> | undefined, path: readonly PathSegment[], add: Add): void {
  if (!store) return;
  const location = store.location;
  if (typeof location === 'string') {
    const problem = describeStringViolation(location, RULES.bucketName);
    if (problem) add('pipeline.invalid-string', [...path, 'location'], `artifact store location ${JSON.stringify(location)} ${problem}`);
  }
}

/** V2-only features on a pipeline that is not V2. An omitted pipelineType is read as V1 (the
 *  historic API default); whether AWS still defaults to V1 is [UNVERIFIED], so send it explicitly. */
function checkV2Features(declaration: PipelineDeclarationLike, add: Add): void {
  if (declaration.pipelineType === 'V2') return;
  const used: [string, boolean][] = [
    ['variables', list(declaration.variables).length > 0],
    ['triggers', list(declaration.triggers).length > 0],
    ['executionMode', declaration.executionMode === 'QUEUED' || declaration.executionMode === 'PARALLEL'],
  ];
  for (const [member, present] of used) {
    if (!present) continue;
    add('pipeline.v2-feature', [member], `${member === 'executionMode' ? `executionMode ${String(declaration.executionMode)}` : member} can only be used with V2 pipelines`, {
      hint: "set pipelineType: 'V2'",
    });
  }
}
