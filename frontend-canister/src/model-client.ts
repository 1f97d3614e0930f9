import { Actor, HttpAgent, type ActorSubclass, type Identity } from '@icp-sdk/core/agent';
import { idlFactory, type _SERVICE } from './bindings/model.did';
import type { ModelEndpoint } from './env';

export type ModelActor = ActorSubclass<_SERVICE>;

/** Plain call signatures of some canister methods, so test fakes need no actor machinery. */
export type ModelMethods<K extends keyof _SERVICE> = {
  [M in K]: (...args: Parameters<_SERVICE[M]>) => ReturnType<_SERVICE[M]>;
};

/** Synchronous: a local root key is fetched on the first call, so a replica that is down shows up as a call error. */
export function createModelActor(endpoint: ModelEndpoint, identity?: Identity): ModelActor {
  const agent = HttpAgent.createSync({
    identity,
    host: endpoint.host,
    rootKey: endpoint.rootKey,
    shouldFetchRootKey: endpoint.shouldFetchRootKey,
    verifyQuerySignatures: endpoint.verifyQuerySignatures,
  });
  return Actor.createActor<_SERVICE>(idlFactory, { agent, canisterId: endpoint.canisterId });
}
