// Prints a policy document. Pure. JSON is what IAM takes; YAML suits CloudFormation and CDK
// templates. Key order is the document's, so both are stable.

import { Document, Scalar } from 'yaml';
import type { PolicyDocument } from './policy.js';

export type PolicyFormat = 'json' | 'yaml';
export const POLICY_FORMATS = ['json', 'yaml'] as const satisfies readonly PolicyFormat[];

export function renderPolicy(document: PolicyDocument, format: PolicyFormat): string {
  if (format === 'json') return `${JSON.stringify(document, null, 2)}\n`;
  const yaml = new Document(document);
  // YAML 1.1 readers (PyYAML, older CloudFormation tooling) would read a bare 2012-10-17 as a date.
  const version = yaml.get('Version', true);
  if (version instanceof Scalar) version.type = Scalar.QUOTE_DOUBLE;
  return yaml.toString({ lineWidth: 0 });
}
