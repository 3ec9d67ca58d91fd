// The policies cannot silently drift from the code: every AWS operation cpsync's own SDK adapters
// send is read from the source (the `new <sdk>.<Operation>Command(` calls) and must be allowed by
// the matching policy; and every action a policy allows must be one the code calls (or PassRole,
// which IAM checks on UpdatePipeline's roleArn without a call of its own).

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { DesiredActionType } from '../../src/model/desired.js';
import { scopeFor } from '../../src/iam/arns.js';
import { buildDeployerPolicy, buildWorkerPolicy, type PolicyDocument, type PolicyRole } from '../../src/iam/policy.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Which identity runs the calls of each file. A new file that sends AWS calls must be added. */
const ROLE_OF_FILE: Readonly<Record<string, PolicyRole>> = {
  'aws/codepipeline-api.ts': 'deployer',
  'aws/jobs-api.ts': 'worker',
};
/** Files whose calls no cpsync identity makes against a real account. */
const EXEMPT: Readonly<Record<string, string>> = {
  'cli/commands/demo.ts': 'runs only against the embedded local endpoint',
};
const EXEMPT_DIRS = ['emulator/'];
/** Calls made with the per-job artifact credentials CodePipeline hands out, not the worker's role. */
const JOB_CREDENTIAL_FILES = ['worker/artifacts/s3-transfer.ts'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [relative(SRC, path)] : [];
  });
}

/** `codepipeline:ListActionTypes` for every `new sdk.ListActionTypesCommand(` whose `sdk` is `await import('@aws-sdk/client-codepipeline')`. */
function operationsIn(text: string): string[] {
  const services = new Map<string, string>();
  for (const match of text.matchAll(/(?:const|let)\s+(\w+)\s*=\s*await import\('@aws-sdk\/client-([a-z0-9-]+)'\)/g)) services.set(match[1] as string, match[2] as string);
  return [...text.matchAll(/new (\w+)\.(\w+)Command\(/g)].map((match) => {
    const service = services.get(match[1] as string);
    assert.ok(service, `cannot tell which SDK "${match[1]}" is in new ${match[1]}.${match[2]}Command(`);
    return `${service}:${match[2]}`;
  });
}

const sendsAwsCalls = (text: string) => /@aws-sdk\/client-/.test(text) && /Command\(/.test(text);

const calledBy = (role: PolicyRole) =>
  [...new Set(Object.entries(ROLE_OF_FILE).filter(([, r]) => r === role).flatMap(([file]) => operationsIn(readFileSync(join(SRC, file), 'utf8'))))].sort();

const allowed = (document: PolicyDocument) => [...new Set(document.Statement.flatMap((statement) => statement.Action))].sort();

const aType = (provider: string, executor: boolean): DesiredActionType => ({
  definition: { category: 'Build', provider, version: '1', configurationProperties: [], inputArtifactDetails: { minimumCount: 0, maximumCount: 1 }, outputArtifactDetails: { minimumCount: 0, maximumCount: 1 } },
  tags: [],
  ...(executor ? { executor: { plugin: 'command', options: {} } } : {}),
});
// A project that exercises every statement.
const project = {
  actionTypes: [aType('A', true), aType('B', false)],
  pipelineFiles: [{ file: 'pipelines/p.yaml', selectors: ['P', 'svc-*'], insertStages: [], addActions: [], rewires: [] }],
};
const scope = scopeFor('us-east-1', '111122223333');

describe('the policies match the calls the code makes', () => {
  it('knows which identity makes the calls of every file that sends AWS calls', () => {
    const unclassified = sourceFiles(SRC).filter(
      (file) => !EXEMPT_DIRS.some((dir) => file.startsWith(dir)) && !(file in EXEMPT) && !(file in ROLE_OF_FILE) && !JOB_CREDENTIAL_FILES.includes(file) && sendsAwsCalls(readFileSync(join(SRC, file), 'utf8')),
    );
    assert.deepEqual(unclassified, [], 'add these files to ROLE_OF_FILE (and their calls to src/iam/statements.ts), or explain why they are exempt');
  });

  it('reads the operations from the source (control: the scan finds the known calls)', () => {
    assert.ok(calledBy('deployer').includes('codepipeline:UpdatePipeline'));
    assert.ok(calledBy('deployer').includes('sts:GetCallerIdentity'));
    assert.ok(calledBy('worker').includes('codepipeline:PollForJobs'));
  });

  for (const role of ['deployer', 'worker'] as const) {
    const document = role === 'deployer' ? buildDeployerPolicy(project, { scope, allowDeleteUndeclared: true }).document : buildWorkerPolicy(project, { scope }).document;

    it(`${role}: every operation the code calls is allowed`, () => {
      const missing = calledBy(role).filter((operation) => !allowed(document).includes(operation));
      assert.deepEqual(missing, [], `the ${role} policy lacks operations the code calls: add them to src/iam/statements.ts`);
    });

    it(`${role}: every allowed action is one the code calls`, () => {
      const extra = allowed(document).filter((action) => !calledBy(role).includes(action) && action !== 'iam:PassRole');
      assert.deepEqual(extra, [], `the ${role} policy allows actions the code never calls`);
    });
  }

  it('S3 artifact transfers use the per-job credentials, so neither policy needs S3 or KMS', () => {
    for (const file of JOB_CREDENTIAL_FILES) {
      const text = readFileSync(join(SRC, file), 'utf8');
      const constructions = [...text.matchAll(/new S3Client\(\{([\s\S]*?)\}\);/g)];
      assert.ok(constructions.length > 0, `${file} builds no S3Client any more: update JOB_CREDENTIAL_FILES`);
      for (const construction of constructions) assert.match(construction[1] as string, /credentials: \{ accessKeyId, secretAccessKey, sessionToken \}/, `${file} must build its S3 client from the job's artifact credentials`);
    }
  });
});
