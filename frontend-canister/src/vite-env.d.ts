/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Written by dfx to the repository's `.env`. */
  readonly CANISTER_ID_MODEL?: string;
  readonly DFX_NETWORK?: string;
  /** SHA-256 (hex) of lib/model/config.json, defined by vite.config.ts. */
  readonly VITE_PUBLISHED_CONFIG_SHA256?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
