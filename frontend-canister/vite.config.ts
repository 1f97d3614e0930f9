import { defineConfig } from 'vitest/config';

export default defineConfig({
  // dfx writes `.env` (CANISTER_ID_MODEL, DFX_NETWORK) at the repository root and also passes them to the build.
  envDir: '..',
  envPrefix: ['CANISTER_ID_', 'DFX_NETWORK'],
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
  },
});
