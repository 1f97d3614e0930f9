import {
  CertifiedRejectErrorCode,
  HttpFetchErrorCode,
  RejectError,
  TransportError,
  UncertifiedRejectErrorCode,
} from '@icp-sdk/core/agent';
import { describe, expect, it, vi } from 'vitest';
import { EndpointConfigError, type EnvironmentSources } from '../src/env';
import { CanisterError } from '../src/errors';
import {
  discoverFleet,
  Fleet,
  type FleetMember,
  type FleetSources,
  loadQueryProbe,
  MAX_FLEET_SIZE,
} from '../src/fleet';
import { type CanisterLoad, failoverReason } from '../src/fleet-rules.js';
import { fleetMember } from './fake-model';

const IDS = ['aaaaa-1', 'bbbbb-2', 'ccccc-3', 'ddddd-4'];

function sources(url: string, overrides: Partial<FleetSources> = {}): FleetSources {
  const { hostname, origin, search } = new URL(url);
  return { build: {}, location: { hostname, origin, search }, ...overrides } satisfies EnvironmentSources;
}

const ids = (fleet: FleetMember[]) => fleet.map((m) => [m.name, m.endpoint.canisterId]);

describe('discoverFleet', () => {
  it('takes every PUBLIC_CANISTER_ID:model[_k] of the cookie, in fleet order, with the network settings of one', () => {
    const fleet = discoverFleet(
      sources('http://127.0.0.1:4943/', {
        cookie: {
          'PUBLIC_CANISTER_ID:model_2': IDS[2],
          'PUBLIC_CANISTER_ID:frontend': 'not-a-model',
          'PUBLIC_CANISTER_ID:model': IDS[0],
          'PUBLIC_CANISTER_ID:model_10': IDS[3],
          'PUBLIC_CANISTER_ID:model_1': IDS[1],
          'PUBLIC_CANISTER_ID:model_01': 'not-a-fleet-name',
          'PUBLIC_CANISTER_ID:modelx': 'not-a-fleet-name',
        },
      }),
    );
    expect(ids(fleet)).toEqual([
      ['model', IDS[0]],
      ['model_1', IDS[1]],
      ['model_2', IDS[2]],
      ['model_10', IDS[3]],
    ]);
    for (const member of fleet) {
      expect(member.endpoint).toMatchObject({
        network: 'local',
        canisterIdSource: 'ic_env cookie',
        shouldFetchRootKey: true,
      });
    }
  });

  it('is one canister, as before, when only PUBLIC_CANISTER_ID:model is set', () => {
    const fleet = discoverFleet(sources('https://x.icp0.io/', { cookie: { 'PUBLIC_CANISTER_ID:model': IDS[0] } }));
    expect(ids(fleet)).toEqual([['model', IDS[0]]]);
    expect(fleet[0].endpoint).toMatchObject({ network: 'ic', verifyQuerySignatures: true });
  });

  it('reads CANISTER_ID_MODEL[_K] from the build environment', () => {
    const fleet = discoverFleet(
      sources('https://x.icp0.io/', {
        build: { canisterId: IDS[0], network: 'ic' },
        buildIds: {
          CANISTER_ID_MODEL: IDS[0],
          CANISTER_ID_MODEL_1: IDS[1],
          CANISTER_ID_FRONTEND: 'no',
          DFX_NETWORK: 'ic',
        },
      }),
    );
    expect(ids(fleet)).toEqual([
      ['model', IDS[0]],
      ['model_1', IDS[1]],
    ]);
  });

  it('takes ?canisterId=a,b or repeated canisterId parameters, without duplicates', () => {
    expect(
      ids(discoverFleet(sources(`http://localhost:4943/?canisterId=${IDS[0]},${IDS[1]}&canisterId=${IDS[2]}`))),
    ).toEqual([
      ['model', IDS[0]],
      ['model_1', IDS[1]],
      ['model_2', IDS[2]],
    ]);
    expect(ids(discoverFleet(sources(`http://localhost:4943/?canisterId=${IDS[0]},${IDS[0]}`)))).toEqual([
      ['model', IDS[0]],
    ]);
  });

  it(`keeps at most ${MAX_FLEET_SIZE} canisters of a forged list`, () => {
    const many = Array.from({ length: 100 }, (_, i) => `id-${i}`).join(',');
    expect(discoverFleet(sources(`http://localhost:4943/?canisterId=${many}`))).toHaveLength(MAX_FLEET_SIZE);
  });

  it('fails as discoverEndpoint does when no canister id is known', () => {
    expect(() => discoverFleet(sources('https://x.icp0.io/'))).toThrow(EndpointConfigError);
  });
});

