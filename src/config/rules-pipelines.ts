// Rules on one pipelines/*.yaml file, and across all of them, beyond their shape. Pure. What can
// only be known against the live pipeline (anchor stages exist, inputs are produced earlier, the
// first stage) is checked at plan time instead.

import { formatTypeRef, stringRuleHint, type ActionTypeId, type ArtifactDetails, type ConfigurationProperty } from '../model/action-type.js';
import { findCatalogueType } from '../model/aws-action-types.js';
import { ENV_NAME, envReferences, isPattern, type DesiredAction } from '../model/desired.js';
import type { Finding, PathSegment } from '../model/findings.js';
import { ACTION_CATEGORIES, QUOTAS, RULES, describeStringViolation } from '../model/limits.js';
import { closestMatch } from '../util/suggest.js';
import { normalizeAction, normalizePipelineFile, parseTypeRef } from './normalize.js';
import type { SalvagedPipelineFile, WrittenAction } from './schema.js';

/** What the rules need to know about an action type. */
export interface KnownActionType {
  readonly id: ActionTypeId;
  readonly properties: readonly ConfigurationProperty[];
  readonly inputArtifactDetails: ArtifactDetails;
  readonly outputArtifactDetails: ArtifactDetails;
}

export interface TypeLookup {
  /** Custom types declared in actions.yaml. */
  readonly declared: readonly KnownActionType[];
  /** Shown in messages pointing at actions.yaml. */
  readonly actionsFile: string;
}

function findType(lookup: TypeLookup, id: ActionTypeId): KnownActionType | undefined {
  if (id.owner === 'Custom') {
    return lookup.declared.find((t) => t.id.category === id.category && t.id.provider === id.provider && t.id.version === id.version);
  }
  const catalogue = findCatalogueType(id);
  return catalogue
    ? { id: catalogue.id, properties: catalogue.actionConfigurationProperties, inputArtifactDetails: catalogue.inputArtifactDetails, outputArtifactDetails: catalogue.outputArtifactDetails }
    : undefined;
}

