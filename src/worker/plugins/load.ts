// Finding and importing an executor plugin named by actions.yaml's `executor.plugin`. Explicit, in
// this order:
//
//   1. a path (`./plugins/deploy`, `../shared/plugin.ts`, absolute): that folder's index file or
//      that file, relative to the project folder;
//   2. a bundled plugin by name, from the registry (registry.ts);
//   3. a local plugin: `<pluginsDir>/<name>/index.ts|index.js|index.mjs`;
//   4. an npm package by name, resolved from the project folder the way `import` would.
//
// TypeScript files are loaded with tsx's `tsImport`, so plugins need no build step. Whatever goes
// wrong (nothing found, the module throws or does not parse, it exports something that is not a
// plugin) is a CpsyncError with a one-line message and a hint; at job time `pluginLoadFailure`
// turns it into a ConfigurationError.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin } from '../../plugin.js';
import { CpsyncError, isCpsyncError } from '../../util/errors.js';
import { closestMatch } from '../../util/suggest.js';
import { JobFailure } from '../types.js';
import { BUNDLED_PLUGIN_NAMES, BUNDLED_PLUGINS, isBundledPluginName } from './registry.js';

export type PluginSource = 'bundled' | 'local' | 'npm';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a loaded plugin's types are only known to its author
export type AnyPlugin = Plugin<any, any>;

export interface LoadedPlugin {
  readonly plugin: AnyPlugin;
  readonly source: PluginSource;
  /** The file it came from. */
  readonly file: string;
}

export interface LoadPluginOptions {
  /** The settings' plugins folder (absolute). */
  readonly pluginsDir: string;
  /** The project folder: relative plugin paths and npm packages are resolved from here. */
  readonly cwd: string;
}

export const LOCAL_INDEX_FILES = ['index.ts', 'index.js', 'index.mjs'] as const;

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);
const JS_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);

/** The npm package name grammar (scoped or not), which also keeps `..` and slashes out of names. */
const PACKAGE_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/i;

const isPathReference = (reference: string) => reference.startsWith('./') || reference.startsWith('../') || isAbsolute(reference);

/** Finds and imports the plugin `reference` names, and checks that it is one. */
export async function loadPlugin(reference: string, options: LoadPluginOptions): Promise<LoadedPlugin> {
  const found = findPlugin(reference, options);
  const module = await importPluginModule(reference, found.file, options.cwd);
  const plugin = pickPlugin(module);
  const problem = describePluginShapeProblem(plugin);
  if (problem) {
    throw new CpsyncError('plugin.invalid', `executor plugin "${reference}" (${display(found.file, options.cwd)}) is not a plugin: ${problem}`, {
      hint: 'export the plugin as the default export (or as `plugin`): export default definePlugin({ meta: { name }, execute })',
      who: 'plugin',
    });
  }
  return { plugin: plugin as AnyPlugin, source: found.source, file: found.file };
}

/** Where `reference` points, without importing anything. */
export function findPlugin(reference: string, options: LoadPluginOptions): { readonly source: PluginSource; readonly file: string } {
  const looked: string[] = [];
  if (isPathReference(reference)) {
    const target = resolve(options.cwd, reference);
    const file = findIndexOrFile(target, looked);
    if (file) return { source: 'local', file };
    throw notFound(reference, looked, options);
  }
  if (isBundledPluginName(reference)) {
    return { source: 'bundled', file: fileURLToPath(BUNDLED_PLUGINS[reference]) };
  }
  looked.push(`a bundled plugin (${BUNDLED_PLUGIN_NAMES.join(', ')})`);
  if (!PACKAGE_NAME.test(reference)) {
    throw new CpsyncError('plugin.bad-reference', `executor plugin "${reference}" is neither a bundled plugin, a path starting with ./ nor a package name`, {
      hint: `use a bundled plugin (${BUNDLED_PLUGIN_NAMES.join(', ')}), ./plugins/<name>, or an npm package name`,
    });
  }
  if (!reference.startsWith('@')) {
    const local = findIndexOrFile(join(options.pluginsDir, reference), looked, true);
    if (local) return { source: 'local', file: local };
  }
  const packageFile = resolvePackageEntry(reference, options.cwd);
  if (packageFile) return { source: 'npm', file: packageFile };
  looked.push(`the npm package "${reference}" from the project folder`);
  throw notFound(reference, looked, options);
}

