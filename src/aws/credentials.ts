// Credentials for a target with a profile and/or a role to assume; undefined leaves the SDK's
// default chain (environment, shared files, instance role) in charge.

import type { ClientConfig } from './client-config.js';

export async function resolveCredentials(config: ClientConfig) {
  if (!config.profile && !config.roleArn) return undefined;
  const providers = await import('@aws-sdk/credential-providers');
  const base = config.profile ? providers.fromIni({ profile: config.profile }) : undefined;
  if (!config.roleArn) return base;
  return providers.fromTemporaryCredentials({
    params: { RoleArn: config.roleArn, RoleSessionName: 'cpsync' },
    ...(base ? { masterCredentials: base } : {}),
    ...(config.region ? { clientConfig: { region: config.region } } : {}),
  });
}