export function checkPipelineFile(written: SalvagedPipelineFile, file: string, lookup: TypeLookup): Finding[] {
  const findings: Finding[] = [];
  const outputs = new Map<string, string>();
  const namespaces = new Map<string, string>();
  const insertedNames = new Map<string, number>();
  const label = (path: readonly PathSegment[]) => path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').slice(1);

  const selectors = written.pipelines ?? [];
  selectors.forEach((selector, index) => {
    if (selectors.indexOf(selector) !== index) {
      findings.push({ severity: 'warning', code: 'pipelines.duplicate-selector', path: ['pipelines', index], message: `pipeline ${JSON.stringify(selector)} is listed twice`, hint: 'list each pipeline once' });
    }
  });

  const checkActions = (actions: readonly (WrittenAction | undefined)[], at: PathSegment[], stageName: string, inserted: boolean) => {
    findings.push(...checkArtifactOrder(actions, at, stageName));
    const names = new Map<string, number>();
    actions.forEach((action, index) => {
      if (!action) return;
      const path = [...at, index];
      const first = names.get(action.name);
      if (first !== undefined) {
        findings.push({
          code: 'pipelines.duplicate-action',
          path: [...path, 'name'],
          message: `action name ${JSON.stringify(action.name)} is used twice in stage ${JSON.stringify(stageName)}`,
          hint: 'action names must be unique within a stage',
        });
      } else names.set(action.name, index);
      findings.push(...checkAction(action, path, lookup, inserted));
      for (const [j, output] of (action.outputArtifacts ?? []).entries()) {
        const previous = outputs.get(output);
        if (previous) {
          findings.push({
            code: 'pipelines.duplicate-output',
            path: [...path, 'outputArtifacts', j],
            message: `output artifact ${JSON.stringify(output)} is already produced by ${previous}`,
            hint: 'output artifact names must be unique in a pipeline; rename one of them',
          });
        } else outputs.set(output, `action ${JSON.stringify(action.name)} (${label(path)})`);
      }
      if (action.namespace !== undefined && action.namespace.toLowerCase() === RESERVED_NAMESPACE) {
        findings.push({
          code: 'pipelines.reserved-namespace',
          path: [...path, 'namespace'],
          message: `namespace ${JSON.stringify(action.namespace)} is reserved by CodePipeline for its own variables`,
          hint: `choose another name, e.g. ${JSON.stringify(`${action.name}Vars`.replace(/[^A-Za-z0-9@_-]/g, '-'))}`,
        });
      }
      if (action.namespace !== undefined) {
        const previous = namespaces.get(action.namespace);
        if (previous) {
          findings.push({ code: 'pipelines.duplicate-namespace', path: [...path, 'namespace'], message: `namespace ${JSON.stringify(action.namespace)} is already used by ${previous}`, hint: 'namespaces must be unique in a pipeline' });
        } else namespaces.set(action.namespace, label(path));
      }
    });
  };

  (written.insertStages ?? []).forEach((stage, index) => {
    if (!stage) return;
    const at: PathSegment[] = ['insertStages', index];
    const first = insertedNames.get(stage.name);
    if (first !== undefined) {
      findings.push({ code: 'pipelines.duplicate-stage', path: [...at, 'name'], message: `stage ${JSON.stringify(stage.name)} is inserted twice (first as insertStages[${first}])`, hint: 'stage names must be unique in a pipeline' });
    } else insertedNames.set(stage.name, index);

    if ((stage.before === undefined) === (stage.after === undefined)) {
      findings.push({
        code: 'pipelines.placement',
        path: stage.before !== undefined ? [...at, 'after'] : [...at, 'name'],
        message: stage.before !== undefined ? `stage ${JSON.stringify(stage.name)} gives both before and after` : `stage ${JSON.stringify(stage.name)} needs a place: before or after`,
        hint: 'write exactly one of before: <stage> or after: <stage>, naming a stage of the live pipeline',
      });
    }
    const anchor = stage.before ?? stage.after;
    if (anchor === stage.name) {
      findings.push({ code: 'pipelines.placement', path: [...at, stage.before !== undefined ? 'before' : 'after'], message: `stage ${JSON.stringify(stage.name)} is placed relative to itself`, hint: 'name another stage of the pipeline' });
    }
    if (stage.actions.length < QUOTAS.actionsPerStageMin || stage.actions.length > QUOTAS.actionsPerStageMax) {
      findings.push({
        code: 'pipelines.stage-actions',
        path: [...at, 'actions'],
        message: `stage ${JSON.stringify(stage.name)} has ${stage.actions.length} actions; a stage needs 1 to ${QUOTAS.actionsPerStageMax}`,
        hint: stage.actions.length ? `split the stage in two: at most ${QUOTAS.actionsPerStageMax} actions per stage` : 'give the stage at least one action, or remove it',
      });
    }
    checkActions(stage.actions, [...at, 'actions'], stage.name, true);
  });

  const groups = new Map<string, number>();
  (written.addActions ?? []).forEach((group, index) => {
    if (!group) return;
    const at: PathSegment[] = ['addActions', index];
    if (insertedNames.has(group.stage)) {
      findings.push({
        code: 'pipelines.add-to-inserted',
        path: [...at, 'stage'],
        message: `addActions targets stage ${JSON.stringify(group.stage)}, which this file inserts`,
        hint: `list those actions under the inserted stage's actions instead`,
      });
    }
    const first = groups.get(group.stage);
    if (first !== undefined) {
      findings.push({ code: 'pipelines.duplicate-group', path: [...at, 'stage'], message: `stage ${JSON.stringify(group.stage)} already has an addActions entry (addActions[${first}])`, hint: 'merge the two lists of actions into one entry' });
    } else groups.set(group.stage, index);
    if (group.actions.length === 0) findings.push({ code: 'pipelines.stage-actions', path: [...at, 'actions'], message: `addActions for stage ${JSON.stringify(group.stage)} lists no actions`, hint: 'add an action or remove the entry' });
    checkActions(group.actions, [...at, 'actions'], group.stage, false);
  });

  const rewired = new Map<string, number>();
  const owned = new Set<string>();
  for (const stage of written.insertStages ?? []) for (const action of stage?.actions ?? []) if (stage && action) owned.add(`${stage.name}/${action.name}`);
  for (const group of written.addActions ?? []) for (const action of group?.actions ?? []) if (group && action) owned.add(`${group.stage}/${action.name}`);
  (written.rewires ?? []).forEach((rewire, index) => {
    if (!rewire) return;
    const at: PathSegment[] = ['rewires', index];
    const key = `${rewire.stage}/${rewire.action}`;
    if (owned.has(key)) {
      findings.push({
        code: 'pipelines.rewire-owned',
        path: [...at, 'action'],
        message: `rewire targets ${key}, an action this file declares`,
        hint: 'set inputArtifacts on the declared action instead; rewires are for actions cpsync does not own',
      });
    }
    const first = rewired.get(key);
    if (first !== undefined) findings.push({ code: 'pipelines.duplicate-rewire', path: [...at, 'action'], message: `${key} is rewired twice (first in rewires[${first}])`, hint: 'keep one rewire per action' });
    else rewired.set(key, index);
  });

  for (const [namespace, where] of namespaces) {
    if (outputs.has(namespace)) {
      const action = where;
      findings.push({ code: 'pipelines.namespace-artifact', path: pathFromLabel(action).concat('namespace'), message: `namespace ${JSON.stringify(namespace)} is also the name of an output artifact`, hint: 'AWS requires namespaces to differ from artifact names' });
    }
  }

  if (!written.insertStages?.length && !written.addActions?.length && !written.rewires?.length) {
    findings.push({ severity: 'warning', code: 'pipelines.empty', path: [], message: `${file} declares no insertStages, addActions or rewires`, hint: 'add what cpsync should insert, or delete the file' });
  }
  return findings;
}

