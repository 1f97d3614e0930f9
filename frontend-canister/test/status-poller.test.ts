import { describe, expect, it } from 'vitest';
import { StatusPoller } from '../src/status-poller';

/** Hand-driven timers: `advance()` fires the pending one and says after how many ms it was due. */
function harness(results: boolean[], visible = { value: true }) {
  const delays: number[] = [];
  let pending: (() => void) | undefined;
  let checks = 0;
  const poller = new StatusPoller({
    check: async () => {
      checks += 1;
      const ok = results.shift();
      if (ok === undefined) throw new Error('no more results');
      return ok;
    },
    isVisible: () => visible.value,
    setTimer: (callback, ms) => {
      delays.push(ms);
      pending = callback;
      return callback;
    },
    clearTimer: (timer) => {
      if (pending === timer) pending = undefined;
    },
  });
  const advance = async () => {
    const fire = pending!;
    pending = undefined;
    fire();
    await new Promise((resolve) => setTimeout(resolve, 0));
  };
  return { poller, delays, advance, checks: () => checks, pending: () => pending !== undefined, visible };
}

describe('StatusPoller', () => {
  it('checks slowly while healthy and backs off from 2 s to 16 s while failing, then recovers', async () => {
    const { poller, delays, advance } = harness([true, false, false, false, false, false, true, true]);
    await poller.start();
    for (let i = 0; i < 6; i++) await advance();
    expect(delays).toEqual([30_000, 2_000, 4_000, 8_000, 16_000, 16_000, 30_000]);
  });

  it('does not poll a hidden page, and checks at once when it becomes visible', async () => {
    const visible = { value: true };
    const { poller, delays, checks, pending } = harness([false, true], visible);
    await poller.start();
    expect(delays).toEqual([2_000]);
    visible.value = false;
    poller.visibilityChanged();
    expect(pending()).toBe(false);
    visible.value = true;
    poller.visibilityChanged();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(checks()).toBe(2);
    expect(delays).toEqual([2_000, 30_000]);
  });

  it('counts a check that throws as a failure, and shares a check already running', async () => {
    const { poller, delays, checks } = harness([]);
    await Promise.all([poller.start(), poller.checkNow()]);
    expect(checks()).toBe(1);
    expect(poller.nextDelayMs).toBe(2_000);
    expect(delays).toEqual([2_000]);
    poller.stop();
  });
});
