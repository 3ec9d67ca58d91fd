// Decides what a `Range` header asks for, as S3 answers it: a single `bytes=` range, clipped to the
// object; an unsatisfiable start gives 416 InvalidRange; syntax S3 does not understand (several
// ranges, other units, start after end) is ignored and the whole object is sent with 200.

export type RangePlan =
  | { readonly kind: 'full' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

const SINGLE = /^bytes=(\d*)-(\d*)$/;

export function planRange(header: string | undefined, size: number): RangePlan {
  if (header === undefined) return { kind: 'full' };
  const match = SINGLE.exec(header.trim());
  if (!match) return { kind: 'full' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    // Suffix range: the last n bytes. More than the object means the whole object (still 206).
    const length = Number(last);
    if (length === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: 'partial', start, end };
}

export function renderContentRange(start: number, end: number, size: number): string {
  return `bytes ${start}-${end}/${size}`;
}