function findIndexOrFile(target: string, looked: string[], folderOnly = false): string | undefined {
  if (!folderOnly && existsSync(target) && statSync(target).isFile()) return target;
  const candidates = LOCAL_INDEX_FILES.map((name) => join(target, name));
  const file = candidates.find((candidate) => existsSync(candidate));
  if (!file) looked.push(`${target}/index.ts|.js|.mjs`);
  return file;
}

function notFound(reference: string, looked: string[], options: LoadPluginOptions): CpsyncError {
  // Paths relative to the project, so the message reads the same on every machine.
  const places = looked.map((place) => (place.startsWith('/') ? display(place, options.cwd) : place));
  const localPlugins = existsSync(options.pluginsDir) && statSync(options.pluginsDir).isDirectory() ? readdirSync(options.pluginsDir) : [];
  const match = closestMatch(reference.replace(/^\.\/plugins\//, ''), [...BUNDLED_PLUGIN_NAMES, ...localPlugins]);
  return new CpsyncError('plugin.not-found', `executor plugin "${reference}" not found${match ? ` (did you mean "${match}"?)` : ''}; looked for ${places.join(', ')}`, {
    hint: `check executor.plugin in actions.yaml: bundled plugins are ${BUNDLED_PLUGIN_NAMES.join(', ')}; a local plugin is a folder with an index.ts; an npm plugin must be installed in the project`,
  });
}

function display(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** The file `import(name)` would load from `cwd`: node_modules folders up the tree, then the
 *  package's `exports` ("." with the import/node/default conditions), else `main`, else index.js. */
export function resolvePackageEntry(name: string, cwd: string): string | undefined {
  for (let folder = resolve(cwd); ; folder = dirname(folder)) {
    const packageDir = join(folder, 'node_modules', name);
    const manifestPath = join(packageDir, 'package.json');
    if (existsSync(manifestPath)) {
      let manifest: { exports?: unknown; main?: unknown };
      try {
        manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { exports?: unknown; main?: unknown };
      } catch (error) {
        throw new CpsyncError('plugin.load-failed', `executor plugin "${name}": ${manifestPath} is not valid JSON`, { hint: 'reinstall the package', who: 'plugin', cause: error });
      }
      const target = manifest.exports !== undefined ? exportTarget(manifest.exports) : typeof manifest.main === 'string' ? manifest.main : 'index.js';
      if (target === undefined) return undefined;
      const file = resolve(packageDir, target);
      if (existsSync(file) && statSync(file).isFile()) return file;
      for (const extension of ['.js', '.mjs', '/index.js', '/index.mjs']) if (existsSync(file + extension)) return file + extension;
      return undefined;
    }
    if (dirname(folder) === folder) return undefined;
  }
}

function exportTarget(exports: unknown): string | undefined {
  if (typeof exports === 'string') return exports;
  if (Array.isArray(exports)) {
    for (const entry of exports) {
      const target = exportTarget(entry);
      if (target) return target;
    }
    return undefined;
  }
  if (exports && typeof exports === 'object') {
    const record = exports as Record<string, unknown>;
    if (Object.keys(record).some((key) => key.startsWith('.'))) return record['.'] === undefined ? undefined : exportTarget(record['.']);
    for (const [condition, target] of Object.entries(record)) {
      if (condition === 'import' || condition === 'node' || condition === 'default') {
        const resolved = exportTarget(target);
        if (resolved) return resolved;
      }
    }
  }
  return undefined;
}

async function importPluginModule(reference: string, file: string, cwd: string): Promise<unknown> {
  const extension = extname(file);
  if (!TS_EXTENSIONS.has(extension) && !JS_EXTENSIONS.has(extension)) {
    throw new CpsyncError('plugin.load-failed', `executor plugin "${reference}" (${display(file, cwd)}) is not a .ts, .js or .mjs file`, {
      hint: 'point executor.plugin at a folder with an index.ts, index.js or index.mjs, or at such a file',
      who: 'plugin',
    });
  }
  const url = pathToFileURL(file).href;
  try {
    if (TS_EXTENSIONS.has(extension)) {
      // Lazy: only workers with TypeScript plugins pay for the loader.
      const { tsImport } = await import('tsx/esm/api');
      return await tsImport(url, import.meta.url);
    }
    return await import(url);
  } catch (error) {
    if (isCpsyncError(error)) throw error;
    throw new CpsyncError('plugin.load-failed', `executor plugin "${reference}" (${display(file, cwd)}) failed to load: ${oneLine(error, cwd)}`, {
      hint: 'fix the error in the plugin or its dependencies; `node --check <file>` (JavaScript) or `npx tsc --noEmit` (TypeScript) shows where',
      who: 'plugin',
      cause: error,
    });
  }
}

function oneLine(error: unknown, cwd: string): string {
  let text = error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
  text = text.replace(/^TransformError: Transform failed with \d+ errors?:\s*/, '');
  const line = text
    .split('\n')
    .map((part) => part.trim())
    .filter(Boolean)
    .slice(0, 3)
    .join(' ')
    .split(`${cwd}/`)
    .join('');
  return line.length > 400 ? `${line.slice(0, 399)}…` : line;
}

/** The default export, or a named `plugin`; CommonJS modules seen through ESM interop unwrapped. */
function pickPlugin(module: unknown): unknown {
  const namespace = module as Record<string, unknown>;
  let candidate = namespace.default ?? namespace.plugin;
  if (candidate && typeof candidate === 'object' && !('meta' in candidate)) {
    const inner = candidate as Record<string, unknown>;
    candidate = inner.default ?? inner.plugin ?? candidate;
  }
  return candidate;
}

/** What is wrong with a value that should be a plugin, in words, or undefined. Pure. */
export function describePluginShapeProblem(value: unknown): string | undefined {
  if (value === undefined) return 'it has no default export and no export named `plugin`';
  if (value === null || typeof value !== 'object') return `the export is ${value === null ? 'null' : `a ${typeof value}`}, not an object`;
  const plugin = value as Record<string, unknown>;
  const meta = plugin.meta as Record<string, unknown> | undefined;
  if (!meta || typeof meta !== 'object') return 'meta is missing';
  if (typeof meta.name !== 'string' || meta.name.trim() === '') return 'meta.name must be a non-empty string';
  if (typeof plugin.execute !== 'function') return 'execute must be a function';
  if (plugin.configSchema !== undefined) {
    if (plugin.configSchema === null || typeof plugin.configSchema !== 'object') return 'configSchema must be an object';
    const schemas = plugin.configSchema as Record<string, unknown>;
    for (const key of ['configuration', 'options'] as const) {
      const schema = schemas[key] as { safeParse?: unknown } | undefined;
      if (schema !== undefined && (schema === null || typeof schema.safeParse !== 'function')) return `configSchema.${key} must have a safeParse function (a zod schema)`;
    }
  }
  return undefined;
}

/** A plugin loading problem at job time: the action's type is configured wrongly. */
export function pluginLoadFailure(error: unknown): JobFailure {
  if (isCpsyncError(error)) return new JobFailure('ConfigurationError', error.hint ? `${error.message} (${error.hint})` : error.message);
  return new JobFailure('ConfigurationError', `executor plugin could not be loaded: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
}
