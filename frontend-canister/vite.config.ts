import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// The status pill names the published model when the canister's uploaded config is this file.
const publishedConfigSha256 = createHash('sha256')
  .update(readFileSync(new URL('../lib/model/config.json', import.meta.url)))
  .digest('hex');

export default defineConfig({
  // dfx writes `.env` (CANISTER_ID_MODEL, DFX_NETWORK) at the repository root and also passes them to the build.
  envDir: '..',
  envPrefix: ['CANISTER_ID_', 'DFX_NETWORK'],
  define: {
    'import.meta.env.VITE_PUBLISHED_CONFIG_SHA256': JSON.stringify(publishedConfigSha256),
  },
  build: {
    target: 'es2022',
    sourcemap: false,
  },
  server: {
    // `vite dev` against a local replica: the agent calls /api on the page's origin.
    proxy: { '/api': process.env.REPLICA_URL ?? 'http://127.0.0.1:4943' },
  },
  test: {
    environment: 'jsdom',
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
  },
});