/**
 * Inputs must come from actions that run earlier (§10 rule 6). Within one stage cpsync declares,
 * that can be checked offline: an input produced by a sibling with the same or a higher runOrder,
 * or by the action itself, can never be available. Pure.
 */
function checkArtifactOrder(actions: readonly (WrittenAction | undefined)[], at: PathSegment[], stageName: string): Finding[] {
  const findings: Finding[] = [];
  const producers = new Map<string, WrittenAction>();
  for (const action of actions) for (const output of action?.outputArtifacts ?? []) if (action && !producers.has(output)) producers.set(output, action);
  actions.forEach((action, index) => {
    if (!action) return;
    (action.inputArtifacts ?? []).forEach((input, j) => {
      const producer = producers.get(input);
      if (!producer) return;
      const path = [...at, index, 'inputArtifacts', j];
      const order = action.runOrder ?? 1;
      const producerOrder = producer.runOrder ?? 1;
      if (producer === action) {
        findings.push({
          code: 'pipelines.artifact-order',
          path,
          message: `action ${JSON.stringify(action.name)} takes input artifact ${JSON.stringify(input)}, which it produces itself`,
          hint: 'an action can only consume artifacts of actions that ran before it; use a different input or output name',
        });
      } else if (producerOrder >= order) {
        findings.push({
          code: 'pipelines.artifact-order',
          path,
          message: `action ${JSON.stringify(action.name)} (runOrder ${order}) takes input artifact ${JSON.stringify(input)}, but ${JSON.stringify(producer.name)} in the same stage ${JSON.stringify(stageName)} produces it with runOrder ${producerOrder}, so it is not ready yet`,
          hint: `give ${JSON.stringify(action.name)} a runOrder above ${producerOrder}, e.g. runOrder: ${producerOrder + 1}`,
        });
      }
    });
  });
  return findings;
}

/** CodePipeline keeps this namespace for its own variables (#{codepipeline.PipelineExecutionId}). */
const RESERVED_NAMESPACE = 'codepipeline';

/** `ApiToken` → `API_TOKEN`: the environment variable a hint suggests for a secret. Pure. */
function envNameFor(key: string): string {
  const name = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .toUpperCase();
  return /^[A-Z_]/.test(name) ? name : `_${name}`;
}

