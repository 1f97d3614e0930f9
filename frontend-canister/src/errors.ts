import { AgentError, HttpErrorCode, TransportError } from '@icp-sdk/core/agent';
import { CanisterError } from './fleet-rules.js';

// The canister's `Err(text)` replies: the class lives with the fleet's rules, which scripts/loadtest shares.
export { CanisterError };

export type FailureKind = 'model-not-loaded' | 'canister' | 'rejected' | 'http' | 'network' | 'unknown';

export interface Failure {
  kind: FailureKind;
  /** One or two sentences for the user. */
  message: string;
}

export function isModelNotLoaded(message: string): boolean {
  return /not (yet )?(loaded|set ?up)|setup_model|no model/i.test(message);
}

/** The canister no longer knows the session (upgrade, eviction, expiry). */
export function isSessionGone(message: string): boolean {
  return /session/i.test(message) && /unknown|not found|no such|expired|evicted|gone/i.test(message);
}

export function describeFailure(error: unknown): Failure {
  if (error instanceof CanisterError) {
    return isModelNotLoaded(error.message)
      ? {
          kind: 'model-not-loaded',
          message: `The model is not loaded yet, so the canister cannot answer (${error.message}). Upload the weights and run setup_model, then try again.`,
        }
      : { kind: 'canister', message: `The model canister returned an error: ${error.message}` };
  }
  if (error instanceof TransportError || error instanceof TypeError) {
    return {
      kind: 'network',
      message: 'Could not reach the Internet Computer. Check your connection and try again.',
    };
  }
  if (error instanceof AgentError) {
    const { code } = error;
    if ('rejectMessage' in code) return { kind: 'rejected', message: `The call was rejected: ${code.rejectMessage}` };
    if (code instanceof HttpErrorCode) {
      return { kind: 'http', message: `The request failed with HTTP ${code.status} (${code.statusText}).` };
    }
    return { kind: 'unknown', message: `The call failed: ${code.toErrorMessage().split('\n')[0]}` };
  }
  return {
    kind: 'unknown',
    message: `Something went wrong: ${error instanceof Error ? error.message : String(error)}`,
  };
}
