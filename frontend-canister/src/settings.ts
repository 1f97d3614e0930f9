import type { SamplingSettings } from './bindings/model.did';

/** What the user can tune; stored in localStorage and mapped to the Candid `SamplingSettings` per turn. */
export interface GenerationSettings {
  maxTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  /** Draw a fresh seed for every answer instead of using `seed`. */
  randomSeed: boolean;
  /** Instructions one call may spend; null lets the canister use its safe maximum. */
  callBudget: number | null;
}

export const DEFAULT_SETTINGS: Readonly<GenerationSettings> = {
  maxTokens: 128,
  temperature: 0.7,
  topK: 40,
  topP: 0.9,
  seed: 42,
  randomSeed: true,
  callBudget: null,
};

/** The IC caps one update call at 40 B instructions. */
export const MAX_CALL_BUDGET = 40_000_000_000;
const MAX_TOKENS = 1024; // GPT-2's context length
const VOCAB_SIZE = 50_260;

const STORAGE_KEY = 'gpt2-chat.settings.v1';

function clampNumber(value: unknown, min: number, max: number, fallback: number, integer = false): number {
  const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() ? Number(value) : NaN;
  if (!Number.isFinite(number)) return fallback;
  const clamped = Math.min(max, Math.max(min, number));
  return integer ? Math.round(clamped) : clamped;
}

/** Turns anything (stored JSON, form values) into valid settings, falling back to defaults field by field. */
export function normalizeSettings(input: unknown): GenerationSettings {
  const raw = (input && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const d = DEFAULT_SETTINGS;
  const budget = raw.callBudget;
  return {
    maxTokens: clampNumber(raw.maxTokens, 1, MAX_TOKENS, d.maxTokens, true),
    temperature: clampNumber(raw.temperature, 0, 2, d.temperature),
    topK: clampNumber(raw.topK, 0, VOCAB_SIZE, d.topK, true),
    topP: clampNumber(raw.topP, 0.01, 1, d.topP),
    seed: clampNumber(raw.seed, 0, Number.MAX_SAFE_INTEGER, d.seed, true),
    randomSeed: typeof raw.randomSeed === 'boolean' ? raw.randomSeed : d.randomSeed,
    callBudget:
      budget === null || budget === undefined || budget === ''
        ? null
        : clampNumber(budget, 1, MAX_CALL_BUDGET, MAX_CALL_BUDGET, true),
  };
}

export function loadSettings(storage: Storage): GenerationSettings {
  try {
    return normalizeSettings(JSON.parse(storage.getItem(STORAGE_KEY) ?? 'null'));
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
}

export function saveSettings(storage: Storage, settings: GenerationSettings): void {
  storage.setItem(STORAGE_KEY, JSON.stringify(settings));
}

/** A uniformly random nat64. */
export function randomSeed(): bigint {
  const [high, low] = crypto.getRandomValues(new Uint32Array(2));
  return (BigInt(high) << 32n) | BigInt(low);
}

export function chooseSeed(settings: GenerationSettings): bigint {
  return settings.randomSeed ? randomSeed() : BigInt(settings.seed);
}

export function toSamplingSettings(settings: GenerationSettings, seed: bigint): SamplingSettings {
  return {
    max_new_tokens: settings.maxTokens,
    temperature: settings.temperature,
    top_k: settings.topK,
    top_p: settings.topP,
    seed,
    call_budget: settings.callBudget === null ? [] : [BigInt(settings.callBudget)],
  };
}
