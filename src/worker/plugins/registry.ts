// The executor plugins that ship with cpsync, by the name actions.yaml uses (`executor.plugin`).
// An explicit table (as Renovate's manager registry), so what is bundled is visible in one place
// and the contract test can loop over every entry. Each plugin lives in its own folder under
// plugins/ at the package root, written in TypeScript; the loader imports it through tsx. The path
// is the same from src/worker/plugins/ and from dist/worker/plugins/.

export const BUNDLED_PLUGINS = {
  command: new URL('../../../plugins/command/index.ts', import.meta.url),
  make: new URL('../../../plugins/make/index.ts', import.meta.url),
  junit: new URL('../../../plugins/junit/index.ts', import.meta.url),
} as const satisfies Record<string, URL>;

export type BundledPluginName = keyof typeof BUNDLED_PLUGINS;

export const BUNDLED_PLUGIN_NAMES = Object.keys(BUNDLED_PLUGINS) as BundledPluginName[];

export function isBundledPluginName(name: string): name is BundledPluginName {
  return Object.hasOwn(BUNDLED_PLUGINS, name);
}
