// The plan as a pull-request comment (`cpsync plan --format markdown`): a hidden marker so CI can
// patch one comment in place (as tfcmt does), a heading with the summary, errors and warnings
// first, then per target a table of changes with their reasons, the stage order of each touched
// pipeline, and the before/after JSON of each change folded in <details>. GitHub rejects comments
// over 65,536 characters, so a long plan is cut by whole sections (first the before/after
// details, then whole changes, from the end) and says what it left out. Values arrive masked;
// nothing is added. Pure.

import type { Json } from '../model/pipeline.js';
import { onlyOwnershipTags } from '../plan/summary.js';
import type { ActionTypePlan, Change, PipelinePlan, Plan, PlanError, PlanWarning, TargetPlan } from '../plan/types.js';
import { ACTION_SYMBOLS, ACTION_VERBS, changedValues, describeCounts, describeReasons, hasChanges, parseStageMark, plural, stageOrderChanged, type RenderedAction } from './plan-words.js';

export const PLAN_COMMENT_MARKER = '<!-- cpsync-plan -->';

/** GitHub's limit is 65,536 characters per comment; stay below it with some room to spare. */
export const DEFAULT_MARKDOWN_LIMIT = 65_000;

export interface PlanMarkdownOptions {
  /** Longest output allowed (default 65,000), counted in UTF-8 bytes: never fewer than characters,
   *  so the limit holds however the receiving end counts. */
  readonly maxLength?: number;
}

/** How much of the plan one rendering shows; a renderer pass with fewer shown is shorter. */
interface Budget {
  /** Changes (in document order) whose before/after JSON is shown. */
  readonly details: number;
  /** Changes (in document order) listed at all; a section that does not fit whole is left out. */
  readonly rows: number;
  readonly errors: number;
  readonly warnings: number;
}

export function renderPlanMarkdown(plan: Plan, options: PlanMarkdownOptions = {}): string {
  const limit = options.maxLength ?? DEFAULT_MARKDOWN_LIMIT;
  const totals = countItems(plan);
  const full: Budget = { details: totals.changes, rows: totals.changes, errors: totals.errors, warnings: totals.warnings };
  const whole = renderWithBudget(plan, full, totals);
  if (size(whole) <= limit) return whole;

  // Cut in order of least value to a reviewer: before/after details, then whole changes from the
  // end, then warnings, then errors. Each step keeps as much as fits.
  let budget: Budget = { ...full, details: largest(totals.changes, (n) => fits(plan, { ...full, details: n }, totals, limit)) };
  if (fits(plan, budget, totals, limit)) return renderWithBudget(plan, budget, totals);
  budget = { ...budget, details: 0, rows: largest(totals.changes, (n) => fits(plan, { ...full, details: 0, rows: n }, totals, limit)) };
  if (fits(plan, budget, totals, limit)) return renderWithBudget(plan, budget, totals);
  budget = { ...budget, rows: 0, warnings: largest(totals.warnings, (n) => fits(plan, { details: 0, rows: 0, errors: totals.errors, warnings: n }, totals, limit)) };
  if (fits(plan, budget, totals, limit)) return renderWithBudget(plan, budget, totals);
  budget = { ...budget, warnings: 0, errors: largest(totals.errors, (n) => fits(plan, { details: 0, rows: 0, errors: n, warnings: 0 }, totals, limit)) };
  const text = renderWithBudget(plan, budget, totals);
  // Only a heading longer than the limit gets here (a tiny maxLength); never exceed it.
  return size(text) <= limit ? text : `${Buffer.from(text).subarray(0, Math.max(0, limit - 4)).toString('utf8').replace(/\uFFFD$/, '')}\n`;
}

function size(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function fits(plan: Plan, budget: Budget, totals: Totals, limit: number): boolean {
  return size(renderWithBudget(plan, budget, totals)) <= limit;
}

/** The largest n in [0, max] for which ok(n) holds (ok is monotonic: true up to some n); 0 when none. */
function largest(max: number, ok: (n: number) => boolean): number {
  let low = 0;
  let high = max;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (ok(middle)) low = middle;
    else high = middle - 1;
  }
  return low;
}