const reject = (errorCode: string, message: string, code = 5) =>
  RejectError.fromCode(new CertifiedRejectErrorCode(new Uint8Array(32) as never, code, message, errorCode));

describe('failoverReason', () => {
  it.each([
    ['IC0508', 'Canister x is stopped and therefore does not have a CallContextManager'],
    ['IC0509', 'Canister x is stopping'],
    ['IC0537', 'Attempted to execute a message, but the canister contains no Wasm module.'],
    ['IC0207', 'Canister x is out of cycles'],
  ])('moves away from a canister that cannot run messages (%s)', (errorCode, message) => {
    expect(failoverReason(reject(errorCode, message))).toBe('stopped');
  });

  it('recognises a stopped canister by its text when a query reject carries no error code', () => {
    const error = RejectError.fromCode(
      new UncertifiedRejectErrorCode(new Uint8Array(32) as never, 5, 'Canister x is stopped', '', []),
    );
    expect(failoverReason(error)).toBe('stopped');
  });

  it("moves on the canister's quota and busy Errs, and on ingress refused for quota", () => {
    expect(failoverReason(new CanisterError('quota: this hour is spent; it frees up at 11:00 UTC (in 12 min)'))).toBe(
      'quota',
    );
    expect(failoverReason(new CanisterError('busy: all 13 sessions are in use; try again in a few minutes'))).toBe(
      'busy',
    );
    expect(failoverReason(reject('IC0406', 'Canister x rejected the message: quota: no instructions left', 4))).toBe(
      'quota',
    );
  });

  it('keeps the conversation where it is for every other error', () => {
    expect(failoverReason(new CanisterError('Prompt is too long'))).toBeNull();
    expect(failoverReason(new CanisterError('unknown session 7'))).toBeNull();
    expect(failoverReason(reject('IC0502', 'Canister trapped: out of memory'))).toBeNull();
    expect(
      failoverReason(TransportError.fromCode(new HttpFetchErrorCode(new TypeError('Failed to fetch')))),
    ).toBeNull();
    expect(failoverReason(new Error('quota: not from the canister'))).toBeNull();
  });
});

const fleetOf = (count: number) => Array.from({ length: count }, (_, i) => fleetMember(i));
const IN_FLEET = fleetOf(4).map((m) => m.endpoint.canisterId);

/** A probe answering from a table of loads, counting its calls. */
function probeOf(loads: Record<string, CanisterLoad | Error>) {
  return vi.fn(async (member: FleetMember) => {
    const load = loads[member.endpoint.canisterId];
    if (load instanceof Error) throw load;
    return load;
  });
}

const load = (sessionsInUse: number, activeTurns: number): CanisterLoad => ({ sessionsInUse, activeTurns });
const idOf = (member: FleetMember | null | undefined) => member?.endpoint.canisterId;

