export interface StatusPollerOptions {
  /** One status check; resolves true when the canister answered. */
  check: () => Promise<boolean>;
  isVisible: () => boolean;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
  /** Between checks while the canister answers. */
  healthyMs?: number;
  /** After the first failure; doubled after each further failure, up to `maxBackoffMs`. */
  retryMs?: number;
  maxBackoffMs?: number;
}

/**
 * Checks the canister's status while the page is visible: every `healthyMs` while it answers, and after a failure
 * again soon, backing off (2 s, 4 s, 8 s, … at most 16 s), so a banner clears by itself when the canister is back.
 * A hidden page is not polled; becoming visible checks at once.
 */
export class StatusPoller {
  readonly #options: Required<StatusPollerOptions>;
  #timer: unknown;
  #failures = 0;
  #running = false;
  #checking: Promise<void> | undefined;

  constructor(options: StatusPollerOptions) {
    this.#options = {
      setTimer: (callback, ms) => setTimeout(callback, ms),
      clearTimer: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
      healthyMs: 30_000,
      retryMs: 2_000,
      maxBackoffMs: 16_000,
      ...options,
    };
  }

  /** Milliseconds until the next check after `failures` failures in a row. */
  get nextDelayMs(): number {
    const { healthyMs, retryMs, maxBackoffMs } = this.#options;
    return this.#failures === 0 ? healthyMs : Math.min(maxBackoffMs, retryMs * 2 ** (this.#failures - 1));
  }

  start(): Promise<void> {
    this.#running = true;
    return this.checkNow();
  }

  stop(): void {
    this.#running = false;
    this.#cancel();
  }

  /** Checks now (a check already running is shared) and schedules the next one. */
  checkNow(): Promise<void> {
    this.#cancel();
    this.#checking ??= this.#options
      .check()
      .catch(() => false)
      .then((ok) => {
        this.#failures = ok ? 0 : this.#failures + 1;
        this.#checking = undefined;
        this.#schedule();
      });
    return this.#checking;
  }

  /** Call on `visibilitychange`. */
  visibilityChanged(): void {
    if (!this.#running) return;
    if (this.#options.isVisible()) void this.checkNow();
    else this.#cancel();
  }

  #schedule(): void {
    this.#cancel();
    if (!this.#running || !this.#options.isVisible()) return;
    this.#timer = this.#options.setTimer(() => {
      this.#timer = undefined;
      void this.checkNow();
    }, this.nextDelayMs);
  }

  #cancel(): void {
    if (this.#timer !== undefined) this.#options.clearTimer(this.#timer);
    this.#timer = undefined;
  }
}