interface Totals {
  readonly changes: number;
  readonly errors: number;
  readonly warnings: number;
}

/** A change as listed: a real Change, a blocked deletion, or a pipeline whose ownership tags change. */
type Row =
  | { readonly kind: 'change'; readonly change: Change }
  | { readonly kind: 'blocked'; readonly type: ActionTypePlan }
  | { readonly kind: 'ownership-tags'; readonly pipeline: PipelinePlan };

function typeRows(target: TargetPlan): Row[] {
  return target.actionTypes.flatMap((type): Row[] => [
    ...visible(type.changes).map((change): Row => ({ kind: 'change', change })),
    ...(type.blockedBy?.length ? [{ kind: 'blocked', type } as const] : []),
  ]);
}

function pipelineRows(pipeline: PipelinePlan): Row[] {
  const changes = visible(pipeline.changes);
  if (!changes.length && onlyOwnershipTags(pipeline)) return [{ kind: 'ownership-tags', pipeline }];
  return changes.map((change) => ({ kind: 'change', change }));
}

function visible(changes: readonly Change[]): Change[] {
  return changes.filter((change) => change.action !== 'no-op');
}

function countItems(plan: Plan): Totals {
  let changes = 0;
  for (const target of plan.targets) changes += typeRows(target).length + target.pipelines.reduce((sum, pipeline) => sum + pipelineRows(pipeline).length, 0);
  return {
    changes,
    errors: plan.targets.reduce((sum, target) => sum + target.errors.length, 0),
    warnings: plan.targets.reduce((sum, target) => sum + target.warnings.length, 0),
  };
}

// ----------------------------------------------------------------------------------------------
// One rendering under a budget

function renderWithBudget(plan: Plan, budget: Budget, totals: Totals): string {
  const out: string[] = [PLAN_COMMENT_MARKER, `## ${heading(plan)}`, ''];
  const several = plan.targets.length > 1;

  const errors = plan.targets.flatMap((target) => target.errors.map((error) => ({ target, error })));
  if (errors.length) {
    out.push('> [!CAUTION]', `> **${plural(errors.length, 'error')}**: nothing is applied for the items with errors.`, '>');
    for (const { target, error } of errors.slice(0, budget.errors)) out.push(...quote(errorItem(error, several ? target : undefined)));
    out.push('');
  }
  const warnings = plan.targets.flatMap((target) => target.warnings.map((warning) => ({ target, warning })));
  if (warnings.length) {
    out.push('> [!WARNING]');
    for (const { target, warning } of warnings.slice(0, budget.warnings)) out.push(...quote(warningItem(warning, several ? target : undefined)));
    if (budget.warnings === 0) out.push(`> ${plural(warnings.length, 'warning')}, left out to fit (see the note below).`);
    out.push('');
  }
  if (!hasChanges(plan.summary) && !plan.summary.errors) out.push(several ? 'The accounts match the configuration.' : 'The account matches the configuration.', '');

  const counter: Counter = { index: 0, listed: 0, listedChanges: 0, detailed: 0 };
  for (const target of plan.targets) out.push(...renderTarget(target, budget, counter));

  const left = {
    rows: totals.changes - counter.listed,
    // Only listed changes count here: blocked deletions and ownership-tag rows have no details.
    details: counter.listedChanges - counter.detailed,
    errors: totals.errors - Math.min(budget.errors, totals.errors),
    warnings: totals.warnings - Math.min(budget.warnings, totals.warnings),
  };

  if (left.rows || left.details || left.errors || left.warnings) {
    const parts = [
      left.rows ? `${left.rows} of ${plural(totals.changes, 'change')}` : '',
      left.details ? `the before/after details of ${left.rows ? `${left.details} more` : plural(left.details, 'change')}` : '',
      left.warnings ? plural(left.warnings, 'warning') : '',
      left.errors ? plural(left.errors, 'error') : '',
    ].filter(Boolean);
    out.push(
      '> [!NOTE]',
      `> This plan is too long for one comment. Left out: ${joinWords(parts)}. The counts above include everything; see the full plan in the job log or the plan artifact (\`cpsync plan --format json\`).`,
      '',
    );
  }
  out.push(`<sub>cpsync ${escapeText(plan.cpsyncVersion)} · planned ${escapeText(plan.createdAt)}</sub>`);
  return `${out.join('\n')}\n`;
}

