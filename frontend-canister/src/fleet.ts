import { AgentError } from '@icp-sdk/core/agent';
import { discoverEndpoint, type EnvironmentSources, type ModelEndpoint } from './env';
import { CanisterError } from './errors';
import type { ModelMethods } from './model-client';

/**
 * A fleet of model canisters that all hold the model: `model`, `model_1`, … `model_<N-1>` (scripts/dev --replicas N,
 * or the same names in dfx.json / icp.yaml). The page starts each new conversation on the least busy canister, keeps
 * it there, and moves it to another one (replaying it into a new session) when its canister is stopped, being
 * upgraded or out of quota. With one canister (the default) nothing is probed and nothing moves.
 */
export interface FleetMember {
  /** `model`, `model_1`, …, or `model` plus the position for ids given as a list. */
  name: string;
  endpoint: ModelEndpoint;
}

export interface FleetSources extends EnvironmentSources {
  /** `CANISTER_ID_MODEL`, `CANISTER_ID_MODEL_1`, … as dfx writes them to `.env` for the build. */
  buildIds?: Readonly<Record<string, unknown>>;
}

const COOKIE_KEY = /^PUBLIC_CANISTER_ID:(model(?:_([1-9]\d*))?)$/;
const BUILD_KEY = /^CANISTER_ID_(MODEL(?:_([1-9]\d*))?)$/;
/** More canisters than any page should spread over; bounds the work of a forged cookie or address. */
export const MAX_FLEET_SIZE = 32;

/** [name, id] pairs whose key matches `pattern` (group 1: the name, group 2: its index), in fleet order. */
function namedIds(entries: Iterable<[string, unknown]>, pattern: RegExp): [string, string][] {
  const found: [number, string, string][] = [];
  for (const [key, value] of entries) {
    const match = pattern.exec(key);
    if (match && typeof value === 'string' && value) found.push([Number(match[2] ?? 0), match[1].toLowerCase(), value]);
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, name, id]) => [name, id]);
}

/**
 * The fleet the page talks to, from the same source `discoverEndpoint` chose for the first canister: every
 * `PUBLIC_CANISTER_ID:model[_k]` of the ic_env cookie, every `CANISTER_ID_MODEL[_K]` of the build, or
 * `?canisterId=a,b` (or repeated `canisterId`) in the address. Throws EndpointConfigError when there is none.
 */
export function discoverFleet(sources: FleetSources): FleetMember[] {
  const base = discoverEndpoint(sources);
  let ids: [string, string][];
  if (base.canisterIdSource === 'ic_env cookie') {
    ids = namedIds(Object.entries(sources.cookie ?? {}), COOKIE_KEY);
  } else if (base.canisterIdSource === 'build environment') {
    ids = namedIds(Object.entries(sources.buildIds ?? {}), BUILD_KEY);
    if (!ids.some(([name]) => name === 'model')) ids.unshift(['model', base.canisterId]);
  } else {
    const listed = new URLSearchParams(sources.location.search)
      .getAll('canisterId')
      .flatMap((value) => value.split(','))
      .map((id) => id.trim())
      .filter(Boolean);
    ids = listed.map((id, i): [string, string] => [i === 0 ? 'model' : `model_${i}`, id]);
  }
  const unique = ids.filter(([, id], i) => ids.findIndex(([, other]) => other === id) === i).slice(0, MAX_FLEET_SIZE);
  return unique.map(([name, canisterId]) => ({ name, endpoint: { ...base, canisterId } }));
}

/** What a canister reports about its load (its cheap load query). */
export interface CanisterLoad {
  /** Turns started and not yet done: each wants the canister's next rounds. */
  activeTurns: number;
  /** Conversations whose KV cache the canister keeps. */
  sessions: number;
}

export type LoadProbe = (member: FleetMember) => Promise<CanisterLoad>;

/** A probe that asks each canister's `load` query through the actor `actorOf` gives for it. */
export function loadQueryProbe(actorOf: (member: FleetMember) => ModelMethods<'load'>): LoadProbe {
  return async (member) => {
    const load = await actorOf(member).load();
    return { activeTurns: load.active_turns, sessions: load.sessions };
  };
}

/** Why a call's conversation should continue on another canister, or null when moving would not help. */
export type FailoverReason = 'stopped' | 'quota' | 'busy';

/** IC error codes of a canister that cannot run messages now: stopped, stopping, no module (mid-reinstall), frozen. */
const UNAVAILABLE_ERROR_CODES = new Set(['IC0508', 'IC0509', 'IC0537', 'IC0207']);
const UNAVAILABLE_TEXT = /is stopped|is stopping|contains no Wasm module|out of cycles/i;

function refusalOf(text: string): FailoverReason | null {
  if (/^quota\b/i.test(text) || /\bquota:/i.test(text)) return 'quota';
  if (/^busy\b/i.test(text)) return 'busy';
  return null;
}

/**
 * Classifies a failed call: rejects of a stopped, stopping, module-less or frozen canister are 'stopped', the
 * canister's `Err "quota: …"` (or an ingress refused for quota) is 'quota', its `Err "busy: …"` (all sessions
 * taken) is 'busy'. Network failures and other errors are null: another canister would fail the same way.
 */