describe('Fleet.leastBusy', () => {
  it('picks the canister with the fewest conversations in use, then the fewest active turns', async () => {
    // the first has the fewest turns under way, but its users only think: they will be back
    const probe = probeOf({ [IN_FLEET[0]]: load(4, 0), [IN_FLEET[1]]: load(2, 2), [IN_FLEET[2]]: load(2, 1) });
    const fleet = new Fleet(fleetOf(3), { probe });
    expect(idOf(await fleet.leastBusy())).toBe(IN_FLEET[2]);
    expect(probe).toHaveBeenCalledTimes(3);
  });

  it('spreads equally loaded canisters at random, not all on the first', async () => {
    const probe = probeOf({ [IN_FLEET[0]]: load(0, 0), [IN_FLEET[1]]: load(0, 0) });
    const draws = [0.9, 0.1, 0.2, 0.8]; // tie-break draws: first pick gets the second canister, then the first
    const fleet = new Fleet(fleetOf(2), { probe, random: () => draws.shift()! });
    expect(idOf(await fleet.leastBusy())).toBe(IN_FLEET[1]);
    expect(idOf(await fleet.leastBusy())).toBe(IN_FLEET[0]);
  });

  it('skips a canister whose probe fails and avoids it while it cools down', async () => {
    let now = 0;
    const loads: Record<string, CanisterLoad | Error> = {
      [IN_FLEET[0]]: new Error('stopped'),
      [IN_FLEET[1]]: load(4, 4),
    };
    const probe = probeOf(loads);
    const fleet = new Fleet(fleetOf(2), { probe, now: () => now, cooldownMs: 1000 });
    expect(idOf(await fleet.leastBusy())).toBe(IN_FLEET[1]);
    expect(fleet.isAvailable(fleet.members[0])).toBe(false);
    expect(idOf(fleet.firstAvailable)).toBe(IN_FLEET[1]);
    loads[IN_FLEET[0]] = load(0, 0);
    probe.mockClear();
    expect(idOf(await fleet.leastBusy())).toBe(IN_FLEET[1]); // still cooling: the only one left, not even probed
    expect(probe).not.toHaveBeenCalled();
    now = 1000;
    expect(idOf(await fleet.leastBusy())).toBe(IN_FLEET[0]);
  });

  it('takes any canister when none answers its probe (they may still answer calls)', async () => {
    const fleet = new Fleet(fleetOf(2), {
      probe: probeOf({ [IN_FLEET[0]]: new Error('no'), [IN_FLEET[1]]: new Error('no') }),
      random: () => 0.7,
    });
    expect(idOf(await fleet.leastBusy())).toBe(IN_FLEET[1]);
  });

  it('with one canister (the default) never probes', async () => {
    const probe = probeOf({});
    const fleet = new Fleet(fleetOf(1), { probe });
    expect(idOf(await fleet.leastBusy())).toBe(IN_FLEET[0]);
    expect(probe).not.toHaveBeenCalled();
  });

  it('knows its canisters by id', () => {
    const fleet = new Fleet(fleetOf(2), { probe: probeOf({}) });
    expect(fleet.memberOf(IN_FLEET[1])).toBe(fleet.members[1]);
    expect(fleet.memberOf('gone-canister')).toBeUndefined();
  });
});

describe('loadQueryProbe', () => {
  it("reads the canister's load query through that canister's actor", async () => {
    const fleet = fleetOf(2);
    const asked: string[] = [];
    const probe = loadQueryProbe((member) => ({
      load: async () => {
        asked.push(member.endpoint.canisterId);
        return {
          active_turns: member.name === 'model' ? 3 : 1,
          sessions: 7,
          sessions_in_use: member.name === 'model' ? 5 : 2,
          max_sessions: 13,
          last_call_instructions: 5n,
        };
      },
    }));
    expect(await probe(fleet[0])).toEqual({ sessionsInUse: 5, activeTurns: 3 });
    expect(await probe(fleet[1])).toEqual({ sessionsInUse: 2, activeTurns: 1 });
    expect(asked).toEqual([IN_FLEET[0], IN_FLEET[1]]);
  });
});

