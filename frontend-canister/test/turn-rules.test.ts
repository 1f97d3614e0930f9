import { describe, expect, it } from 'vitest';
import { sendAnotherCall } from '../src/turn-rules.js';

describe('sendAnotherCall', () => {
  const turn = { sent: 1, generatedTokens: 10, lastReplyTokens: 8, maxNewTokens: 48 };

  it('always sends a call when none is out, and never a third', () => {
    expect(sendAnotherCall({ ...turn, sent: 0, generatedTokens: 47 })).toBe(true);
    expect(sendAnotherCall({ ...turn, sent: 2, generatedTokens: 0 })).toBe(false);
  });

  it('queues a call behind the running one while the answer needs more than the running call makes', () => {
    expect(sendAnotherCall(turn)).toBe(true); // 10 + 8 < 48
    expect(sendAnotherCall({ ...turn, generatedTokens: 39 })).toBe(true); // 47 < 48
    expect(sendAnotherCall({ ...turn, generatedTokens: 40 })).toBe(false); // the running call makes the last 8
    expect(sendAnotherCall({ ...turn, generatedTokens: 0, lastReplyTokens: 0 })).toBe(true); // still reading
  });
});