/** A concrete fix for a malformed `type:` reference. Pure. */
function typeRefHint(ref: string, lookup: TypeLookup): string {
  const parts = ref.split('/');
  if (parts.length === 4 && parts[0] === 'Custom') return `drop the owner: write ${parts.slice(1).join('/')} (short references always name custom types)`;
  if (parts.length === 4 && (parts[0] === 'AWS' || parts[0] === 'ThirdParty')) {
    return `for ${parts[0]}-owned types write actionTypeId: { category: ${parts[1]}, owner: ${parts[0]}, provider: ${parts[2]}, version: "${parts[3]}" }`;
  }
  if (parts.length === 3) {
    const category = closestMatch(parts[0] ?? '', ACTION_CATEGORIES);
    if (category && category !== parts[0]) return `write ${[category, ...parts.slice(1)].join('/')}`;
  }
  const declared = lookup.declared.map((t) => formatTypeRef(t.id));
  const nearest = closestMatch(ref, declared);
  if (nearest) return `write ${nearest}`;
  return declared.length
    ? `write Category/Provider/Version, e.g. ${declared[0]} (for AWS-owned types use actionTypeId)`
    : 'write Category/Provider/Version, e.g. Build/My-Build-Provider-Name/1 (for AWS-owned types use actionTypeId)';
}

