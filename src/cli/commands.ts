import { AWS_FLAGS, type CommandSpec } from './spec.js';

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
];

export { AWS_FLAGS };
