// The executor plugins that ship with cpsync, by the name actions.yaml uses (`executor.plugin`).
// An explicit table (as Renovate's manager registry), so what is bundled is visible in one place
// and the contract test can loop over every entry. Each plugin lives in its own folder under
// plugins/ at the package root, written in TypeScript. The build compiles them to dist/bundled/,
// and cpsync running from dist/ loads that JavaScript: a worker whose plugins are all bundled then
// never loads tsx (~40 MB resident, ~0.4 s of start-up, and a bigger process makes every fork of a
// tool dearer). Running from src/ (tests, under tsx) loads the TypeScript itself.

const compiled = /\/dist\/worker\/plugins\/registry\.js$/.test(new URL(import.meta.url).pathname);
const bundled = (name: string) =>
  compiled ? new URL(`../../bundled/plugins/${name}/index.js`, import.meta.url) : new URL(`../../../plugins/${name}/index.ts`, import.meta.url);

export const BUNDLED_PLUGINS = {
  command: bundled('command'),
  make: bundled('make'),
  junit: bundled('junit'),
} as const satisfies Record<string, URL>;

export type BundledPluginName = keyof typeof BUNDLED_PLUGINS;

export const BUNDLED_PLUGIN_NAMES = Object.keys(BUNDLED_PLUGINS) as BundledPluginName[];

export function isBundledPluginName(name: string): name is BundledPluginName {
  return Object.hasOwn(BUNDLED_PLUGINS, name);
}
