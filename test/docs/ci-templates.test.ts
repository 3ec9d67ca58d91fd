import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { PLAN_COMMENT_MARKER } from '../../src/render/plan-markdown.js';
import { checkInvocation, findCpsyncInvocations, type CheckedInvocation } from '../helpers/cpsync-invocations.js';

type Node = Record<string, unknown>;

function read(name: string): { text: string; doc: Node } {
  const text = readFileSync(new URL(`../../docs/ci/${name}`, import.meta.url), 'utf8');
  return { text, doc: parse(text) as Node };
}

function object(value: unknown, what: string): Node {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `${what} is a mapping`);
  return value as Node;
}

function lines(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

interface Found extends CheckedInvocation {
  readonly where: string;
}

/** Every cpsync command in the scripts, parsed as the CLI would; fails on any the CLI would refuse. */
function cpsyncCommands(scripts: readonly { where: string; script: string }[]): Found[] {
  const found = scripts.flatMap(({ where, script }) => findCpsyncInvocations(script).map((invocation) => ({ where, ...checkInvocation(invocation) })));
  assert.deepEqual(found.flatMap((one) => (one.problem ? [`${one.where}: ${one.problem}`] : [])), [], 'every cpsync command and flag exists');
  return found;
}

function named(found: readonly Found[], command: string): Found[] {
  return found.filter((one) => one.command?.name === command);
}

function assertNoStoredKeys(text: string): void {
  assert.doesNotMatch(text, /AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|aws-secret-access-key|aws-access-key-id|secrets\.AWS_/i);
}

describe('docs/ci/github-actions.yml', () => {
  const { text, doc } = read('github-actions.yml');
  const on = object(doc.on, 'on');
  const jobs = object(doc.jobs, 'jobs');
  const plan = object(jobs.plan, 'jobs.plan');
  const apply = object(jobs.apply, 'jobs.apply');
  const steps = (job: Node) => (job.steps as Node[]).map((step) => object(step, 'a step'));
  const runs = (name: string, job: Node) => steps(job).flatMap((step, index) => (typeof step.run === 'string' ? [{ where: `jobs.${name}.steps[${index}]`, script: step.run }] : []));

  it('plans on pull requests and applies on pushes to main', () => {
    assert.ok(on.pull_request !== undefined, 'on.pull_request');
    assert.deepEqual(object(on.push, 'on.push').branches, ['main']);
    assert.match(String(plan.if), /github\.event_name == 'pull_request'/);
    assert.match(String(apply.if), /github\.ref == 'refs\/heads\/main'/);
    assert.match(String(apply.if), /github\.event_name == 'push'/);
  });

  it('asks for the least permissions: an OIDC token, no stored keys', () => {
    assert.deepEqual(doc.permissions, {}, 'nothing by default');
    assert.deepEqual(plan.permissions, { contents: 'read', 'id-token': 'write', 'pull-requests': 'write' });
    assert.deepEqual(apply.permissions, { contents: 'read', 'id-token': 'write' });
    for (const [name, job] of [['plan', plan], ['apply', apply]] as const) {
      const all = steps(job);
      const login = all.findIndex((step) => String(step.uses).startsWith('aws-actions/configure-aws-credentials@'));
      assert.ok(login >= 0, `${name} logs in with configure-aws-credentials`);
      const inputs = object(all[login]?.with, `${name} configure-aws-credentials inputs`);
      assert.match(String(inputs['role-to-assume']), /^\$\{\{ vars\.\w+ \}\}$/, 'the role comes from a variable, not a secret');
      assert.ok(inputs['aws-region']);
      const firstPlan = all.findIndex((step) => typeof step.run === 'string' && /cpsync plan/.test(step.run));
      assert.ok(login < firstPlan, `${name} logs in before it plans`);
    }
    assertNoStoredKeys(text);
  });

  it('plans a pull request in markdown, for the step summary and one comment updated in place', () => {
    const planned = named(cpsyncCommands(runs('plan', plan)), 'plan');
    assert.equal(planned.length, 1);
    assert.equal(planned[0]?.args?.flags.format, 'markdown');
    assert.equal(planned[0]?.args?.flags['detailed-exitcode'], true);
    assert.equal(named(cpsyncCommands(runs('plan', plan)), 'apply').length, 0, 'a pull request never applies');
    // cpsync appends to $GITHUB_STEP_SUMMARY itself: no step needs to.
    assert.doesNotMatch(text, />>\s*"?\$GITHUB_STEP_SUMMARY/);

    const planStep = steps(plan).find((step) => typeof step.run === 'string' && /cpsync plan/.test(step.run));
    assert.match(String(planStep?.run), /> plan\.md/);
    assert.match(String(planStep?.run), /-eq 1 \]; then exit 1/, 'exit code 2 (changes) is not a failure, 1 is');

    const comment = steps(plan).find((step) => String(step.uses).startsWith('actions/github-script@'));
    const script = String(object(comment?.with, 'github-script inputs').script);
    assert.ok(script.includes(`'${PLAN_COMMENT_MARKER}'`), `the comment is found by ${PLAN_COMMENT_MARKER}`);
    assert.match(script, /readFileSync\('plan\.md'/);
    assert.match(script, /updateComment/);
    assert.match(script, /createComment/);
    assert.match(String(comment?.if), /always\(\)/, 'a plan with errors is shown too');
    assert.deepEqual(plan.concurrency, { group: 'cpsync-plan-${{ github.event.pull_request.number }}', 'cancel-in-progress': true });
  });

  it('applies on main exactly the plan it saved, one apply at a time', () => {
    const found = cpsyncCommands(runs('apply', apply));
    const [saved] = named(found, 'plan');
    const out = saved?.args?.flags.out;
    assert.equal(typeof out, 'string', 'cpsync plan --out FILE');
    assert.equal(saved?.args?.flags['detailed-exitcode'], true);
    const applied = named(found, 'apply');
    assert.equal(applied.length, 1);
    assert.deepEqual(applied[0]?.args?.positionals, [out], 'cpsync apply <the saved plan>');
    assert.equal(applied[0]?.args?.flags['auto-approve'], undefined, 'a plan file needs no --auto-approve');

    const applyStep = steps(apply).find((step) => typeof step.run === 'string' && /cpsync apply/.test(step.run));
    const planStep = steps(apply).find((step) => typeof step.run === 'string' && /cpsync plan/.test(step.run));
    assert.match(String(applyStep?.if), new RegExp(`steps\\.${String(planStep?.id)}\\.outputs\\.exitcode == '2'`), 'applies only when there are changes');
    assert.match(String(planStep?.run), /exitcode=\$code" >> "\$GITHUB_OUTPUT"/);

    const concurrency = object(apply.concurrency, 'jobs.apply.concurrency');
    assert.equal(typeof concurrency.group, 'string');
    assert.doesNotMatch(String(concurrency.group), /\$\{\{/, 'one group for every run, so two applies never race');
    assert.equal(concurrency['cancel-in-progress'], false, 'an apply is never cancelled half-way');
  });
});

describe('docs/ci/gitlab-ci.yml', () => {
  const { text, doc } = read('gitlab-ci.yml');

  /** A job with `extends` merged in (one level deep, as the template uses it). */
  function job(name: string): Node {
    const own = object(doc[name], name);
    const bases = lines(own.extends).map((base) => object(doc[base], base));
    return Object.assign({}, ...bases, own) as Node;
  }
  const scripts = (name: string) =>
    (['before_script', 'script', 'after_script'] as const).flatMap((key) => lines(job(name)[key]).map((script, index) => ({ where: `${name}.${key}[${index}]`, script })));
  const plan = job('plan');
  const apply = job('apply');

  it('plans merge requests and applies the default branch', () => {
    assert.deepEqual(doc.stages, ['plan', 'apply']);
    assert.match(String(object((plan.rules as unknown[])[0], 'plan rule').if), /\$CI_PIPELINE_SOURCE == "merge_request_event"/);
    assert.match(String(object((apply.rules as unknown[])[0], 'apply rule').if), /\$CI_COMMIT_BRANCH == \$CI_DEFAULT_BRANCH/);
  });

  it("gets AWS credentials from GitLab's OIDC ID token, no stored keys", () => {
    for (const [name, one] of [['plan', plan], ['apply', apply]] as const) {
      const tokens = object(one.id_tokens, `${name}.id_tokens`);
      const [variable, settings] = Object.entries(tokens)[0] ?? [];
      assert.ok(variable && object(settings, 'the ID token').aud, `${name} asks for an ID token with an audience`);
      const shell = scripts(name).map((entry) => entry.script).join('\n');
      const viaSdk = shell.includes(`"$${variable}" > "$AWS_WEB_IDENTITY_TOKEN_FILE"`) && /export AWS_ROLE_ARN=/.test(shell);
      const viaCli = /aws sts assume-role-with-web-identity/.test(shell) && shell.includes(`$${variable}`);
      assert.ok(viaSdk || viaCli, `${name} exchanges $${variable} for credentials`);
      assert.ok(String(object(one.variables, `${name}.variables`).CPSYNC_ROLE_ARN).startsWith('$'), `${name} names its role through a variable`);
    }
    assert.notEqual(object(plan.variables, 'plan.variables').CPSYNC_ROLE_ARN, object(apply.variables, 'apply.variables').CPSYNC_ROLE_ARN, 'plan and apply use different roles');
    assertNoStoredKeys(text);
  });

  it('plans a merge request in markdown, kept as an artifact and optionally as one comment', () => {
    const found = cpsyncCommands(scripts('plan'));
    const planned = named(found, 'plan');
    assert.equal(planned.length, 1);
    assert.equal(planned[0]?.args?.flags.format, 'markdown');
    assert.equal(planned[0]?.args?.flags['detailed-exitcode'], true);
    assert.equal(named(found, 'apply').length, 0, 'a merge request never applies');
    assert.deepEqual(object(plan.artifacts, 'plan.artifacts').paths, ['plan.md']);
    const after = lines(plan.after_script).join('\n');
    assert.ok(after.includes(`"${PLAN_COMMENT_MARKER}"`), `the comment is found by ${PLAN_COMMENT_MARKER}`);
    assert.match(after, /method: previous \? "PUT" : "POST"/, 'updated in place');
  });

  it('applies on the default branch exactly the plan it saved, one apply at a time', () => {
    const found = cpsyncCommands(scripts('apply'));
    const [saved] = named(found, 'plan');
    const out = saved?.args?.flags.out;
    assert.equal(typeof out, 'string');
    assert.equal(saved?.args?.flags['detailed-exitcode'], true);
    const applied = named(found, 'apply');
    assert.equal(applied.length, 1);
    assert.deepEqual(applied[0]?.args?.positionals, [out]);
    assert.match(lines(apply.script).join('\n'), /if \[ "\$code" -eq 2 \]; then npx cpsync apply/);
    assert.equal(typeof apply.resource_group, 'string', 'resource_group: one apply at a time');
    assert.equal(apply.interruptible, false);
  });
});
