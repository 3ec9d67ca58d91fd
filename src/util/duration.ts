import { CpsyncError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds from a number of seconds or text such as 500ms, 5s, 2m, 1h. Pure. */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return Math.round(value * 1000);
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value.trim());
  if (!match) {
    throw new CpsyncError('duration.invalid', `${JSON.stringify(value)} is not a duration`, { hint: 'write a number followed by ms, s, m or h, e.g. 30s' });
  }
  return Math.round(Number(match[1]) * (UNITS[match[2] as string] as number));
}

/** 1500 → "1.5s", 90000 → "1m30s". Pure. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  if (minutes < 60) return seconds ? `${minutes}m${seconds}s` : `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours}h${minutes % 60}m` : `${hours}h`;
}
