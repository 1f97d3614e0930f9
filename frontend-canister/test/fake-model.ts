import { CertifiedRejectErrorCode, RejectError } from '@icp-sdk/core/agent';
import type { Load, Status, TokenizeResult, TurnProgress, TurnRequest, TurnResult } from '../src/bindings/model.did';
import { Fleet, type FleetActors, type FleetMember, type FleetOptions, loadQueryProbe } from '../src/fleet';
import type { GenerationLocks } from '../src/generation-locks';

interface FakeSession {
  promptTokensLeft: number;
  generated: number;
  maxNewTokens: number;
  context: number;
}

export interface FakeModelOptions {
  promptTokensPerCall?: number;
  tokensPerCall?: number;
  instructionsPerCall?: bigint;
}

type Scripted = TurnResult | Error;

/**
 * A stand-in for the model canister's session API: a call either reads prompt tokens or
 * generates `tokensPerCall` tokens ("t1 t2 …"), and every call is recorded.
 */
export class FakeModel {
  readonly requests: Array<{ method: string; arg: unknown }> = [];
  readonly sessions = new Map<bigint, FakeSession>();
  readonly ended: bigint[] = [];
  modelLoaded = true;
  /** Rejects every call as the replica rejects them for a stopped canister. */
  stopped = false;
  #nextSessionId = 1n;
  #scripted: Scripted[] = [];
  readonly #promptTokensPerCall: number;
  readonly #tokensPerCall: number;
  readonly #instructionsPerCall: bigint;
  /** Runs after each reply is computed, e.g. to press stop while a call is "in flight". */
  onCall?: (method: string) => void;
  /** While set, replies wait for `release()`; the calls still run, in the order they arrive. */
  holding = false;
  readonly #held: Array<() => void> = [];
  #inFlight = 0;
  /** The most calls that were submitted and not yet answered at one time. */
  maxInFlight = 0;

  constructor({ promptTokensPerCall = 4, tokensPerCall = 2, instructionsPerCall = 1_000_000n }: FakeModelOptions = {}) {
    this.#promptTokensPerCall = promptTokensPerCall;
    this.#tokensPerCall = tokensPerCall;
    this.#instructionsPerCall = instructionsPerCall;
  }

  /** Calls whose reply is held. */
  get held(): number {
    return this.#held.length;
  }

  /** Lets the oldest `count` held replies through (and lets them settle). */
  async release(count = this.#held.length): Promise<void> {
    for (const resolve of this.#held.splice(0, count)) resolve();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }

  /** The next call answers with this instead (an `Err` result or a thrown agent error). */
  script(...replies: Scripted[]): void {
    this.#scripted.push(...replies);
  }

  method(name: string): unknown[] {
    return this.requests.filter((r) => r.method === name).map((r) => r.arg);
  }

  start_turn = async (request: TurnRequest): Promise<TurnResult> =>
    this.#reply('start_turn', request, () => {
      if (!this.modelLoaded) return { Err: 'Model not loaded: call setup_model first' };
      const [requested] = request.session_id;
      const id = requested ?? this.#nextSessionId++;
      const existing = this.sessions.get(id);
      if (requested !== undefined && !existing) return { Err: `Unknown session ${requested}` };
      const promptTokens = request.prompt.split(/\s+/).filter(Boolean).length + 4; // plus the framing
      const session: FakeSession = {
        promptTokensLeft: promptTokens,
        generated: 0,
        maxNewTokens: request.settings.max_new_tokens,
        context: existing?.context ?? 0,
      };
      this.sessions.set(id, session);
      return { Ok: this.#step(id, session) };
    });

  continue_turn = async (sessionId: bigint): Promise<TurnResult> =>
    this.#reply('continue_turn', sessionId, () => {
      const session = this.sessions.get(sessionId);
      return session ? { Ok: this.#step(sessionId, session) } : { Err: `Unknown session ${sessionId}` };
    });

  end_session = async (sessionId: bigint) => {
    this.requests.push({ method: 'end_session', arg: sessionId });
    this.#rejectIfStopped();
    this.ended.push(sessionId);
    return this.sessions.delete(sessionId) ? { Ok: null } : { Err: `Unknown session ${sessionId}` };
  };

  /** When false, queries fail as if the replica were down. */
  reachable = true;

  /** One token per whitespace-separated word. */
  tokenize = async (text: string): Promise<TokenizeResult> => {
    this.requests.push({ method: 'tokenize', arg: text });
    if (!this.reachable) throw new TypeError('Failed to fetch');
    const words = text.split(/\s+/).filter(Boolean);
    return { Ok: { tokens: words, token_ids: Uint32Array.from(words, (_, i) => i) } };
  };

  status = async (): Promise<Status> => {
    if (!this.reachable) throw new TypeError('Failed to fetch');
    this.#rejectIfStopped();
    return this.#status();
  };

  /** Turns under way: set by a test to make this canister look busy. */
  activeTurns = 0;
  /** Other callers' sessions in use: set by a test to make this canister look crowded. */
  othersInUse = 0;

  load = async (): Promise<Load> => {
    this.requests.push({ method: 'load', arg: undefined });
    this.#rejectIfStopped();
    return {
      active_turns: this.activeTurns,
      sessions: this.sessions.size,
      sessions_in_use: this.sessions.size + this.othersInUse,
      max_sessions: 16,
      last_call_instructions: 0n,
    };
  };

