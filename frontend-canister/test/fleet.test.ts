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
  type CanisterLoad,
  discoverFleet,
  failoverReason,
  Fleet,
  type FleetMember,
  type FleetSources,
  loadQueryProbe,
  MAX_FLEET_SIZE,
} from '../src/fleet';

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

function fleetOf(count: number): FleetMember[] {
  return IDS.slice(0, count).map((canisterId, i) => ({
    name: i ? `model_${i}` : 'model',
    endpoint: {
      canisterId,
      canisterIdSource: 'ic_env cookie',
      network: 'local',
      shouldFetchRootKey: true,
      verifyQuerySignatures: false,
    },
  }));
}

/** A probe answering from a table of loads, counting its calls. */
function probeOf(loads: Record<string, CanisterLoad | Error>) {
  return vi.fn(async (member: FleetMember) => {
    const load = loads[member.endpoint.canisterId];
    if (load instanceof Error) throw load;
    return load;
  });
}

const load = (activeTurns: number, sessions: number): CanisterLoad => ({ activeTurns, sessions });

describe('Fleet placement', () => {
  it('puts a new conversation on the canister with the fewest active turns, then the fewest sessions', async () => {
    const probe = probeOf({ [IDS[0]]: load(2, 1), [IDS[1]]: load(1, 9), [IDS[2]]: load(1, 3) });
    const fleet = new Fleet(fleetOf(3), { probe });
    expect((await fleet.canisterFor('c1')).endpoint.canisterId).toBe(IDS[2]);
    expect(probe).toHaveBeenCalledTimes(3);
  });

  it('keeps a conversation on its canister without probing again, whatever the loads become', async () => {
    const loads = { [IDS[0]]: load(0, 0), [IDS[1]]: load(5, 5) };
    const probe = probeOf(loads);
    const fleet = new Fleet(fleetOf(2), { probe });
    expect((await fleet.canisterFor('c1')).endpoint.canisterId).toBe(IDS[0]);
    loads[IDS[0]] = load(9, 9);
    expect((await fleet.canisterFor('c1')).endpoint.canisterId).toBe(IDS[0]);
    expect(probe).toHaveBeenCalledTimes(2);
  });

  it('spreads equally loaded canisters at random, not all on the first', async () => {
    const probe = probeOf({ [IDS[0]]: load(0, 0), [IDS[1]]: load(0, 0) });
    const draws = [0.9, 0.1, 0.2, 0.8]; // tie-break draws: first pick gets IDS[1], second IDS[0]
    const fleet = new Fleet(fleetOf(2), { probe, random: () => draws.shift()! });
    expect((await fleet.canisterFor('c1')).endpoint.canisterId).toBe(IDS[1]);
    expect((await fleet.canisterFor('c2')).endpoint.canisterId).toBe(IDS[0]);
  });

  it('restores a stored placement, and ignores one outside the fleet', async () => {
    const probe = probeOf({ [IDS[0]]: load(0, 0), [IDS[1]]: load(3, 3) });
    const fleet = new Fleet(fleetOf(2), { probe });
    fleet.place('c1', IDS[1]);
    fleet.place('c2', 'gone-canister');
    expect((await fleet.canisterFor('c1')).endpoint.canisterId).toBe(IDS[1]);
    expect((await fleet.canisterFor('c2')).endpoint.canisterId).toBe(IDS[0]);
  });

  it('skips a canister whose probe fails and avoids it while it cools down', async () => {
    let now = 0;
    const loads: Record<string, CanisterLoad | Error> = { [IDS[0]]: new Error('stopped'), [IDS[1]]: load(4, 4) };
    const fleet = new Fleet(fleetOf(2), { probe: probeOf(loads), now: () => now, cooldownMs: 1000 });
    expect((await fleet.canisterFor('c1')).endpoint.canisterId).toBe(IDS[1]);
    expect(fleet.isAvailable(IDS[0])).toBe(false);
    loads[IDS[0]] = load(0, 0);
    expect((await fleet.canisterFor('c2')).endpoint.canisterId).toBe(IDS[1]); // still cooling: not even probed
    now = 1000;
    expect((await fleet.canisterFor('c3')).endpoint.canisterId).toBe(IDS[0]);
  });

  it('with one canister (the default) never probes', async () => {
    const probe = probeOf({});
    const fleet = new Fleet(fleetOf(1), { probe });
    expect((await fleet.canisterFor('c1')).endpoint.canisterId).toBe(IDS[0]);
    expect(probe).not.toHaveBeenCalled();
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
          max_sessions: 13,
          last_call_instructions: 5n,
        };
      },
    }));
    expect(await probe(fleet[0])).toEqual({ activeTurns: 3, sessions: 7 });
    expect(await probe(fleet[1])).toEqual({ activeTurns: 1, sessions: 7 });
    expect(asked).toEqual([IDS[0], IDS[1]]);
  });
});

describe('Fleet.run failover', () => {
  const stopped = () => reject('IC0508', 'Canister is stopped');

  it('moves a conversation off a stopped canister to the least busy other one, which replays it', async () => {
    const probe = probeOf({ [IDS[0]]: load(0, 0), [IDS[1]]: load(3, 0), [IDS[2]]: load(1, 0) });
    const fleet = new Fleet(fleetOf(3), { probe });
    fleet.place('c1', IDS[0]);
    const calls: [string, boolean][] = [];
    const moves: string[] = [];
    const answer = await fleet.run(
      'c1',
      async (member, { moved }) => {
        calls.push([member.endpoint.canisterId, moved]);
        if (member.endpoint.canisterId === IDS[0]) throw stopped();
        return 'hello';
      },
      (from, to, reason) => moves.push(`${from.name}->${to.name}:${reason}`),
    );
    expect(answer).toBe('hello');
    expect(calls).toEqual([
      [IDS[0], false],
      [IDS[2], true],
    ]);
    expect(moves).toEqual(['model->model_2:stopped']);
    expect(fleet.placementOf('c1')?.endpoint.canisterId).toBe(IDS[2]);
    expect(fleet.isAvailable(IDS[0])).toBe(false);
  });

  it('moves on quota, tries each canister at most once, then throws the last refusal', async () => {
    const fleet = new Fleet(fleetOf(3), {
      probe: probeOf({ [IDS[0]]: load(0, 0), [IDS[1]]: load(0, 0), [IDS[2]]: load(0, 0) }),
    });
    const tried: string[] = [];
    const refusal = new CanisterError('quota: this hour is spent');
    await expect(
      fleet.run('c1', async (member) => {
        tried.push(member.endpoint.canisterId);
        throw refusal;
      }),
    ).rejects.toBe(refusal);
    expect([...tried].sort()).toEqual(IDS.slice(0, 3));
  });

  it('does not move on an error another canister would repeat', async () => {
    const fleet = new Fleet(fleetOf(2), { probe: probeOf({ [IDS[0]]: load(0, 0), [IDS[1]]: load(1, 1) }) });
    const call = vi.fn(async () => {
      throw new CanisterError('Prompt is too long');
    });
    await expect(fleet.run('c1', call)).rejects.toThrow('Prompt is too long');
    expect(call).toHaveBeenCalledTimes(1);
    expect(fleet.placementOf('c1')?.endpoint.canisterId).toBe(IDS[0]);
  });

  it('with one canister a stopped canister is an error, as before', async () => {
    const fleet = new Fleet(fleetOf(1), { probe: probeOf({}) });
    const error = stopped();
    await expect(fleet.run('c1', async () => Promise.reject(error))).rejects.toBe(error);
  });
});
