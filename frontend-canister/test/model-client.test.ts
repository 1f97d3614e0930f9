// @vitest-environment-options { "url": "https://fe.icp0.io/?canisterId=aaaaa-aa,ryjl3-tyaaa-aaaaa-aaaba-cai" }
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readBrowserSources } from '../src/env';
import { discoverFleet } from '../src/fleet';
import { createFleetActors } from '../src/model-client';

// The agent retries a refused request with backoff: each test takes 3–5 s, near vitest's default limit of 5 s.
describe('createFleetActors', { timeout: 30_000 }, () => {
  afterEach(() => vi.unstubAllGlobals());

  /** Records the URLs the agent requests; every request is refused so nothing else happens. */
  function recordFetches(): string[] {
    const urls: string[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL) => {
        urls.push(String(input instanceof Request ? input.url : input));
        return new Response('refused', { status: 403 });
      }),
    );
    return urls;
  }

  it('asks the local replica for its root key before the first call', async () => {
    const urls = recordFetches();
    const members = discoverFleet({ build: { canisterId: 'aaaaa-aa' }, location: new URL('http://127.0.0.1:8080/') });
    await expect(createFleetActors(members)(members[0]).status()).rejects.toThrow();
    expect(urls[0]).toBe('http://127.0.0.1:8080/api/v2/status');
  });

  it('never asks mainnet for a root key', async () => {
    const urls = recordFetches();
    const members = discoverFleet(readBrowserSources());
    await expect(createFleetActors(members)(members[0]).status()).rejects.toThrow();
    expect(urls[0]).toBe('https://icp0.io/api/v3/canister/aaaaa-aa/query');
    expect(urls.filter((url) => url.endsWith('/api/v2/status'))).toEqual([]);
  });

  it('gives each canister of the fleet its own actor, calling that canister', async () => {
    const urls = recordFetches();
    const members = discoverFleet(readBrowserSources());
    const actorOf = createFleetActors(members);
    await expect(actorOf(members[1]).status()).rejects.toThrow();
    expect(urls[0]).toBe('https://icp0.io/api/v3/canister/ryjl3-tyaaa-aaaaa-aaaba-cai/query');
  });
});
