// Retries with exponential backoff for calls that fail on transient network errors.

import { describeError, isTransientError } from './errors.mjs';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The wait before retry number `retry` (1-based): base · 2^(retry-1), capped. */
export function backoffDelay(retry, { baseDelayMs = 1000, maxDelayMs = 30_000 } = {}) {
  return Math.min(maxDelayMs, baseDelayMs * 2 ** (retry - 1));
}

/**
 * Runs `operation(attempt)` (attempt counts from 1) until it succeeds, retrying transient errors up to
 * `attempts` times in all; `onRetry(error, delayMs)` is told before each wait.
 */
export async function withRetry(operation, {
  attempts = 6, baseDelayMs = 1000, maxDelayMs = 30_000, isTransient = isTransientError, onRetry = () => {}, wait = sleep,
} = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (e) {
      if (attempt >= attempts || !isTransient(e)) throw e;
      const delayMs = backoffDelay(attempt, { baseDelayMs, maxDelayMs });
      onRetry(e, delayMs);
      await wait(delayMs);
    }
  }
}

/** Logs a retry on stderr. */
export function logRetry(what) {
  return (error, delayMs) => process.stderr.write(`\n${what}: ${describeError(error)}; retrying in ${(delayMs / 1000).toFixed(0)} s\n`);
}