function pathFromLabel(label: string): PathSegment[] {
  return label.split(/\.|\[|\]/).filter(Boolean).map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

function checkAction(written: WrittenAction, path: PathSegment[], lookup: TypeLookup, inserted: boolean): Finding[] {
  const findings: Finding[] = [];
  if ((written.type === undefined) === (written.actionTypeId === undefined)) {
    findings.push({
      code: 'pipelines.action-type',
      path: written.type !== undefined ? [...path, 'actionTypeId'] : [...path, 'name'],
      message: written.type !== undefined ? `action ${JSON.stringify(written.name)} gives both type and actionTypeId` : `action ${JSON.stringify(written.name)} needs a type`,
      hint: 'write type: Category/Provider/Version for a custom type, or a full actionTypeId for an AWS-owned one',
    });
    return findings;
  }
  if (written.type !== undefined) {
    const ref = parseTypeRef(written.type);
    const problem = !ref
      ? 'is not of the form Category/Provider/Version'
      : !(ACTION_CATEGORIES as readonly string[]).includes(ref.category)
        ? `has category ${JSON.stringify(ref.category)}, not one of ${ACTION_CATEGORIES.join(', ')}${closestMatch(ref.category, ACTION_CATEGORIES) ? ` (did you mean "${closestMatch(ref.category, ACTION_CATEGORIES)}"?)` : ''}`
        : describeStringViolation(ref.provider, RULES.provider)
          ? `has provider ${JSON.stringify(ref.provider)}, which ${describeStringViolation(ref.provider, RULES.provider)}`
          : describeStringViolation(ref.version, RULES.version)
            ? `has version ${JSON.stringify(ref.version)}, which ${describeStringViolation(ref.version, RULES.version)}`
            : undefined;
    if (problem) {
      findings.push({ code: 'pipelines.type-ref', path: [...path, 'type'], message: `type ${JSON.stringify(written.type)} ${problem}`, hint: typeRefHint(written.type, lookup) });
      return findings;
    }
  }

  const action = normalizeAction(written);
  const id = action.actionTypeId;
  const typeField = written.type !== undefined ? 'type' : 'actionTypeId';

  if (inserted && id.category === 'Source') {
    findings.push({
      code: 'pipelines.source-outside-first',
      path: [...path, typeField],
      message: `action ${JSON.stringify(action.name)} is a Source action in an inserted stage; Source actions may only be in a pipeline's first stage`,
      hint: 'add source actions to the first stage with addActions instead',
    });
  }
  if (id.owner === 'Custom' && action.region !== undefined) {
    findings.push({ code: 'pipelines.custom-region', path: [...path, 'region'], message: `action ${JSON.stringify(action.name)} sets region ${JSON.stringify(action.region)}, but custom actions cannot be cross-Region`, hint: 'remove region: a custom action runs in the pipeline\'s Region' });
  }

  const type = findType(lookup, id);
  if (!type) {
    if (id.owner === 'Custom') {
      const siblings = lookup.declared.filter((t) => t.id.category === id.category && t.id.provider === id.provider).map((t) => t.id.version);
      const nearest = closestMatch(formatTypeRef(id), lookup.declared.map((t) => formatTypeRef(t.id)));
      findings.push({
        severity: siblings.length || nearest ? 'error' : 'warning',
        code: 'pipelines.unknown-type',
        path: [...path, typeField],
        message: siblings.length
          ? `action type ${formatTypeRef(id)} is not declared in ${lookup.actionsFile}; declared versions of ${id.category}/${id.provider}: ${siblings.join(', ')}`
          : nearest
            ? `action type ${formatTypeRef(id)} is not declared in ${lookup.actionsFile} (did you mean ${nearest}?)`
            : `action type ${formatTypeRef(id)} is not declared in ${lookup.actionsFile}, so its configuration cannot be checked offline`,
        hint: siblings.length
          ? `use a declared version (${siblings.map((v) => `${id.category}/${id.provider}/${v}`).join(', ')}), or declare version ${id.version} in ${lookup.actionsFile}`
          : nearest
            ? `write ${nearest}, or declare ${formatTypeRef(id)} in ${lookup.actionsFile}`
            : `declare it in ${lookup.actionsFile} (or \`cpsync import\` it) so cpsync can check and own it`,
      });
    }
    return [...findings, ...checkConfigurationValues(action, path, undefined)];
  }

  findings.push(...checkConfigurationValues(action, path, type.properties));

  for (const side of ['input', 'output'] as const) {
    const list = side === 'input' ? action.inputArtifacts : action.outputArtifacts;
    const details = side === 'input' ? type.inputArtifactDetails : type.outputArtifactDetails;
    // A type whose own counts are broken is reported in actions.yaml; measuring against it here
    // would only print nonsense such as "takes 2 to 1".
    if (details.minimumCount > details.maximumCount) continue;
    if (list.length < details.minimumCount || list.length > details.maximumCount) {
      const range = details.minimumCount === details.maximumCount ? `exactly ${details.minimumCount}` : `${details.minimumCount} to ${details.maximumCount}`;
      findings.push({
        code: 'pipelines.artifact-count',
        path: [...path, `${side}Artifacts`],
        message: `action ${JSON.stringify(action.name)} has ${list.length} ${side} artifact${list.length === 1 ? '' : 's'}, but ${formatTypeRef(id)} takes ${range}`,
        hint:
          list.length > details.maximumCount && id.owner === 'Custom'
            ? `remove the extra ${side} artifacts, or declare a new version of the type with ${side}ArtifactDetails.maximumCount: ${list.length}`
            : `give it ${range} ${side} artifacts`,
      });
    }
  }
  return findings;
}

function checkConfigurationValues(action: DesiredAction, path: PathSegment[], properties: readonly ConfigurationProperty[] | undefined): Finding[] {
  const findings: Finding[] = [];
  const at = (key: string, target: 'value' | 'key' = 'value'): Finding['path'] => [...path, 'configuration', key];

  for (const [key, value] of Object.entries(action.configuration)) {
    const keyProblem = describeStringViolation(key, RULES.configurationKey);
    if (keyProblem) findings.push({ code: 'pipelines.config-key', path: at(key), target: 'key', message: `configuration key ${JSON.stringify(key)} ${keyProblem}`, hint: stringRuleHint(key, RULES.configurationKey) });
    const references = envReferences(value);
    for (const name of references) {
      if (!ENV_NAME.test(name)) {
        findings.push({
          code: 'pipelines.env-reference',
          path: at(key),
          message: `configuration.${key} refers to \${env:${name}}, which is not a valid environment variable name`,
          hint: 'use letters, digits and _ , not starting with a digit, e.g. ${env:BUILD_TOKEN}',
        });
      }
    }
    if (!references.length) {
      const valueProblem = describeStringViolation(value, RULES.configurationValue);
      if (valueProblem) {
        findings.push({
          code: 'pipelines.config-value',
          path: at(key),
          message: `configuration.${key} ${valueProblem}`,
          hint: value.length
            ? `AWS takes configuration values of at most ${RULES.configurationValue.max} characters; move long content into a file in the input artifact and pass its path`
            : 'give it a value, or remove the key (AWS rejects empty configuration values)',
        });
      }
    }
    if (!properties) continue;
    const property = properties.find((candidate) => candidate.name === key);
    if (!property) {
      const names = properties.map((p) => p.name);
      const prefixed = names.filter((name) => key.length >= 4 && (name.toLowerCase().startsWith(key.toLowerCase()) || key.toLowerCase().startsWith(name.toLowerCase())));
      const match = closestMatch(key, names) ?? (prefixed.length === 1 ? prefixed[0] : undefined);
      findings.push({
        code: 'pipelines.unknown-config-key',
        path: at(key),
        target: 'key',
        message: `configuration key ${JSON.stringify(key)} is not a property of ${formatTypeRef(action.actionTypeId)}${match ? ` (did you mean "${match}"?)` : ''}`,
        hint: match ? `rename it to ${match}` : properties.length ? `its properties are: ${properties.map((p) => p.name).join(', ')}` : 'this action type takes no configuration',
      });
      continue;
    }
    if (property.secret && !references.length) {
      findings.push({
        code: 'pipelines.secret-literal',
        path: at(key),
        message: `configuration.${key} is a secret property of ${formatTypeRef(action.actionTypeId)} but is given as a literal value`,
        hint: `secrets must not sit in Git: write ${key}: \${env:${envNameFor(key)}} and set that variable where cpsync plan and apply run`,
      });
    }
    if (property.queryable && !references.length) {
      const problem = describeStringViolation(value, RULES.queryableConfigurationValue);
      if (problem) {
        const example = value.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, RULES.queryableConfigurationValue.max).replace(/^-+|-+$/g, '');
        findings.push({
          code: 'pipelines.queryable-value',
          path: at(key),
          message: `configuration.${key} ${JSON.stringify(value)} is queryable and ${problem}`,
          hint: `workers poll by this value, so AWS limits it to ${RULES.queryableConfigurationValue.max} letters, digits, '-' and '_'${example && example !== value ? `; e.g. ${JSON.stringify(example)}` : ''}`,
        });
      }
    }
  }
  if (properties) {
    for (const property of properties) {
      if (property.required && !(property.name in action.configuration)) {
        findings.push({
          code: 'pipelines.missing-config',
          path: Object.keys(action.configuration).length ? [...path, 'configuration'] : [...path, 'name'],
          message: `action ${JSON.stringify(action.name)} lacks required configuration key ${JSON.stringify(property.name)} of ${formatTypeRef(action.actionTypeId)}`,
          hint: `add configuration: { ${property.name}: <value> }`,
        });
      }
    }
  }
  return findings;
}

