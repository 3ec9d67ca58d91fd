import { hasErrors } from '../../config/problems.js';
import { loadProject } from '../../config/load.js';
import { choosePalette } from '../../render/palette.js';
import { renderProblems } from '../../render/problems.js';
import { buildPolicy, POLICY_ROLES, type PolicyRole } from '../../iam/policy.js';
import { POLICY_FORMATS, renderPolicy } from '../../iam/render.js';
import { resolvePolicyScope } from '../../iam/scope.js';
import { CpsyncError } from '../../util/errors.js';
import { closestMatch } from '../../util/suggest.js';
import { booleanFlag, stringFlag } from '../parse-args.js';
import type { CommandContext } from '../spec.js';

/** An IAM role ARN, possibly with wildcards in the name (`arn:aws:iam::111122223333:role/pipeline-*`). */
const ROLE_ARN = /^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role\/[\w+=,.@/*?-]+$/;

export async function runIamPolicy(context: CommandContext): Promise<number> {
  const role = parseRole(stringFlag(context.args, 'for'));
  const format = stringFlag(context.args, 'format') ?? 'json';
  if (!isOneOf(POLICY_FORMATS, format)) {
    throw new CpsyncError('cli.bad-flag-value', `--format must be json or yaml, got ${JSON.stringify(format)}`);
  }
  const passRoles = (context.args.flags['pass-role'] as string[] | undefined) ?? [];
  const allowDeleteUndeclared = booleanFlag(context.args, 'allow-delete-undeclared');
  if (role === 'worker' && (passRoles.length || allowDeleteUndeclared)) {
    throw new CpsyncError('cli.bad-flag-value', `--${passRoles.length ? 'pass-role' : 'allow-delete-undeclared'} only applies to --for deployer`, {
      hint: 'the worker passes no role and deletes nothing; leave the flag out',
    });
  }
  for (const arn of passRoles) {
    if (!ROLE_ARN.test(arn)) {
      throw new CpsyncError('cli.bad-flag-value', `--pass-role must be an IAM role ARN, got ${JSON.stringify(arn)}`, { hint: 'write e.g. --pass-role arn:aws:iam::111122223333:role/MyPipelineRole' });
    }
  }

  const project = await loadProject({ cwd: context.cwd, configFile: stringFlag(context.args, 'config') });
  if (hasErrors(project.problems)) {
    context.stderr.write(renderProblems(project.problems.filter((problem) => problem.severity === 'error'), choosePalette({ interactive: false, env: context.env })));
    throw new CpsyncError('config.invalid', 'the configuration has errors; no policy was written', { hint: 'fix them (see `cpsync validate`) and run it again' });
  }
  const wanted = stringFlag(context.args, 'target');
  const target = wanted ? project.settings.targets.find((candidate) => candidate.name === wanted) : project.settings.targets[0];
  if (!target) throw new CpsyncError('cli.unknown-target', `unknown target ${JSON.stringify(wanted)}`, { hint: `configured targets: ${project.settings.targets.map((t) => t.name).join(', ')}` });

  const { scope, notes: scopeNotes } = resolvePolicyScope({ account: stringFlag(context.args, 'account'), region: stringFlag(context.args, 'region'), target, env: context.env });
  const { document, notes } = buildPolicy(role, project, { scope, passRoles, allowDeleteUndeclared });
  for (const note of [...scopeNotes, ...notes]) context.stderr.write(`note: ${note}\n`);
  context.stdout.write(renderPolicy(document, format));
  return 0;
}

function parseRole(given: string | undefined): PolicyRole {
  if (given === undefined) {
    throw new CpsyncError('cli.missing-flag', '--for is required: deployer (plan/apply) or worker', { hint: 'write `cpsync iam-policy --for deployer` or `cpsync iam-policy --for worker`' });
  }
  if (isOneOf(POLICY_ROLES, given)) return given;
  const match = closestMatch(given, POLICY_ROLES);
  throw new CpsyncError('cli.bad-flag-value', `--for must be deployer or worker, got ${JSON.stringify(given)}${match ? ` (did you mean ${match}?)` : ''}`);
}

function isOneOf<T extends string>(choices: readonly T[], value: string): value is T {
  return (choices as readonly string[]).includes(value);
}
