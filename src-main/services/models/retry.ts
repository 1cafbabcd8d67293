import { ModelError, cancelled } from './model-error.ts';

export interface RetryPolicy {
  /** Consecutive failed attempts without progress before giving up. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

// ~8 tries spread over ~2 minutes rides out a Wi-Fi hand-over or a CDN hiccup without hiding a real outage.
export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 1000, maxDelayMs: 30_000 };

/** Exponential backoff with full jitter, so many clients retrying a struggling server do not arrive in step. */
export function backoffMs(failures: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled('waiting to retry'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled('waiting to retry'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs `fn` until it succeeds, retrying only errors marked retryable (network, stall, 5xx). */
export async function withRetry<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy,
  opts: { signal?: AbortSignal; onRetry?(error: ModelError, delayMs: number): void } = {},
): Promise<T> {
  for (let failures = 1; ; failures++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof ModelError) || !e.retryable || failures >= policy.attempts || opts.signal?.aborted) throw e;
      const delay = backoffMs(failures, policy);
      opts.onRetry?.(e, delay);
      await sleep(delay, opts.signal);
    }
  }
}
