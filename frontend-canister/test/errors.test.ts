import {
  CertifiedRejectErrorCode,
  HttpErrorCode,
  HttpFetchErrorCode,
  ProtocolError,
  RejectError,
  TransportError,
} from '@icp-sdk/core/agent';
import { describe, expect, it } from 'vitest';
import { CanisterError, describeFailure, isSessionGone } from '../src/errors';

describe('describeFailure', () => {
  it('explains a model that is not loaded', () => {
    expect(describeFailure(new CanisterError('Model not loaded: call setup_model first'))).toMatchObject({
      kind: 'model-not-loaded',
      message: expect.stringMatching(/model is not loaded yet/i),
    });
  });

  it('passes other canister errors on', () => {
    expect(describeFailure(new CanisterError('Prompt is too long'))).toEqual({
      kind: 'canister',
      message: 'The model canister returned an error: Prompt is too long',
    });
  });

  it('recognises network failures', () => {
    expect(
      describeFailure(TransportError.fromCode(new HttpFetchErrorCode(new TypeError('Failed to fetch')))).kind,
    ).toBe('network');
    expect(describeFailure(new TypeError('Failed to fetch')).kind).toBe('network');
  });

  it('shows only the reject text of a rejected call', () => {
    const error = RejectError.fromCode(
      new CertifiedRejectErrorCode(new Uint8Array(32) as never, 5, 'Canister trapped: out of memory', 'IC0502'),
    );
    expect(describeFailure(error)).toEqual({
      kind: 'rejected',
      message: 'The call was rejected: Canister trapped: out of memory',
    });
  });

  it('names the HTTP status of a failed request', () => {
    const error = ProtocolError.fromCode(new HttpErrorCode(404, 'Not Found', [], 'no such canister'));
    expect(describeFailure(error)).toEqual({ kind: 'http', message: 'The request failed with HTTP 404 (Not Found).' });
  });

  it('falls back to the error message', () => {
    expect(describeFailure(new Error('boom'))).toEqual({ kind: 'unknown', message: 'Something went wrong: boom' });
  });
});

describe('isSessionGone', () => {
  it.each(['Unknown session 12', 'session 3 not found', 'No such session', 'Session expired'])(
    'matches "%s"',
    (message) => {
      expect(isSessionGone(message)).toBe(true);
    },
  );

  it.each(['Model not loaded', 'Too many sessions', 'Unknown method'])('does not match "%s"', (message) => {
    expect(isSessionGone(message)).toBe(false);
  });
});
