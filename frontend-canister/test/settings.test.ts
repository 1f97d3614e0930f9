import { IDL } from '@icp-sdk/core/candid';
import { describe, expect, it } from 'vitest';
import { idlFactory } from '../src/bindings/model.did';
import {
  DEFAULT_SETTINGS,
  MAX_CALL_BUDGET,
  chooseSeed,
  loadSettings,
  normalizeSettings,
  saveSettings,
  toSamplingSettings,
} from '../src/settings';
import { MemoryStorage } from './fake-model';

/** The argument types of `start_turn`, straight from the bindings generated from model.did. */
function startTurnArgTypes(): IDL.Type[] {
  const service = idlFactory({ IDL }) as IDL.ServiceClass;
  const method = service._fields.find(([name]) => name === 'start_turn');
  return method![1].argTypes;
}

describe('toSamplingSettings', () => {
  it('maps the settings to the Candid record, with nat64 as BigInt and no budget as an empty opt', () => {
    expect(toSamplingSettings(DEFAULT_SETTINGS, 42n)).toStrictEqual({
      max_new_tokens: 128,
      temperature: 0.7,
      top_k: 40,
      top_p: 0.9,
      seed: 42n,
      call_budget: [],
    });
  });

  it('wraps an instruction budget in a one-element opt', () => {
    const record = toSamplingSettings({ ...DEFAULT_SETTINGS, callBudget: 2_500_000_000 }, 1n);
    expect(record.call_budget).toStrictEqual([2_500_000_000n]);
  });

  it('encodes and decodes through the generated IDL without loss', () => {
    const types = startTurnArgTypes();
    for (const callBudget of [null, 1_000_000]) {
      const request = {
        session_id: [18_446_744_073_709_551_615n],
        prompt: 'Hi',
        prompt_ids: [],
        settings: toSamplingSettings({ ...DEFAULT_SETTINGS, callBudget }, 2n ** 64n - 1n),
      };
      const bytes = IDL.encode(types, [request]);
      expect(IDL.decode(types, bytes)[0]).toStrictEqual(request);
    }
  });
});

describe('chooseSeed', () => {
  it('uses the fixed seed unless a random seed is wanted', () => {
    expect(chooseSeed({ ...DEFAULT_SETTINGS, randomSeed: false, seed: 7 })).toBe(7n);
  });

  it('draws a different nat64 each time when random', () => {
    const seeds = new Set(Array.from({ length: 20 }, () => chooseSeed({ ...DEFAULT_SETTINGS, randomSeed: true })));
    expect(seeds.size).toBe(20);
    for (const seed of seeds) expect(seed >= 0n && seed < 2n ** 64n).toBe(true);
  });
});

describe('normalizeSettings', () => {
  it('accepts form strings and clamps them into range', () => {
    expect(
      normalizeSettings({
        maxTokens: '5000',
        temperature: '-1',
        topK: '12.6',
        topP: '0',
        seed: '12',
        randomSeed: false,
        callBudget: '99999999999999',
      }),
    ).toStrictEqual({
      maxTokens: 1024,
      temperature: 0,
      topK: 13,
      topP: 0.01,
      seed: 12,
      randomSeed: false,
      callBudget: MAX_CALL_BUDGET,
    });
  });

  it('falls back to the defaults field by field', () => {
    expect(normalizeSettings({ maxTokens: 'lots', temperature: null, callBudget: '' })).toStrictEqual(DEFAULT_SETTINGS);
    expect(normalizeSettings('garbage')).toStrictEqual(DEFAULT_SETTINGS);
  });
});

describe('settings storage', () => {
  it('round-trips through localStorage', () => {
    const storage = new MemoryStorage();
    const settings = { ...DEFAULT_SETTINGS, maxTokens: 16, callBudget: 5_000_000, randomSeed: false };
    saveSettings(storage, settings);
    expect(loadSettings(storage)).toStrictEqual(settings);
  });

  it('uses the defaults when nothing or something unreadable is stored', () => {
    const storage = new MemoryStorage();
    expect(loadSettings(storage)).toStrictEqual(DEFAULT_SETTINGS);
    storage.setItem('gpt2-chat.settings.v1', '{not json');
    expect(loadSettings(storage)).toStrictEqual(DEFAULT_SETTINGS);
  });
});
