import { discoverEndpoint, type EnvironmentSources, type ModelEndpoint } from './env';
import {
  type CanisterLoad,
  canisterLoad,
  type FailoverReason,
  failoverReason,
  leastBusy,
  lessCrowded,
} from './fleet-rules.js';
import type { ModelMethods } from './model-client';

/**
 * A fleet of model canisters that all hold the model: `model`, `model_1`, … `model_<N-1>` (scripts/dev --replicas N,
 * or the same names in dfx.json / icp.yaml). The page starts each new conversation on the least busy canister, moves
 * it after its first reply if that canister turned out crowded, keeps it there, and moves it to another one
 * (replaying it into a new session) when its canister is stopped, being upgraded or out of quota. With one canister
 * (the default) nothing is probed and nothing moves.
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

/** The fleet and an actor for each of its canisters. */
export interface FleetActors<Actor> {
  fleet: Fleet;
  actorOf: (member: FleetMember) => Actor;
}

export type LoadProbe = (member: FleetMember) => Promise<CanisterLoad>;

/** A probe that asks each canister's `load` query through the actor `actorOf` gives for it. */
export function loadQueryProbe(actorOf: (member: FleetMember) => ModelMethods<'load'>): LoadProbe {
  return (member) => canisterLoad(actorOf(member));
}

export interface FleetOptions {
  probe: LoadProbe;
  /** How long a canister that failed is avoided for new placements. */
  cooldownMs?: number;
  now?: () => number;
  /** Breaks ties between equally loaded canisters, so pages that start together spread out. */
  random?: () => number;
}

/** A conversation leaving its canister: where to, and why. */
export interface FleetMove {
  to: FleetMember;
  reason: FailoverReason;
}

/**
 * The canisters of the fleet and how busy or unavailable they are. Which canister a conversation lives on is kept
 * with the conversation (its record's `canisterId`), not here.
 */
export class Fleet {
  readonly #unavailableUntil = new Map<string, number>();
  readonly #probe: LoadProbe;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  readonly #random: () => number;

  constructor(
    readonly members: readonly FleetMember[],
    options: FleetOptions,
  ) {
    if (members.length === 0) throw new Error('a fleet needs at least one canister');
    this.#probe = options.probe;
    this.#cooldownMs = options.cooldownMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** The canister with this id, unless it is not (or no longer) in the fleet. */
  memberOf(canisterId: string | undefined): FleetMember | undefined {
    return this.members.find((m) => m.endpoint.canisterId === canisterId);
  }

  markUnavailable(member: FleetMember): void {
    this.#unavailableUntil.set(member.endpoint.canisterId, this.#now() + this.#cooldownMs);
  }

  isAvailable(member: FleetMember): boolean {
    return (this.#unavailableUntil.get(member.endpoint.canisterId) ?? 0) <= this.#now();
  }

  /** The first canister that is not cooling down after a failure, or the first of all when every one is. */
  get firstAvailable(): FleetMember {
    return this.members.find((m) => this.isAvailable(m)) ?? this.members[0];
  }

  /**
   * The least busy canister outside `exclude` (see leastBusy in fleet-rules.js). Canisters cooling down after a
   * failure come last; one whose probe fails is skipped and cools down. A lone candidate is chosen without a probe,
   * so a fleet of one never probes.
   */
  async leastBusy(exclude: ReadonlySet<string> = new Set()): Promise<FleetMember> {
    const candidates = this.members.filter((m) => !exclude.has(m.endpoint.canisterId));
    const ready = candidates.filter((m) => this.isAvailable(m));
    const pool = ready.length ? ready : candidates;
    if (pool.length === 0) throw new Error('every canister of the fleet is excluded');
    if (pool.length === 1) return pool[0];
    const chosen = await leastBusy(pool, this.#probe, {
      random: this.#random,
      onUnreachable: (member) => this.markUnavailable(member),
    });
    // No canister answered its load query; any of them may still answer calls.
    return chosen ?? pool[Math.floor(this.#random() * pool.length)];
  }

  /**
   * Where a new conversation on `current` goes after its first reply (see lessCrowded in fleet-rules.js), among the
   * canisters not cooling down; null to stay. A fleet of one never probes.
   */
  async lessCrowdedThan(current: FleetMember): Promise<FleetMember | null> {
    const others = this.members.filter((m) => m !== current && this.isAvailable(m));
    if (others.length === 0) return null;
    return lessCrowded(current, others, this.#probe, {
      random: this.#random,
      onUnreachable: (member) => {
        if (member !== current) this.markUnavailable(member);
      },
    });
  }

  /**
   * Where a conversation goes after a call on `from` failed with `error`: the least busy canister not in `tried` (the
   * canisters this turn has failed on, which gains `from`), or null when moving would not help (failoverReason is
   * null) or no canister is left to try: then the error stands, as with one canister. `from` cools down.
   */
  async moveAway(from: FleetMember, error: unknown, tried: Set<string>): Promise<FleetMove | null> {
    const reason = failoverReason(error);
    if (reason === null) return null;
    tried.add(from.endpoint.canisterId);
    this.markUnavailable(from);
    if (tried.size >= this.members.length) return null;
    return { to: await this.leastBusy(tried), reason };
  }
}