function heading(plan: Plan): string {
  const errors = plan.summary.errors ? `, ${plural(plan.summary.errors, 'error')}` : '';
  if (!hasChanges(plan.summary) && !plan.summary.errors) return 'cpsync plan: no changes';
  return `cpsync plan: ${describeCounts(plan.summary)}${errors}`;
}

/** Position in the document's changes, and how many were listed and given details so far. */
interface Counter {
  index: number;
  listed: number;
  listedChanges: number;
  detailed: number;
}

function renderTarget(target: TargetPlan, budget: Budget, counter: Counter): string[] {
  const out: string[] = [`### Target \`${target.target}\` · ${escapeText(target.region)}${target.accountId ? ` · account ${escapeText(target.accountId)}` : ''}`, ''];
  const details: string[] = [];
  let listed = 0;
  let cut = 0;

  /** Table rows for `rows` within the budget; details collected for after the table. */
  const table = (rows: readonly Row[]): string[] => {
    const first = counter.index;
    counter.index += rows.length;
    // Whole sections only: a pipeline is shown with all its changes or not at all.
    if (first + rows.length > budget.rows) {
      cut += rows.length;
      return [];
    }
    const lines = rows.map((row) => tableRow(row));
    rows.forEach((row, offset) => {
      if (row.kind === 'change' && first + offset < budget.details) {
        details.push('', ...detailsBlock(row.change));
        counter.detailed++;
      }
    });
    listed += lines.length;
    counter.listed += lines.length;
    counter.listedChanges += rows.filter((row) => row.kind === 'change').length;
    return lines.length ? ['| | Change | Why | Changed |', '|:-:|---|---|---|', ...lines] : [];
  };
  const flushDetails = (): string[] => {
    const lines = [...details];
    details.length = 0;
    return lines;
  };

  const types = table(typeRows(target));
  if (types.length) out.push('**Action types**', '', ...types, ...flushDetails(), '');

  const unchanged: string[] = [];
  const failed = (pipeline: PipelinePlan) => target.errors.some((error) => error.address === pipeline.address || error.address.startsWith(`${pipeline.address}/`));
  for (const pipeline of target.pipelines) {
    const rows = pipelineRows(pipeline);
    if (!rows.length) {
      if (!failed(pipeline)) unchanged.push(pipeline.name);
      continue;
    }
    const lines = table(rows);
    if (!lines.length) continue; // the whole section is cut
    out.push(`**Pipeline \`${pipeline.name}\`** (version ${pipeline.observedVersion})`, '', ...stageOrder(pipeline), '', ...lines, ...flushDetails(), '');
  }

  const names = unchanged.map((name) => `\`${name}\``).join(', ');
  if (!listed && !cut && !target.errors.length) out.push(unchanged.length ? `No changes in ${plural(unchanged.length, 'pipeline')} (${names}).` : 'No changes.', '');
  else if (unchanged.length) out.push(`Unchanged: ${plural(unchanged.length, 'pipeline')} (${names}).`, '');
  if (cut && !listed) out.push(`_${plural(cut, 'change')} left out (see the note below)._`, '');
  return out;
}

