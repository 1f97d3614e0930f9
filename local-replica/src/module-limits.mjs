// The IC's limits and naming rules for canister modules, from the project's one table of them,
// platform/module-limits.json (shared with the IC module gate, scripts/build/wasm-gate.mjs; sources in
// docs/ic-platform.md).
import { readFileSync } from 'node:fs';

const TABLE = JSON.parse(readFileSync(new URL('../../platform/module-limits.json', import.meta.url), 'utf8'));

/** Each limit's maximum by name: moduleBytes, codeSectionBytes, functions, globals, methods, methodNameBytes, … */
export const LIMITS = Object.freeze(Object.fromEntries(Object.entries(TABLE.limits).map(([name, { max }]) => [name, max])));
/** `canister_init`, `canister_heartbeat`, …: the entry points other than methods. */
export const SYSTEM_ENTRY_POINTS = new Set(TABLE.systemEntryPoints);
/** `canister_update `, `canister_query `, `canister_composite_query ` (one space, then the method's name). */
export const METHOD_PREFIXES = TABLE.methodPrefixes;
/** Export names the IC reserves for what it injects (its counters, `canister_start`, stable memory). */
export const RESERVED_EXPORTS = new Set(TABLE.reservedExports);