export function failoverReason(error: unknown): FailoverReason | null {
  if (error instanceof CanisterError) return refusalOf(error.message);
  if (error instanceof AgentError) {
    const code: unknown = error.code;
    if (code && typeof code === 'object' && 'rejectMessage' in code) {
      const { rejectMessage, rejectErrorCode } = code as { rejectMessage: string; rejectErrorCode?: string };
      if ((rejectErrorCode && UNAVAILABLE_ERROR_CODES.has(rejectErrorCode)) || UNAVAILABLE_TEXT.test(rejectMessage)) {
        return 'stopped';
      }
      return refusalOf(rejectMessage);
    }
  }
  return null;
}

export interface FleetOptions {
  probe: LoadProbe;
  /** How long a canister that failed over is avoided for new placements. */
  cooldownMs?: number;
  now?: () => number;
  /** Breaks ties between equally loaded canisters, so pages that start together spread out. */
  random?: () => number;
}

export interface FailoverContext {
  /** The conversation left another canister on this call: its session is gone, so replay it into a new one. */
  moved: boolean;
}

export class NoCanisterAvailableError extends Error {
  override name = 'NoCanisterAvailableError';
}

export class Fleet {
  private readonly unavailableUntil = new Map<string, number>();
  private readonly placements = new Map<string, string>();
  private readonly probe: LoadProbe;
  private readonly cooldownMs: number;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(
    readonly members: readonly FleetMember[],
    options: FleetOptions,
  ) {
    if (members.length === 0) throw new Error('a fleet needs at least one canister');
    this.probe = options.probe;
    this.cooldownMs = options.cooldownMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  private member(canisterId: string | undefined): FleetMember | undefined {
    return this.members.find((m) => m.endpoint.canisterId === canisterId);
  }

  /** The canister a conversation is on (restored from storage with `place`), if any. */
  placementOf(conversationId: string): FleetMember | undefined {
    return this.member(this.placements.get(conversationId));
  }

  /** Puts a conversation on a canister (e.g. as stored with it); an id outside the fleet is ignored. */
  place(conversationId: string, canisterId: string): void {
    if (this.member(canisterId)) this.placements.set(conversationId, canisterId);
  }

  forget(conversationId: string): void {
    this.placements.delete(conversationId);
  }

  markUnavailable(canisterId: string): void {
    this.unavailableUntil.set(canisterId, this.now() + this.cooldownMs);
  }

  isAvailable(canisterId: string): boolean {
    return (this.unavailableUntil.get(canisterId) ?? 0) <= this.now();
  }

  /**
   * The least busy canister outside `exclude`: fewest active turns, then fewest sessions, ties broken at random.
   * Canisters cooling down after a failure come last; one whose probe fails is skipped and cools down.
   * Only one candidate: it is chosen without a probe.
   */
  async leastBusy(exclude: ReadonlySet<string> = new Set()): Promise<FleetMember> {
    const candidates = this.members.filter((m) => !exclude.has(m.endpoint.canisterId));
    const ready = candidates.filter((m) => this.isAvailable(m.endpoint.canisterId));
    const pool = ready.length ? ready : candidates;
    if (pool.length === 0) throw new NoCanisterAvailableError('no model canister of the fleet is left to try');
    if (pool.length === 1) return pool[0];
    const probed = await Promise.all(
      pool.map(async (member) => {
        try {
          return { member, load: await this.probe(member), tieBreak: this.random() };
        } catch {
          this.markUnavailable(member.endpoint.canisterId);
          return null;
        }
      }),
    );
    const answered = probed.filter((p) => p !== null);
    if (answered.length === 0) return pool[Math.floor(this.random() * pool.length)];
    answered.sort(
      (a, b) => a.load.activeTurns - b.load.activeTurns || a.load.sessions - b.load.sessions || a.tieBreak - b.tieBreak,
    );
    return answered[0].member;
  }

  /** The conversation's canister; a new conversation (or one whose canister left the fleet) goes to the least busy. */
  async canisterFor(conversationId: string): Promise<FleetMember> {
    const placed = this.placementOf(conversationId);
    if (placed) return placed;
    const chosen = await this.leastBusy();
    this.placements.set(conversationId, chosen.endpoint.canisterId);
    return chosen;
  }

  /**
   * Runs `call` for the conversation on its canister. When the canister is stopped, upgrading, out of quota or
   * busy, the conversation moves to the least busy other canister and `call` runs again there with `moved` set
   * (it must replay the conversation into a new session), until a canister answers or every one was tried.
   * Any other error is thrown as it is, and so is the last failover error when no canister is left.
   */
  async run<T>(
    conversationId: string,
    call: (member: FleetMember, context: FailoverContext) => Promise<T>,
    onMove?: (from: FleetMember, to: FleetMember, reason: FailoverReason) => void,
  ): Promise<T> {
    const tried = new Set<string>();
    let member = await this.canisterFor(conversationId);
    let moved = false;
    for (;;) {
      try {
        return await call(member, { moved });
      } catch (error) {
        const reason = failoverReason(error);
        if (reason === null) throw error;
        tried.add(member.endpoint.canisterId);
        this.markUnavailable(member.endpoint.canisterId);
        if (tried.size === this.members.length) throw error;
        const next = await this.leastBusy(tried);
        this.placements.set(conversationId, next.endpoint.canisterId);
        onMove?.(member, next, reason);
        member = next;
        moved = true;
      }
    }
  }
}
