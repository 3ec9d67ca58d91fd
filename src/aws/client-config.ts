// Where each AWS client of a target points: Region, profile and endpoints. Pure. Flags beat the
// target's settings, which beat the standard AWS variables, as the AWS CLI orders them.

import type { Target } from '../config/settings.js';

export interface AwsFlags {
  readonly region?: string;
  readonly profile?: string;
  readonly endpointUrl?: string;
}

export interface ClientConfig {
  readonly target: string;
  /** Undefined lets the SDK read it from the profile's config file. */
  readonly region?: string;
  readonly profile?: string;
  readonly roleArn?: string;
  readonly codepipelineEndpoint?: string;
  readonly s3Endpoint?: string;
}

const first = (...values: (string | undefined)[]) => values.find((value) => value !== undefined && value !== '');

export function resolveClientConfig(target: Target, flags: AwsFlags, env: NodeJS.ProcessEnv): ClientConfig {
  const explicit = first(flags.endpointUrl, target.endpointUrl);
  const region = first(flags.region, target.region, env.AWS_REGION, env.AWS_DEFAULT_REGION);
  const profile = first(flags.profile, target.profile, env.AWS_PROFILE);
  const codepipelineEndpoint = first(explicit, env.AWS_ENDPOINT_URL_CODEPIPELINE, env.AWS_ENDPOINT_URL);
  const s3Endpoint = first(explicit, env.AWS_ENDPOINT_URL_S3, env.AWS_ENDPOINT_URL);
  return {
    target: target.name,
    ...(region ? { region } : {}),
    ...(profile ? { profile } : {}),
    ...(target.roleArn ? { roleArn: target.roleArn } : {}),
    ...(codepipelineEndpoint ? { codepipelineEndpoint } : {}),
    ...(s3Endpoint ? { s3Endpoint } : {}),
  };
}
