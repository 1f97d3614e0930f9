import { safeGetCanisterEnv } from '@icp-sdk/core/agent/canister-env';

/** Where the model canister lives and how far the agent may trust the network it is on. */
export interface ModelEndpoint {
  canisterId: string;
  /** Which source supplied the canister id (shown in the status panel). */
  canisterIdSource: 'ic_env cookie' | 'build environment' | 'query parameter';
  network: 'local' | 'ic';
  /** Agent host; undefined lets the agent derive it from the page (icp0.io and friends). */
  host?: string;
  /** Root key from the asset canister's ic_env cookie (local only: mainnet keeps the agent's built-in key). */
  rootKey?: Uint8Array;
  /** Only a local replica's root key may be fetched from the replica itself. */
  shouldFetchRootKey: boolean;
  /** A local replica does not sign query responses. */
  verifyQuerySignatures: boolean;
}

/** Everything the page can learn about its environment, gathered in one place so discovery stays pure. */
export interface EnvironmentSources {
  /** Parsed `ic_env` cookie: `PUBLIC_CANISTER_ID:<name>` entries and the root key. */
  cookie?: { readonly IC_ROOT_KEY?: Uint8Array; readonly [key: string]: unknown };
  /** Values dfx wrote to `.env` when the bundle was built. */
  build: { canisterId?: string; network?: string };
  location: { hostname: string; origin: string; search: string };
}

export class EndpointConfigError extends Error {
  override name = 'EndpointConfigError';
}

const COOKIE_CANISTER_ID_KEY = 'PUBLIC_CANISTER_ID:model';
const MAINNET_API_HOST = 'https://icp-api.io';

export function isLocalHostname(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    /^127(\.\d{1,3}){3}$/.test(hostname) ||
    hostname === '[::1]' ||
    hostname === '::1'
  );
}

export function discoverEndpoint(sources: EnvironmentSources): ModelEndpoint {
  const { cookie, build, location } = sources;
  const fromCookie = cookie?.[COOKIE_CANISTER_ID_KEY];
  const fromQuery = new URLSearchParams(location.search).get('canisterId');
  const [canisterId, canisterIdSource]: [string | undefined, ModelEndpoint['canisterIdSource']] =
    typeof fromCookie === 'string' && fromCookie
      ? [fromCookie, 'ic_env cookie']
      : build.canisterId
        ? [build.canisterId, 'build environment']
        : [fromQuery ?? undefined, 'query parameter'];
  if (!canisterId) {
    throw new EndpointConfigError(
      'No model canister id found: expected an ic_env cookie with PUBLIC_CANISTER_ID:model, ' +
        'CANISTER_ID_MODEL at build time, or ?canisterId=… in the address.',
    );
  }

  // A build made for mainnet stays on mainnet even when the page is opened from a dev server.
  const pageIsLocal = isLocalHostname(location.hostname);
  const network = build.network !== 'ic' && pageIsLocal ? 'local' : 'ic';
  const rootKey = network === 'local' ? cookie?.IC_ROOT_KEY : undefined;
  return {
    canisterId,
    canisterIdSource,
    network,
    // Locally the replica serves the API on the page's own origin; a mainnet build on a local page needs the boundary nodes.
    host: network === 'local' ? location.origin : pageIsLocal ? MAINNET_API_HOST : undefined,
    rootKey,
    shouldFetchRootKey: network === 'local' && !rootKey,
    verifyQuerySignatures: network === 'ic',
  };
}

export function readBrowserSources(): EnvironmentSources {
  return {
    cookie: safeGetCanisterEnv<Record<string, string>>(),
    build: {
      canisterId: import.meta.env.CANISTER_ID_MODEL,
      network: import.meta.env.DFX_NETWORK,
    },
    location: window.location,
  };
}
