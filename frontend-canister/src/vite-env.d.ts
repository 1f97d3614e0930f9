/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Written by dfx to the repository's `.env`. */
  readonly CANISTER_ID_MODEL?: string;
  readonly DFX_NETWORK?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
