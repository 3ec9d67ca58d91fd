// Which AWS errors are worth retrying, and the back-off between tries. The SDK's own retry treats
// CodePipeline's quota error (LimitExceededException) as throttling and retries it; cpsync must
// not, because a quota does not go away by waiting. So cpsync retries itself, with the SDK's
// retries off.

export interface RetryOptions {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 6, baseDelayMs: 100, maxDelayMs: 5_000 };

const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'SlowDown', 'ProvisionedThroughputExceededException', 'RequestThrottled']);
const TRANSIENT = new Set(['ConcurrentModificationException', 'ConflictException', 'InternalFailure', 'InternalError', 'ServiceUnavailable', 'RequestTimeout', 'RequestTimeoutException']);
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'TimeoutError', 'AbortError', 'RequestTimeout']);

/** Pure classification of an error thrown by an SDK call. */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const name = error.name;
  if (name === 'LimitExceededException') return false;
  if (THROTTLING.has(name) || TRANSIENT.has(name)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  const code = (error as NodeJS.ErrnoException).code;
  if (code && NETWORK.has(code)) return true;
  // The SDK reports a response that never came (socket hang up, dropped connection) without a status.
  return status === undefined && /socket hang up|ECONNRESET|other side closed|timed? ?out/i.test(error.message);
}

/** Full-jitter exponential back-off. Pure given `random`. */
export function backoffDelay(attempt: number, options: RetryOptions): number {
  const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt);
  return Math.round((options.random ?? Math.random)() * cap);
}

export async function withRetries<T>(call: () => Promise<T>, options: RetryOptions = DEFAULT_RETRY, onRetry?: (error: unknown, attempt: number) => void): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt + 1 >= options.attempts || !isRetryable(error)) throw error;
      onRetry?.(error, attempt);
      await sleep(backoffDelay(attempt, options));
    }
  }
}