/** Rules across all pipeline files: two files must not insert the same thing into one pipeline. */
export function checkPipelineFilesTogether(files: readonly { file: string; written: SalvagedPipelineFile }[]): { file: string; finding: Finding }[] {
  const results: { file: string; finding: Finding }[] = [];
  const claims = new Map<string, string>();
  for (const { file, written } of files) {
    const desired = normalizePipelineFile(file, written);
    for (const selector of desired.selectors) {
      if (isPattern(selector)) continue;
      const claim = (key: string, path: PathSegment[], what: string) => {
        const previous = claims.get(key);
        if (previous && previous !== file) {
          results.push({
            file,
            finding: { code: 'pipelines.cross-file', path, message: `${what} in pipeline ${JSON.stringify(selector)} is also declared by ${previous}`, hint: 'declare it in one file only' },
          });
        } else claims.set(key, file);
      };
      desired.insertStages.forEach((stage, i) => claim(`${selector}\0stage\0${stage.name}`, ['insertStages', i, 'name'], `stage ${JSON.stringify(stage.name)}`));
      desired.addActions.forEach((group, i) =>
        group.actions.forEach((action, j) => claim(`${selector}\0action\0${group.stage}\0${action.name}`, ['addActions', i, 'actions', j, 'name'], `action ${group.stage}/${action.name}`)),
      );
      desired.rewires.forEach((rewire, i) => claim(`${selector}\0rewire\0${rewire.stage}\0${rewire.action}`, ['rewires', i, 'action'], `the rewire of ${rewire.stage}/${rewire.action}`));
    }
  }
  return results;
}