describe('Fleet.lessCrowdedThan', () => {
  it('moves a new conversation when its canister has two more conversations in use than the least busy other', async () => {
    const probe = probeOf({ [IN_FLEET[0]]: load(3, 3), [IN_FLEET[1]]: load(2, 0), [IN_FLEET[2]]: load(1, 1) });
    const fleet = new Fleet(fleetOf(3), { probe });
    expect(idOf(await fleet.lessCrowdedThan(fleet.members[0]))).toBe(IN_FLEET[2]);
    expect(await fleet.lessCrowdedThan(fleet.members[1])).toBeNull(); // 2 against 1: moving would not even them out
    expect(await fleet.lessCrowdedThan(fleet.members[2])).toBeNull();
  });

  it('stays when its own canister does not answer, skips others that do not (they cool down), never probes alone', async () => {
    const loads: Record<string, CanisterLoad | Error> = {
      [IN_FLEET[0]]: load(4, 0),
      [IN_FLEET[1]]: new Error('stopped'),
      [IN_FLEET[2]]: load(2, 0),
    };
    const fleet = new Fleet(fleetOf(3), { probe: probeOf(loads) });
    expect(idOf(await fleet.lessCrowdedThan(fleet.members[0]))).toBe(IN_FLEET[2]);
    expect(fleet.isAvailable(fleet.members[1])).toBe(false);
    loads[IN_FLEET[0]] = new Error('no answer');
    expect(await fleet.lessCrowdedThan(fleet.members[0])).toBeNull();
    expect(fleet.isAvailable(fleet.members[0])).toBe(true);
    const probe = probeOf({});
    const alone = new Fleet(fleetOf(1), { probe });
    expect(await alone.lessCrowdedThan(alone.members[0])).toBeNull();
    expect(probe).not.toHaveBeenCalled();
  });
});

describe('Fleet.moveAway', () => {
  const stopped = () => reject('IC0508', 'Canister is stopped');

  it('moves a conversation off a stopped canister to the least busy other one, which cools down', async () => {
    const probe = probeOf({ [IN_FLEET[0]]: load(0, 0), [IN_FLEET[1]]: load(3, 0), [IN_FLEET[2]]: load(1, 0) });
    const fleet = new Fleet(fleetOf(3), { probe });
    const tried = new Set<string>();
    const move = await fleet.moveAway(fleet.members[0], stopped(), tried);
    expect(move).toEqual({ to: fleet.members[2], reason: 'stopped' });
    expect([...tried]).toEqual([IN_FLEET[0]]);
    expect(fleet.isAvailable(fleet.members[0])).toBe(false);
  });

  it('moves on quota, never back to a canister the turn failed on, and gives up when every one was tried', async () => {
    const fleet = new Fleet(fleetOf(3), {
      probe: probeOf({ [IN_FLEET[0]]: load(0, 0), [IN_FLEET[1]]: load(0, 0), [IN_FLEET[2]]: load(0, 0) }),
    });
    const refusal = new CanisterError('quota: this hour is spent');
    const tried = new Set<string>();
    const first = await fleet.moveAway(fleet.members[0], refusal, tried);
    expect(first?.reason).toBe('quota');
    const second = await fleet.moveAway(first!.to, refusal, tried);
    expect(new Set([IN_FLEET[0], idOf(first!.to), idOf(second!.to)])).toEqual(new Set(IN_FLEET.slice(0, 3)));
    expect(await fleet.moveAway(second!.to, refusal, tried)).toBeNull();
  });

  it('does not move on an error another canister would repeat', async () => {
    const probe = probeOf({ [IN_FLEET[0]]: load(0, 0), [IN_FLEET[1]]: load(1, 1) });
    const fleet = new Fleet(fleetOf(2), { probe });
    expect(await fleet.moveAway(fleet.members[0], new CanisterError('Prompt is too long'), new Set())).toBeNull();
    expect(fleet.isAvailable(fleet.members[0])).toBe(true);
    expect(probe).not.toHaveBeenCalled();
  });

  it('with one canister a stopped canister stays an error, as before', async () => {
    const probe = probeOf({});
    const fleet = new Fleet(fleetOf(1), { probe });
    expect(await fleet.moveAway(fleet.members[0], stopped(), new Set())).toBeNull();
    expect(probe).not.toHaveBeenCalled();
  });
});