  #rejectIfStopped(): void {
    if (this.stopped) throw stoppedReject();
  }

  #status = (): Status => ({
    config_bytes: 665n,
    tokenizer_bytes: 2_000_000n,
    safetensors_bytes: 500_000_000n,
    config_sha256: new Uint8Array(32).fill(0x0c),
    tokenizer_sha256: new Uint8Array(32).fill(0x70),
    safetensors_sha256: Uint8Array.from({ length: 32 }, (_, i) => i),
    model_loaded: this.modelLoaded,
    tokenizer_loaded: this.modelLoaded,
    model: this.modelLoaded
      ? [{ n_layer: 12, n_head: 12, n_embd: 768, n_positions: 1024, vocab_size: 50260, parameters: 124_439_808n }]
      : [],
    precision: this.modelLoaded ? [{ F32: null }] : [],
    heap_bytes: 600_000_000n,
    lm_head_screen_bytes: this.modelLoaded ? 39_001_760n : 0n,
    stable_memory_bytes: 510_000_000n,
    sessions: this.sessions.size,
    max_sessions: 16,
    setup_instructions: 12_000_000_000n,
    last_call_instructions: this.#instructionsPerCall,
    last_call_tokens: this.#tokensPerCall,
  });

  async #reply(method: string, arg: unknown, compute: () => TurnResult): Promise<TurnResult> {
    this.requests.push({ method, arg });
    this.#rejectIfStopped();
    this.maxInFlight = Math.max(this.maxInFlight, ++this.#inFlight);
    const scripted = this.#scripted.shift();
    const result = scripted ?? compute();
    this.onCall?.(method);
    if (this.holding) await new Promise<void>((resolve) => this.#held.push(resolve));
    this.#inFlight -= 1;
    if (result instanceof Error) throw result;
    return result;
  }

  #step(sessionId: bigint, session: FakeSession): TurnProgress {
    let text = '';
    let tokenIds: number[] = [];
    if (session.promptTokensLeft > 0) {
      const read = Math.min(this.#promptTokensPerCall, session.promptTokensLeft);
      session.promptTokensLeft -= read;
      session.context += read;
    } else {
      const count = Math.min(this.#tokensPerCall, session.maxNewTokens - session.generated);
      tokenIds = Array.from({ length: count }, (_, i) => session.generated + i + 1);
      text = tokenIds.map((n) => `t${n} `).join('');
      session.generated += count;
      session.context += count;
    }
    const done = session.promptTokensLeft === 0 && session.generated >= session.maxNewTokens;
    return {
      session_id: sessionId,
      token_ids: Uint32Array.from(tokenIds),
      text,
      prompt_tokens_remaining: session.promptTokensLeft,
      generated_tokens: session.generated,
      context_tokens: session.context,
      done,
      stop_reason: done ? [{ MaxTokens: null }] : [],
      instructions: this.#instructionsPerCall,
    };
  }
}

/** The agent's error for a call to a stopped canister (the replica refuses it before it runs). */
function stoppedReject(): RejectError {
  const message = 'Canister is stopped and therefore does not have a CallContextManager';
  return RejectError.fromCode(new CertifiedRejectErrorCode(new Uint8Array(32) as never, 5, message, 'IC0508'));
}

/** Member `i` of a test fleet: model, model_1, … with canister ids canister-0, canister-1, … */
export function fleetMember(i: number): FleetMember {
  return {
    name: i ? `model_${i}` : 'model',
    endpoint: {
      canisterId: `canister-${i}`,
      canisterIdSource: 'ic_env cookie',
      network: 'local',
      shouldFetchRootKey: false,
      verifyQuerySignatures: false,
    },
  };
}

/** A fleet of fake canisters, one per model, probed through their `load` query as the page probes. */
export function fakeFleet(models: FakeModel[], options: Partial<FleetOptions> = {}): FleetActors<FakeModel> {
  const members = models.map((_, i) => fleetMember(i));
  const actorOf = (member: FleetMember) => models[members.indexOf(member)];
  return { fleet: new Fleet(members, { probe: loadQueryProbe(actorOf), ...options }), actorOf };
}

/** An in-memory Storage; `failWrites` simulates a full quota. */
export class MemoryStorage implements Storage {
  #items = new Map<string, string>();
  failWrites = false;

  get length(): number {
    return this.#items.size;
  }
  clear(): void {
    this.#items.clear();
  }
  getItem(key: string): string | null {
    return this.#items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.#items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.#items.delete(key);
  }
  setItem(key: string, value: string): void {
    if (this.failWrites) throw new DOMException('Quota exceeded', 'QuotaExceededError');
    this.#items.set(key, value);
  }
}

/** Generation locks shared by the "tabs" of a test, like the Web Locks of one browser profile. */
export class SharedLocks {
  readonly #held = new Set<string>();
  readonly #waiters = new Map<string, Array<() => void>>();

  locks(): GenerationLocks {
    return {
      hold: async (id) => {
        if (this.#held.has(id)) return undefined;
        this.#held.add(id);
        return () => {
          this.#held.delete(id);
          for (const wake of this.#waiters.get(id) ?? []) wake();
          this.#waiters.delete(id);
        };
      },
      held: async () => new Set(this.#held),
      released: (id) =>
        this.#held.has(id)
          ? new Promise<void>((resolve) => this.#waiters.set(id, [...(this.#waiters.get(id) ?? []), resolve]))
          : Promise.resolve(),
    };
  }
}
