import { distance } from 'fastest-levenshtein';

/** The candidate closest to `input` when it is close enough to be a plausible typo. Pure. */
export function closestMatch(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lowered = input.toLowerCase();
  for (const candidate of candidates) {
    const d = distance(lowered, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  // A third of the length (at least 2 edits) separates typos from unrelated words.
  const tolerance = Math.max(2, Math.floor(Math.max(input.length, best.length) / 3));
  return bestDistance <= tolerance ? best : undefined;
}
