import { AWS_FLAGS, type CommandSpec, type FlagSpec } from './spec.js';

const PLAN_FLAGS: readonly FlagSpec[] = [
  { name: 'format', type: 'string', valueName: 'human|json|markdown', description: 'Output format (default human).' },
  { name: 'target', type: 'string', multiple: true, valueName: 'NAME', description: 'Only this configured target (repeatable; default every target).' },
  { name: 'parallelism', type: 'string', valueName: 'N', description: 'Read and write at most N pipelines at once (default 10).' },
];

// Only commands that work are listed: `cpsync --help` must never advertise a stub.
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'validate',
    summary: 'Check settings, actions.yaml and pipelines/*.yaml offline and report every problem.',
    description:
      'Reads the settings, actions.yaml and every file under the pipelines folder and reports every\n' +
      'problem at once as file:line:column with the offending value and what to do. Makes no AWS call.\n' +
      'Exits 0 when everything is valid and 1 otherwise.',
    flags: [
      { name: 'format', type: 'string', valueName: 'text|json', description: 'Output format (default text).' },
    ],
    examples: ['cpsync validate', 'cpsync validate --format json', 'cpsync validate --config ci/cpsync.config.yaml'],
    load: async () => (await import('./commands/validate.js')).runValidate,
  },
  {
    name: 'plan',
    summary: 'Show what apply would change in each target, and why.',
    description:
      'Reads the custom action types and the pipelines named by pipelines/*.yaml from each target and\n' +
      'shows what `cpsync apply` would change: only what cpsync owns, each change with its reason.\n' +
      'Nothing is written. Secret values are shown as (sensitive). With --detailed-exitcode: 0 no\n' +
      'changes, 1 error, 2 changes (as Terraform). When GITHUB_STEP_SUMMARY is set, the markdown plan\n' +
      'is appended there too.',
    flags: [
      ...PLAN_FLAGS,
      { name: 'out', type: 'string', valueName: 'FILE', description: 'Save the plan to FILE so `cpsync apply FILE` applies exactly it.' },
      { name: 'detailed-exitcode', type: 'boolean', description: 'Exit 2 when there are changes (0 none, 1 error).' },
      ...AWS_FLAGS,
    ],
    examples: ['cpsync plan', 'cpsync plan --format markdown > plan.md', 'cpsync plan --out plan.json --detailed-exitcode', 'cpsync plan --target prod --endpoint-url http://127.0.0.1:4599'],
    load: async () => (await import('./commands/plan.js')).runPlan,
  },
  {
    name: 'apply',
    summary: 'Make each target match the configuration (plans first, asks unless --auto-approve).',
    description:
      'Plans, shows the plan and, on a terminal, asks for confirmation; then creates action types,\n' +
      'updates pipelines and deletes what cpsync no longer declares, in that order. Each pipeline is\n' +
      're-read right before its write and checked afterwards. Given a saved plan file, applies exactly\n' +
      'that plan and refuses it when anything it saw has changed. Without a terminal it needs\n' +
      '--auto-approve or a plan file.',
    positionals: [{ name: 'PLAN_FILE', description: 'A plan saved with `cpsync plan --out`.', optional: true }],
    flags: [...PLAN_FLAGS, { name: 'auto-approve', type: 'boolean', description: 'Apply without asking.' }, ...AWS_FLAGS],
    examples: ['cpsync apply', 'cpsync apply --auto-approve', 'cpsync plan --out plan.json && cpsync apply plan.json'],
    load: async () => (await import('./commands/apply.js')).runApply,
  },
  {
    name: 'import',
    summary: 'Write actions.yaml entries for custom action types made by hand, to adopt them.',
    description:
      'Reads the custom action types of a target and appends the ones actions.yaml does not declare\n' +
      '(or only those named with --type) to actions.yaml, keeping its comments. The next `cpsync apply`\n' +
      'shows them as adopted and marks them as owned; nothing in AWS changes until then.',
    flags: [
      { name: 'type', type: 'string', multiple: true, valueName: 'CATEGORY/PROVIDER/VERSION', description: 'Import only this type (repeatable).' },
      { name: 'target', type: 'string', multiple: true, valueName: 'NAME', description: 'Read from this configured target (default: the first).' },
      { name: 'dry-run', type: 'boolean', description: 'Print the new actions.yaml instead of writing it.' },
      ...AWS_FLAGS,
    ],
    examples: ['cpsync import', 'cpsync import --type Build/My-Build-Provider-Name/1 --dry-run'],
    load: async () => (await import('./commands/import.js')).runImport,
  },
  {
    name: 'demo',
    summary: 'Run a whole release on a local endpoint: plan, apply, worker, pipeline execution.',
    description:
      'What `npm start` runs. Starts a local CodePipeline + S3 endpoint, creates the AWS guide\'s\n' +
      'MyFirstPipeline by hand, runs `cpsync plan` and `cpsync apply` with this repository\'s actions.yaml\n' +
      'and pipelines/, starts the worker with the bundled plugins, releases examples/MyApp through the\n' +
      'pipeline (make builds it in the custom build action) and shows the result. No AWS account, no\n' +
      'network; nothing is left running.',
    flags: [{ name: 'data', type: 'string', valueName: 'DIR', description: 'Keep the endpoint state and worker files in DIR (default: a temporary folder, removed).' }],
    examples: ['cpsync demo', 'cpsync demo --data .cpsync/demo'],
    load: async () => (await import('./commands/demo.js')).runDemo,
  },
  {
    name: 'local',
    summary: 'Run a local CodePipeline + S3 endpoint that the AWS SDKs and CLI can talk to.',
    description:
      'Starts the local endpoint (CodePipeline over AWS JSON 1.1 and S3, path style, on one port) in the\n' +
      'foreground, prints the environment to export so AWS tools use it, and stops cleanly on Ctrl-C\n' +
      '(SIGINT) or SIGTERM. State persists under --data and survives restarts. See docs/local-endpoint.md.',
    flags: [
      { name: 'host', type: 'string', valueName: 'HOST', description: 'Address to listen on (default 127.0.0.1).' },
      { name: 'port', type: 'string', valueName: 'PORT', description: 'Port to listen on (default 4599; 0 picks a free one).' },
      { name: 'data', type: 'string', valueName: 'DIR', description: 'Folder for state and S3 objects (default .cpsync/local).' },
      { name: 'reset', type: 'boolean', description: 'Start empty, discarding the state under --data.' },
      { name: 'region', type: 'string', valueName: 'REGION', description: 'Region the endpoint pretends to be (default us-east-1).' },
      { name: 'account-id', type: 'string', valueName: 'ID', description: 'Account id used in ARNs and jobs (default 123456789012).' },
      { name: 'dispatch-timeout', type: 'string', valueName: 'DURATION', description: 'How long a polled job may stay unacknowledged before it is queued again (default 30s).' },
      { name: 'action-timeout', type: 'string', valueName: 'DURATION', description: 'How long an acknowledged job may run without a result (default 1h).' },
      { name: 'credential-lifetime', type: 'string', valueName: 'DURATION', description: 'Lifetime of per-job artifact credentials (default 15m).' },
      { name: 'failing-action', type: 'string', multiple: true, valueName: 'STAGE/ACTION', description: 'Make an AWS-owned action fail instead of succeed (Pipeline/Stage/Action or Stage/Action).' },
      { name: 'fault', type: 'string', multiple: true, valueName: 'OP:SETTINGS', description: 'Inject faults, e.g. PollForJobs:latency=50ms,throttle=0.1,error=0.05,drop=0.01 (OP may be s3:PutObject, s3:* or *).' },
      { name: 'seed', type: 'string', valueName: 'N', description: 'Seed for fault injection, to repeat a run.' },
    ],
    examples: [
      'cpsync local',
      'cpsync local --port 0   # a free port; the printed AWS_ENDPOINT_URL names it',
      'cpsync local --reset --data /tmp/cpsync-local',
      'cpsync local --fault PollForJobs:throttle=0.2 --fault s3:PutObject:latency=200ms --seed 7',
      'cpsync local --dispatch-timeout 5s --credential-lifetime 2m',
    ],
    load: async () => (await import('./commands/local.js')).runLocal,
  },
  {
    name: 'worker',
    summary: 'Poll CodePipeline for custom-action jobs and run them with their executor plugins.',
    description:
      'Runs the jobs of every custom action type in actions.yaml that has an executor: polls, acknowledges,\n' +
      'downloads the input artifacts, runs the plugin, uploads the outputs (SSE-KMS) and reports exactly one\n' +
      'result per job. Checks the configuration, the plugins and that each type exists before polling.\n' +
      'SIGTERM/SIGINT stop polling and let running jobs finish within --grace; a second signal stops at\n' +
      'once. Jobs a stopped worker left behind are reported at the next start (see docs/worker.md).',
    flags: [
      { name: 'provider', type: 'string', multiple: true, valueName: 'PROVIDER', description: 'Only action types with this provider (repeatable).' },
      { name: 'category', type: 'string', multiple: true, valueName: 'CATEGORY', description: 'Only action types in this category (repeatable).' },
      { name: 'query', type: 'string', multiple: true, valueName: 'NAME=VALUE', description: "Poll only jobs whose queryable property NAME is VALUE (needed for types with one)." },
      { name: 'concurrency', type: 'string', valueName: 'N', description: 'Run at most N jobs at once (default worker.concurrency: the number of cores).' },
      { name: 'poll-min', type: 'string', valueName: 'DURATION', description: 'Shortest wait between polls when idle (default worker.pollInterval.min, 1s).' },
      { name: 'poll-max', type: 'string', valueName: 'DURATION', description: 'Longest wait between polls when idle (default worker.pollInterval.max, 30s).' },
      { name: 'grace', type: 'string', valueName: 'DURATION', description: 'On SIGTERM, how long running jobs may finish before they are stopped (default 30s).' },
      { name: 'job-timeout', type: 'string', valueName: 'DURATION', description: 'Stop and fail a job still running after this long (default 1h).' },
      { name: 'work-dir', type: 'string', valueName: 'DIR', description: 'Folder for job workspaces and the job ledger (default worker.workDir, .cpsync/worker).' },
      { name: 'keep-workspaces', type: 'boolean', description: 'Keep each job\'s workspace after it is reported (debugging).' },
      { name: 'metrics-port', type: 'string', valueName: 'PORT', description: 'Serve Prometheus /metrics, /healthz and the job pages (/jobs) on PORT.' },
      { name: 'once', type: 'boolean', description: 'Process the jobs available now, then exit (tests, CI).' },
      { name: 'log-format', type: 'string', valueName: 'auto|json|text', description: 'Log format on stderr (default auto: text on a terminal, JSON lines otherwise).' },
      { name: 'target', type: 'string', valueName: 'NAME', description: 'Poll in this configured target (default: the first).' },
      ...AWS_FLAGS,
    ],
    examples: [
      'cpsync worker',
      'cpsync worker --provider My-Test-Lab --query Suite=smoke --concurrency 4',
      'cpsync worker --metrics-port 9464 --grace 2m',
      'cpsync worker --once --endpoint-url http://127.0.0.1:4599',
    ],
    load: async () => (await import('./commands/worker.js')).runWorker,
  },
  {
    name: 'iam-policy',
    summary: 'Print least-privilege IAM policies for the deployer (plan/apply) or the worker, offline.',
    description:
      'Computes an IAM policy document from actions.yaml and pipelines/*.yaml, without calling AWS.\n' +
      '--for deployer: what `cpsync plan` and `cpsync apply` need (create/delete and tag exactly the declared\n' +
      'action types; read, tag and update exactly the selected pipelines, patterns as ARN wildcards; PassRole\n' +
      'to CodePipeline). --for worker: PollForJobs on the types with an executor, the job calls on "*".\n' +
      'The Region comes from --region, the target or AWS_REGION; the account from --account or the target\n' +
      'roleArn; what is unknown is `*`. The policy goes to stdout, notes on what to narrow to stderr.\n' +
      'See docs/iam.md.',
    flags: [
      { name: 'for', type: 'string', valueName: 'deployer|worker', description: 'Which identity the policy is for (required).' },
      { name: 'account', type: 'string', valueName: 'ID', description: 'The 12-digit account id in the ARNs (default: the target roleArn account, else *).' },
      { name: 'region', type: 'string', valueName: 'REGION', description: 'The Region in the ARNs; also picks the partition (default: the target, AWS_REGION, else *).' },
      { name: 'target', type: 'string', valueName: 'NAME', description: 'Take the Region and account from this configured target (default: the first).' },
      { name: 'pass-role', type: 'string', multiple: true, valueName: 'ARN', description: 'Deployer: a pipeline service role UpdatePipeline passes (default: every role, with a note).' },
      { name: 'allow-delete-undeclared', type: 'boolean', description: 'Deployer: allow DeleteCustomActionType on every custom type, for owned types no longer declared.' },
      { name: 'format', type: 'string', valueName: 'json|yaml', description: 'Output format (default json).' },
    ],
    examples: [
      'cpsync iam-policy --for deployer --account 111122223333 --region us-east-1',
      'cpsync iam-policy --for deployer --account 111122223333 --pass-role arn:aws:iam::111122223333:role/MyPipelineRole',
      'cpsync iam-policy --for worker --account 111122223333 --region us-east-1 --format yaml',
    ],
    load: async () => (await import('./commands/iam-policy.js')).runIamPolicy,
  },
  {
    name: 'completion',
    summary: 'Print a bash or zsh completion script for cpsync.',
    description:
      'Prints a completion script generated from the command definitions: commands, each command\'s\n' +
      'flags, the values of flags that take one of a fixed set (such as --format) and file names for\n' +
      'plan files. Load it in the current shell with eval (bash) or source (zsh), or save it where the\n' +
      'shell loads completions from.',
    positionals: [{ name: 'bash|zsh', description: 'The shell to complete in.' }],
    flags: [],
    examples: [
      'cpsync completion bash > ~/.local/share/bash-completion/completions/cpsync',
      'eval "$(cpsync completion bash)"',
      'cpsync completion zsh > "${fpath[1]}/_cpsync"',
      'source <(cpsync completion zsh)',
    ],
    load: async () => (await import('./commands/completion.js')).runCompletion,
  },
  {
    name: 'run-job',
    summary: 'Run one job of an action type locally with its executor plugin: no AWS, outputs in a folder.',
    description:
      'For plugin authors. Runs the executor plugin of an action type from actions.yaml on local folders or\n' +
      'ZIPs as one job would run in a pipeline: the same workspace, plugin host, exec gateway, redaction and\n' +
      'result checks as `cpsync worker`, continuation hops included (a plugin returning in-progress is called\n' +
      'again with its state), with no AWS and no endpoint. Configuration is checked against the type\'s\n' +
      'properties; secret values are accepted and never printed. Progress and tool output go to stderr, the\n' +
      'result as the job API would receive it to stdout; the outputs land in --output-dir. Exits 0 when the\n' +
      'job succeeds, 1 otherwise. See docs/plugins.md.',
    flags: [
      { name: 'type', type: 'string', valueName: 'CATEGORY/PROVIDER/VERSION', description: 'The action type to run (required), as declared in actions.yaml.' },
      { name: 'input', type: 'string', multiple: true, valueName: 'NAME=PATH', description: 'An input artifact: a folder (copied) or a .zip (extracted as the worker does).' },
      { name: 'output', type: 'string', multiple: true, valueName: 'NAME', description: 'An output artifact name (default: as the action in pipelines/*.yaml names them, else Output1..N for the type\'s minimum).' },
      { name: 'config', type: 'string', multiple: true, valueName: 'KEY=VALUE', description: 'An action configuration value, checked against the type\'s properties (repeatable). A value that is not KEY=VALUE names the settings file, as elsewhere.' },
      { name: 'configuration', type: 'string', multiple: true, valueName: 'KEY=VALUE', description: 'Same as --config KEY=VALUE.' },
      { name: 'output-dir', type: 'string', valueName: 'DIR', description: 'Where the outputs go, one folder per output artifact (default ./cpsync-run-<timestamp>; must be new or empty).' },
      { name: 'zip', type: 'boolean', description: 'Also write <output-dir>/<Name>.zip, the archive the worker would upload.' },
      { name: 'state-file', type: 'string', valueName: 'FILE', description: 'Start as a continuation job with the JSON state in FILE (e.g. the continuation-state.json a stopped run left).' },
      { name: 'keep-workspace', type: 'boolean', description: 'Keep each hop\'s job workspace in <output-dir>/.workspaces/ (debugging).' },
      { name: 'max-hops', type: 'string', valueName: 'N', description: 'Stop after N jobs if the plugin is still in progress (default 20).' },
      { name: 'timeout', type: 'string', valueName: 'DURATION', description: 'Time limit for the whole run, all hops together (default 1h).' },
      { name: 'hop-delay', type: 'string', valueName: 'DURATION', description: 'Pause between hops, as a worker polls for the next job (default 1s).' },
    ],
    examples: [
      'cpsync run-job --type Build/My-Build-Provider-Name/1 --input MyApp=examples/MyApp --config ProjectName=MyBuildProject',
      'cpsync run-job --type Test/My-Test-Lab/1 --input MyBuiltApp=build.zip --config Suite=smoke --config ApiToken="$TOKEN" --output-dir out --zip',
      'cpsync run-job --type Build/My-Build-Provider-Name/1 --input MyApp=app --configuration ProjectName=x --state-file out/continuation-state.json --max-hops 1',
    ],
    load: async () => (await import('./commands/run-job.js')).runRunJob,
  },
];

export { AWS_FLAGS };
