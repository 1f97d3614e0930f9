// What went wrong in a call, in one line, and whether trying again may help.

import {
  AgentError,
  HttpErrorCode,
  HttpFetchErrorCode,
  ReplicaRejectCode,
  TimeoutWaitingForResponseErrorCode,
} from '@icp-sdk/core/agent';

const TRANSIENT_NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The reject of a canister call (`rejectCode`, `rejectMessage`), or null for any other error. */
export function rejectOf(error) {
  const code = error instanceof AgentError ? error.cause.code : null;
  return code && typeof code.rejectMessage === 'string' ? { rejectCode: code.rejectCode, rejectMessage: code.rejectMessage } : null;
}

/** Network failures, overloaded boundary nodes (HTTP 429/5xx), SYS_TRANSIENT rejects and polling timeouts. */
export function isTransientError(error) {
  if (error instanceof AgentError) {
    const code = error.cause.code;
    if (code instanceof HttpFetchErrorCode || code instanceof TimeoutWaitingForResponseErrorCode) return true;
    if (code instanceof HttpErrorCode) return code.status === 429 || code.status >= 500;
    return rejectOf(error)?.rejectCode === ReplicaRejectCode.SysTransient;
  }
  for (let e = error; e; e = e.cause) {
    if (TRANSIENT_NODE_CODES.has(e.code) || (e instanceof TypeError && e.message === 'fetch failed')) return true;
  }
  return false;
}

/** One line for the user: the reject message of a canister, or the agent's error without its request dump. */
export function describeError(error) {
  const reject = rejectOf(error);
  if (reject) return reject.rejectMessage;
  if (error instanceof AgentError) {
    const code = error.cause.code;
    if (code instanceof HttpFetchErrorCode) {
      const cause = code.error?.cause ?? code.error;
      return `cannot reach the replica (${cause?.code ?? cause?.message ?? cause}): is it running?`;
    }
    return code.toErrorMessage().split('\n')[0];
  }
  return error?.message ?? String(error);
}
