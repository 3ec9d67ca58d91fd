// Secret configuration values of pipelines. GetPipeline (and the pipeline echoed by Create and
// UpdatePipeline) shows them as `****`; sending `****` back in UpdatePipeline keeps the stored
// value. The stored value is found by stage name + action name in the current version, so a
// renamed stage or action loses its secrets and must send them in full, as AWS documents. Pure.

export const SECRET_MASK = '****';

/** Whether `key` is a secret configuration property of the action type `actionTypeId`. */
export type SecretTest = (actionTypeId: unknown, key: string) => boolean;

type Json = Record<string, unknown>;
const obj = (value: unknown): Json | undefined => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined);

/** Rewrites every action's configuration with `rewrite`, copying only what changes (key order kept). */
function mapConfigurations(declaration: Json, rewrite: (stageName: unknown, action: Json, configuration: Json) => Json): Json {
  if (!Array.isArray(declaration.stages)) return declaration;
  const stages = declaration.stages.map((rawStage) => {
    const stage = obj(rawStage);
    if (!stage || !Array.isArray(stage.actions)) return rawStage;
    const actions = stage.actions.map((rawAction) => {
      const action = obj(rawAction);
      const configuration = obj(action?.configuration);
      if (!action || !configuration) return rawAction;
      return { ...action, configuration: rewrite(stage.name, action, configuration) };
    });
    return { ...stage, actions };
  });
  return { ...declaration, stages };
}

/** The declaration with every secret value replaced by `****`. */
export function maskSecrets(declaration: Json, isSecret: SecretTest): Json {
  return mapConfigurations(declaration, (_stage, action, configuration) =>
    Object.fromEntries(Object.entries(configuration).map(([key, value]) => [key, typeof value === 'string' && isSecret(action.actionTypeId, key) ? SECRET_MASK : value])),
  );
}

export type RestoreResult = { readonly ok: true; readonly declaration: Json } | { readonly ok: false; readonly message: string; readonly path: readonly (string | number)[] };

/** Replaces `****` in secret values by the value stored for the same stage and action in `current`. */
export function restoreMaskedSecrets(sent: Json, current: Json | undefined, isSecret: SecretTest): RestoreResult {
  let failure: RestoreResult | undefined;
  const declaration = mapConfigurations(sent, (stageName, action, configuration) =>
    Object.fromEntries(
      Object.entries(configuration).map(([key, value]) => {
        if (value !== SECRET_MASK || !isSecret(action.actionTypeId, key)) return [key, value];
        const stored = storedValue(current, stageName, action.name, key);
        if (stored === undefined && !failure) {
          failure = {
            ok: false,
            path: ['stages', String(stageName), 'actions', String(action.name), 'configuration', key],
            message: `Secret configuration '${key}' of action '${String(action.name)}' in stage '${String(stageName)}' is the mask '${SECRET_MASK}', but the current pipeline has no stored value for it; send the secret value in full`,
          };
        }
        return [key, stored ?? value];
      }),
    ),
  );
  return failure ?? { ok: true, declaration };
}

function storedValue(current: Json | undefined, stageName: unknown, actionName: unknown, key: string): string | undefined {
  if (!current || !Array.isArray(current.stages)) return undefined;
  const stage = current.stages.map(obj).find((candidate) => candidate?.name === stageName);
  if (!stage || !Array.isArray(stage.actions)) return undefined;
  const action = stage.actions.map(obj).find((candidate) => candidate?.name === actionName);
  const value = obj(action?.configuration)?.[key];
  return typeof value === 'string' && value !== SECRET_MASK ? value : undefined;
}
