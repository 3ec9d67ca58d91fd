import type { z } from 'zod';
import type { PathSegment } from './yaml-source.js';

type AnySchema = z.core.$ZodType;

/** Returns a function naming the keys an object in `schema` accepts at a path, for "did you
 *  mean" suggestions on unknown keys. Walks optional, array, record and union wrappers. Pure. */
export function knownKeysFor(schema: AnySchema): (path: readonly PathSegment[]) => readonly string[] {
  return (path) => {
    const candidates = walk([schema], path);
    const keys = new Set<string>();
    for (const candidate of candidates) for (const key of objectKeys(candidate)) keys.add(key);
    return [...keys];
  };
}

function unwrap(schema: AnySchema): AnySchema[] {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'readonly':
      return unwrap(def.innerType as AnySchema);
    case 'union':
      return (def.options as AnySchema[]).flatMap(unwrap);
    default:
      return [schema];
  }
}

function walk(schemas: AnySchema[], path: readonly PathSegment[]): AnySchema[] {
  let current = schemas.flatMap(unwrap);
  for (const segment of path) {
    const next: AnySchema[] = [];
    for (const schema of current) {
      const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
      if (def.type === 'object' && typeof segment === 'string') {
        const shape = def.shape as Record<string, AnySchema>;
        if (shape[segment]) next.push(...unwrap(shape[segment]));
      } else if (def.type === 'array' && typeof segment === 'number') {
        next.push(...unwrap(def.element as AnySchema));
      } else if (def.type === 'record') {
        next.push(...unwrap(def.valueType as AnySchema));
      }
    }
    current = next;
  }
  return current;
}

function objectKeys(schema: AnySchema): string[] {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  return def.type === 'object' ? Object.keys(def.shape as object) : [];
}
