import { afterEach, describe, expect, it } from 'vitest';
import { EndpointConfigError, type EnvironmentSources, discoverEndpoint, readBrowserSources } from '../src/env';

const ROOT_KEY_HEX = `308182301d060d2b0601040182dc7c0503010201060c2b0601040182dc7c05030201036100${'ab'.repeat(96)}`;
const rootKey = Uint8Array.from(ROOT_KEY_HEX.match(/../g)!, (b) => parseInt(b, 16));

function sources(url: string, overrides: Partial<EnvironmentSources> = {}): EnvironmentSources {
  const { hostname, origin, search } = new URL(url);
  return { build: {}, location: { hostname, origin, search }, ...overrides };
}

describe('discoverEndpoint', () => {
  it('prefers the ic_env cookie over the build environment and the query parameter', () => {
    const endpoint = discoverEndpoint(
      sources('http://127.0.0.1:8000/?canisterId=query-id', {
        cookie: { IC_ROOT_KEY: rootKey, 'PUBLIC_CANISTER_ID:model': 'cookie-id' },
        build: { canisterId: 'build-id', network: 'local' },
      }),
    );
    expect(endpoint).toMatchObject({ canisterId: 'cookie-id', canisterIdSource: 'ic_env cookie' });
  });

  it('falls back to the build environment, then to ?canisterId=', () => {
    expect(
      discoverEndpoint(sources('http://localhost:4943/?canisterId=q', { build: { canisterId: 'b' } })),
    ).toMatchObject({
      canisterId: 'b',
      canisterIdSource: 'build environment',
    });
    expect(discoverEndpoint(sources('http://localhost:4943/?canisterId=q'))).toMatchObject({
      canisterId: 'q',
      canisterIdSource: 'query parameter',
    });
  });

  it('says clearly when no canister id can be found', () => {
    expect(() => discoverEndpoint(sources('https://example.icp0.io/'))).toThrow(EndpointConfigError);
    expect(() => discoverEndpoint(sources('https://example.icp0.io/'))).toThrow(/PUBLIC_CANISTER_ID:model/);
  });

  it.each(['http://127.0.0.1:8080/', 'http://localhost:4943/', 'http://bkyz2-fmaaa-aaaaa-qaaaq-cai.localhost:4943/'])(
    'fetches the root key and skips query signatures on the local replica at %s',
    (url) => {
      const endpoint = discoverEndpoint(sources(url, { build: { canisterId: 'm', network: 'local' } }));
      expect(endpoint).toMatchObject({
        network: 'local',
        host: new URL(url).origin,
        rootKey: undefined,
        shouldFetchRootKey: true,
        verifyQuerySignatures: false,
      });
    },
  );

  it('uses the root key from the cookie locally instead of fetching it', () => {
    const endpoint = discoverEndpoint(
      sources('http://127.0.0.1:8080/', { cookie: { IC_ROOT_KEY: rootKey, 'PUBLIC_CANISTER_ID:model': 'm' } }),
    );
    expect(endpoint).toMatchObject({
      network: 'local',
      rootKey,
      shouldFetchRootKey: false,
      verifyQuerySignatures: false,
    });
  });

  it('never fetches or accepts a root key on mainnet', () => {
    const endpoint = discoverEndpoint(
      sources('https://fe-cai.icp0.io/', { cookie: { IC_ROOT_KEY: rootKey, 'PUBLIC_CANISTER_ID:model': 'm' } }),
    );
    expect(endpoint).toMatchObject({
      network: 'ic',
      host: undefined,
      rootKey: undefined,
      shouldFetchRootKey: false,
      verifyQuerySignatures: true,
    });
  });

  it('keeps a mainnet build on mainnet when opened from a local dev server', () => {
    const endpoint = discoverEndpoint(sources('http://localhost:5173/', { build: { canisterId: 'm', network: 'ic' } }));
    expect(endpoint).toMatchObject({
      network: 'ic',
      host: 'https://icp-api.io',
      shouldFetchRootKey: false,
      verifyQuerySignatures: true,
    });
  });
});

describe('readBrowserSources', () => {
  afterEach(() => {
    document.cookie = 'ic_env=; expires=Thu, 01 Jan 1970 00:00:00 GMT';
  });

  it('reads the ic_env cookie the asset canister sets', () => {
    document.cookie = `ic_env=${encodeURIComponent(`ic_root_key=${ROOT_KEY_HEX}&PUBLIC_CANISTER_ID:model=uxrrr-q7777-77774-qaaaq-cai`)}`;
    const { cookie } = readBrowserSources();
    expect(cookie?.['PUBLIC_CANISTER_ID:model']).toBe('uxrrr-q7777-77774-qaaaq-cai');
    expect(cookie?.IC_ROOT_KEY).toEqual(rootKey);
  });

  it('has no cookie environment without the cookie', () => {
    expect(readBrowserSources().cookie).toBeUndefined();
  });
});
