// The IC's timing of update calls, simulated (`--ic-timing mainnet`):
//  * time advances in rounds of `secondsPerRound`;
//  * an ingress message received in round a is inducted `roundsBeforeExecution` rounds later;
//  * each canister executes one message at a time, in the order received; a message of N instructions takes
//    max(1, ceil(N / instructionsPerSlice)) rounds (one slice per round, deterministic time slicing), and the
//    canister's next message starts in the round after it finishes;
//  * its reply is certified (and its changes become visible to queries) at the end of the round
//    `roundsAfterExecution` rounds after the one it finished in;
//  * canisters run concurrently (one execution thread each), so one never delays another;
//  * with `instructionScale` k, each instruction an update executes counts k times (its slices, its limit and the
//    canister's performance counter), so a small model takes the rounds of one k times as costly.
//
// The clock is simulated: it runs at 1 / timeScale times real time, but never passes a moment at which a
// message still executing (its instruction count unknown) might be certified; executing messages report each
// slice they use up, which moves that moment on. So the simulated times are exact however fast the host
// executes, and a time scale below 1 compresses only the waiting.

export const IC_TIMING_PRESETS = {
  // MAX_INSTRUCTIONS_PER_SLICE of application subnets (rs/config/src/subnet_config.rs); about one round a second;
  // ingress is inducted in the next round; the reply is certified a round after execution; the synchronous call
  // endpoint answers 202 after about 10 s (the agent then polls read_state).
  mainnet: {
    instructionsPerSlice: 2_000_000_000,
    secondsPerRound: 1,
    roundsBeforeExecution: 1,
    roundsAfterExecution: 1,
    syncCallTimeoutSeconds: 10,
  },
};

const MAX_TIMEOUT_MS = 2 ** 31 - 1; // setTimeout's limit

/** A clock of simulated seconds since it started, with timers, that can be held back (see setLimit). */
export class SimClock {
  constructor(timeScale) {
    if (!(timeScale > 0)) throw new Error(`the time scale must be positive, got ${timeScale}`);
    this.timeScale = timeScale;
    this.baseSeconds = 0;
    this.baseReal = performance.now();
    this.limit = Infinity;
    this.timers = []; // { at, fn } sorted by at, then by insertion
    this.timeout = null;
  }

  seconds() {
    const real = performance.now();
    const t = this.baseSeconds + (real - this.baseReal) / 1000 / this.timeScale;
    if (t < this.limit) return t;
    this.baseSeconds = this.limit;
    this.baseReal = real;
    return this.limit;
  }

  /** The clock will not pass `limit` (seconds) until it is raised; it then goes on from there, not jumping. */
  setLimit(limit) {
    const now = this.seconds();
    this.baseSeconds = now;
    this.baseReal = performance.now();
    this.limit = Math.max(limit, now);
    this.arm();
  }

  /** Calls fn when the clock reaches `at` seconds. Returns a function that cancels it. */
  at(at, fn) {
    const timer = { at, fn };
    let i = this.timers.length;
    while (i > 0 && this.timers[i - 1].at > at) i--;
    this.timers.splice(i, 0, timer);
    this.arm();
    return () => {
      const index = this.timers.indexOf(timer);
      if (index >= 0) this.timers.splice(index, 1);
    };
  }

  arm() {
    clearTimeout(this.timeout);
    this.timeout = null;
    const next = this.timers[0];
    if (!next || next.at > this.limit) return;
    const delayMs = Math.min(MAX_TIMEOUT_MS, Math.max(0, (next.at - this.seconds()) * this.timeScale * 1000));
    this.timeout = setTimeout(() => this.fire(), delayMs);
  }

  fire() {
    const now = this.seconds();
    while (this.timers.length && this.timers[0].at <= now) this.timers.shift().fn();
    this.arm();
  }

  close() {
    clearTimeout(this.timeout);
    this.timers = [];
  }
}

export class IcTiming {
  /** @param {object} params  IC_TIMING_PRESETS.mainnet's fields, timeScale and instructionScale */
  constructor({ instructionsPerSlice, secondsPerRound, roundsBeforeExecution, roundsAfterExecution, syncCallTimeoutSeconds, timeScale = 1, instructionScale = 1 }) {
    if (!(instructionScale > 0 && Number.isFinite(instructionScale))) throw new Error(`the instruction scale must be a positive number, got ${instructionScale}`);
    Object.assign(this, { instructionsPerSlice, secondsPerRound, roundsBeforeExecution, roundsAfterExecution, syncCallTimeoutSeconds, instructionScale });
    this.clock = new SimClock(timeScale);
    this.queues = new Map(); // queue key -> { waiting: [], busy, freeRound }
    this.executing = new Set(); // { earliestCertification } of messages whose length is not known yet
  }

  seconds() {
    return this.clock.seconds();
  }

  round(seconds = this.seconds()) {
    return Math.floor(seconds / this.secondsPerRound);
  }

  /** Rounds a message of `instructions` executes for. */
  slices(instructions) {
    return Math.max(1, Math.ceil(instructions / this.instructionsPerSlice));
  }

  /**
   * Queues a message received now (at `receivedAt` seconds) for `queueKey` (a canister). `execute(startRound, progress)` runs it and resolves
   * to { instructions, certify }; it may call progress(slices) whenever the message is known to need more than
   * `slices` slices, which lets the clock go on meanwhile. `certify(seconds, rounds)` is called when the reply is
   * certified, with the simulated time and the rounds the message executed in ([first, last]), and its value resolves
   * the returned promise.
   */
  submit(queueKey, execute, receivedAt = this.seconds()) {
    let queue = this.queues.get(queueKey);
    if (!queue) this.queues.set(queueKey, queue = { waiting: [], busy: false, freeRound: 0 });
    return new Promise((resolve, reject) => {
      queue.waiting.push({ inducted: this.round(receivedAt) + this.roundsBeforeExecution, execute, resolve, reject });
      // not in the caller's turn: messages submitted together are received in the same round
      queueMicrotask(() => this.pump(queue));
    });
  }

  async pump(queue) {
    if (queue.busy || !queue.waiting.length) return;
    queue.busy = true;
    const message = queue.waiting.shift();
    const start = Math.max(message.inducted, queue.freeRound);
    const pending = { earliestCertification: (start + 1 + this.roundsAfterExecution) * this.secondsPerRound };
    this.executing.add(pending);
    this.holdClock();
    try {
      const progress = (slices) => {
        pending.earliestCertification = (start + slices + 1 + this.roundsAfterExecution) * this.secondsPerRound;
        this.holdClock();
      };
      const { instructions, certify } = await message.execute(start, progress);
      const finish = start + this.slices(instructions) - 1;
      queue.freeRound = finish + 1;
      const certified = (finish + 1 + this.roundsAfterExecution) * this.secondsPerRound;
      this.clock.at(certified, () => {
        try {
          message.resolve(certify(certified, [start, finish]));
        } catch (e) {
          message.reject(e);
        }
      });
    } catch (e) {
      queue.freeRound = start + 1;
      message.reject(e);
    } finally {
      this.executing.delete(pending);
      this.holdClock();
      queue.busy = false;
      this.pump(queue);
    }
  }

  /** Keeps the clock before the earliest moment a message still executing could be certified. */
  holdClock() {
    let limit = Infinity;
    for (const { earliestCertification } of this.executing) limit = Math.min(limit, earliestCertification);
    this.clock.setLimit(limit);
  }

  close() {
    this.clock.close();
  }
}