function stageOrder(pipeline: PipelinePlan): string[] {
  const after = `Stages: ${pipeline.stagesAfter
    .map((entry) => {
      const { mark, name } = parseStageMark(entry);
      if (mark === '+') return `**\`+ ${name}\`**`;
      if (mark === '-') return `~~\`- ${name}\`~~`;
      return `\`${name}\``;
    })
    .join(' → ')}`;
  if (!stageOrderChanged(pipeline.stagesBefore, pipeline.stagesAfter)) return [after];
  return [`${after}<br>`, `Before: ${pipeline.stagesBefore.map((name) => `\`${name}\``).join(' → ')}`];
}

const INLINE_VALUE_MAX = 80;

function tableRow(row: Row): string {
  const cells = (symbol: string, verb: string, address: string, why: string, changed: string) => `| \`${symbol}\` ${verb} | \`${address}\` | ${why} | ${changed} |`;
  switch (row.kind) {
    case 'change': {
      const action = row.change.action as RenderedAction;
      // Short values are shown inline; long ones are in the details below the table.
      const paths = changedValues(row.change)
        .map(({ path, text }) => `\`${cellCode(path)}\`${text.length <= INLINE_VALUE_MAX ? `: ${cellText(text)}` : ''}`)
        .join('<br>');
      return cells(ACTION_SYMBOLS[action], ACTION_VERBS[action], row.change.address, describeReasons(row.change).map(cellText).join('<br>'), paths);
    }
    case 'blocked':
      return cells('!', 'deletion blocked', row.type.address, cellText(`no longer declared, but still used by ${(row.type.blockedBy ?? []).join(', ')}; kept until nothing uses it`), '');
    case 'ownership-tags':
      return cells(ACTION_SYMBOLS.tag, ACTION_VERBS.tag, row.pipeline.address, cellText("cpsync's ownership record (tags) is out of date"), [...row.pipeline.tagsToSet.map((tag) => tag.key), ...row.pipeline.tagKeysToRemove].map((key) => `\`${cellCode(key)}\``).join('<br>'));
  }
}

function detailsBlock(change: Change): string[] {
  // In the planner's order (AWS's: name first), which reads better than sorted keys.
  const body: Record<string, Json> = {};
  if (change.before !== undefined) body.before = change.before;
  if (change.after !== undefined) body.after = change.after;
  const json = JSON.stringify(body, null, 2);
  const fence = '`'.repeat(Math.max(3, longestRun(json, '`') + 1));
  const action = change.action as RenderedAction;
  return [`<details><summary>${escapeHtml(ACTION_SYMBOLS[action])} <code>${escapeHtml(change.address)}</code>: before and after</summary>`, '', `${fence}json`, json, fence, '', '</details>'];
}

function errorItem(error: PlanError, target?: TargetPlan): string[] {
  const where = `${target ? `${escapeText(target.target)} · ` : ''}\`${error.address}\``;
  const lines = [`- ${where}: ${escapeText(error.message)} (\`${error.code}\`)`];
  if (error.hint) lines.push(`  _Hint:_ ${escapeText(error.hint)}`);
  return lines;
}

function warningItem(warning: PlanWarning, target?: TargetPlan): string[] {
  return [`- ${target ? `${escapeText(target.target)} · ` : ''}\`${warning.address}\`: ${escapeText(warning.message)}`];
}

function quote(lines: readonly string[]): string[] {
  // A hint continues its list item on the next line: a trailing <br> keeps it a separate line.
  return lines.map((line, index) => `> ${line}${index < lines.length - 1 ? '<br>' : ''}`);
}

// ----------------------------------------------------------------------------------------------
// Escaping: messages are prose with `code` spans; names and values must not become markup.

/** Escapes markup outside `code` spans: `<` would start HTML (`<n>` vanishes), `*`/`_` emphasis. */
export function escapeText(text: string): string {
  return text
    .replace(/\r?\n/g, ' ')
    .split(/(`[^`]*`)/)
    .map((part, index) => (index % 2 === 1 ? part : part.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/([*_\\[\]])/g, '\\$1')))
    .join('');
}

function cellText(text: string): string {
  return escapeText(text).replace(/\|/g, '\\|');
}

function cellCode(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/`/g, "'");
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function longestRun(text: string, char: string): number {
  let longest = 0;
  let current = 0;
  for (const c of text) {
    current = c === char ? current + 1 : 0;
    longest = Math.max(longest, current);
  }
  return longest;
}

function joinWords(parts: readonly string[]): string {
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}
