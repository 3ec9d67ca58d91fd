// The desired state, normalized from what users wrote: every default filled in, every shorthand
// expanded. The planner compares this with what AWS returns (normalized the same way).

import type { ActionTypeDefinition, ActionTypeId, Tag } from './action-type.js';

export interface DesiredExecutor {
  readonly plugin: string;
  readonly options: Readonly<Record<string, unknown>>;
  /** Long runs (see docs/architecture.md): report the details link before the tool starts. */
  readonly detailsLinkFirst?: boolean;
  /** Milliseconds between progress reports of a running tool. */
  readonly progressIntervalMs?: number;
  /** Milliseconds without a report from a run's worker before the run is failed or restarted. */
  readonly ownerTimeoutMs?: number;
  /** Restarting the tool after its worker stopped is safe. */
  readonly restartable?: boolean;
}

export interface DesiredActionType {
  readonly definition: ActionTypeDefinition;
  readonly tags: readonly Tag[];
  readonly executor?: DesiredExecutor;
}

export interface DesiredAction {
  readonly name: string;
  readonly actionTypeId: ActionTypeId;
  /** Values as written: may hold `${env:NAME}` references, resolved at plan time. */
  readonly configuration: Readonly<Record<string, string>>;
  readonly inputArtifacts: readonly string[];
  readonly outputArtifacts: readonly string[];
  /** AWS fills in 1 when runOrder is absent. */
  readonly runOrder: number;
  readonly region?: string;
  readonly namespace?: string;
  readonly roleArn?: string;
}

export type StagePlacement = { readonly before: string } | { readonly after: string };

export interface DesiredInsertStage {
  readonly name: string;
  readonly placement: StagePlacement;
  readonly actions: readonly DesiredAction[];
}

export interface DesiredAddActions {
  readonly stage: string;
  readonly actions: readonly DesiredAction[];
}

export interface DesiredRewire {
  readonly stage: string;
  readonly action: string;
  readonly inputArtifacts: readonly string[];
}

export interface DesiredPipelineFile {
  /** Path relative to the working directory. */
  readonly file: string;
  /** Pipeline names or patterns (`*`, `?`) this file applies to. */
  readonly selectors: readonly string[];
  readonly insertStages: readonly DesiredInsertStage[];
  readonly addActions: readonly DesiredAddActions[];
  readonly rewires: readonly DesiredRewire[];
}

/** `${env:NAME}` references inside a configuration value. */
export const ENV_REFERENCE = /\$\{env:([^}]*)\}/g;
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function envReferences(value: string): string[] {
  return [...value.matchAll(ENV_REFERENCE)].map((match) => match[1] ?? '');
}

/** Whether a selector is a pattern rather than one pipeline name. */
export function isPattern(selector: string): boolean {
  return /[*?]/.test(selector);
}

/** Matches a pipeline name against a selector with `*` and `?` wildcards. Pure. */
export function matchesSelector(selector: string, name: string): boolean {
  if (!isPattern(selector)) return selector === name;
  const pattern = selector.replace(/[.+^${}()|[\]\\@-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${pattern}$`).test(name);
}
