// A temporary cpsync project (actions.yaml, pipelines/, settings) and in-process command runs
// against a local endpoint, plus the AWS guide's MyFirstPipeline created through the real SDK.

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Readable } from 'node:stream';
import { CreatePipelineCommand, type PipelineDeclaration } from '@aws-sdk/client-codepipeline';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { COMMANDS } from '../../src/cli/commands.js';
import { myFirstPipeline as guidePipeline } from '../../src/examples/my-first-pipeline.js';
import { parseArgs } from '../../src/cli/parse-args.js';
import { renderFatal } from '../../src/cli/render-error.js';
import { GLOBAL_FLAGS, type CommandContext } from '../../src/cli/spec.js';
import type { TestEndpoint } from './endpoint.js';
import { TEST_CREDENTIALS } from './endpoint.js';

export const REPO = new URL('../../', import.meta.url);

export function makeProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cpsync-project-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** The repository's own example configuration. */
export function exampleFiles(): Record<string, string> {
  return {
    'actions.yaml': readFileSync(new URL('actions.yaml', REPO), 'utf8'),
    'pipelines/MyFirstPipeline.yaml': readFileSync(new URL('pipelines/MyFirstPipeline.yaml', REPO), 'utf8'),
  };
}

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a cpsync command in-process, as main.ts would (same parsing, same error rendering). */
export async function cpsync(endpoint: TestEndpoint, cwd: string, argv: readonly string[], options: { env?: NodeJS.ProcessEnv; interactive?: boolean; input?: string } = {}): Promise<RunResult> {
  const [name, ...rest] = argv;
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) throw new Error(`no command ${String(name)}`);
  const stdout = new Capture();
  const stderr = new Capture();
  try {
    const args = parseArgs(['--no-color', ...rest], [...command.flags, ...GLOBAL_FLAGS], command.positionals, `cpsync ${command.name}`);
    const context: CommandContext = {
      args,
      stdin: Readable.from([options.input ?? '']),
      stdout,
      stderr,
      cwd,
      env: {
        AWS_ENDPOINT_URL: endpoint.endpoint.url,
        AWS_REGION: endpoint.endpoint.region,
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        ...options.env,
      },
      interactive: options.interactive ?? false,
    };
    // The SDK reads credentials from process.env; commands get their own env for everything else.
    process.env.AWS_ACCESS_KEY_ID = TEST_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = TEST_CREDENTIALS.secretAccessKey;
    const code = await (await command.load())(context);
    return { code, stdout: stdout.text, stderr: stderr.text };
  } catch (error) {
    stderr.write(renderFatal(error, { debug: false, color: false }));
    return { code: 1, stdout: stdout.text, stderr: stderr.text };
  }
}

export const ROLE_ARN = 'arn:aws:iam::123456789012:role/AWS-CodePipeline-Service';
export const ARTIFACT_BUCKET = 'codepipeline-us-east-1-1234567890';

/** The AWS guide's MyFirstPipeline: an S3 source producing MyApp, then Staging deploying it. */
export function myFirstPipeline(name = 'MyFirstPipeline'): PipelineDeclaration {
  return guidePipeline({ name, artifactBucket: ARTIFACT_BUCKET, sourceBucket: 'awscodepipeline-demobucket-example', sourceKey: 'SampleApp_Linux.zip', roleArn: ROLE_ARN });
}

export async function createMyFirstPipeline(t: TestEndpoint, name = 'MyFirstPipeline'): Promise<void> {
  await t.s3.send(new CreateBucketCommand({ Bucket: ARTIFACT_BUCKET })).catch(() => undefined);
  await t.s3.send(new CreateBucketCommand({ Bucket: 'awscodepipeline-demobucket-example' })).catch(() => undefined);
  await t.s3.send(new PutObjectCommand({ Bucket: 'awscodepipeline-demobucket-example', Key: 'SampleApp_Linux.zip', Body: 'PK\u0005\u0006' + '\u0000'.repeat(18) }));
  await t.codepipeline.send(new CreatePipelineCommand({ pipeline: myFirstPipeline(name) }));
}
