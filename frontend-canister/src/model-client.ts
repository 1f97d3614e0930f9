import { Actor, HttpAgent, type ActorSubclass, type Identity } from '@icp-sdk/core/agent';
import { idlFactory, type _SERVICE } from './bindings/model.did';
import type { FleetMember } from './fleet';

export type ModelActor = ActorSubclass<_SERVICE>;

/** Plain call signatures of some canister methods, so test fakes need no actor machinery. */
export type ModelMethods<K extends keyof _SERVICE> = {
  [M in K]: (...args: Parameters<_SERVICE[M]>) => ReturnType<_SERVICE[M]>;
};

/**
 * An actor for each canister of the fleet, over one agent: its canisters share the network settings (discoverFleet).
 * Synchronous: a local root key is fetched on the first call, so a replica that is down shows up as a call error.
 */
export function createFleetActors(
  members: readonly FleetMember[],
  identity?: Identity,
): (member: FleetMember) => ModelActor {
  const { endpoint } = members[0];
  const agent = HttpAgent.createSync({
    identity,
    host: endpoint.host,
    rootKey: endpoint.rootKey,
    shouldFetchRootKey: endpoint.shouldFetchRootKey,
    verifyQuerySignatures: endpoint.verifyQuerySignatures,
  });
  const actors = new Map(
    members.map(({ endpoint: { canisterId } }) => [
      canisterId,
      Actor.createActor<_SERVICE>(idlFactory, { agent, canisterId }),
    ]),
  );
  return (member) => actors.get(member.endpoint.canisterId)!;
}
