import { describe, expect, it } from 'vitest';
import { describeStatus, liveStatsItems, phaseLabel, statsItems } from '../src/labels';
import { formatBytes, formatCount } from '../src/format';
import { initialSnapshot } from '../src/turn';
import { FakeModel } from './fake-model';

describe('phaseLabel', () => {
  it('shows the prompt being read, then generation', () => {
    expect(phaseLabel(initialSnapshot())).toBe('Sending…');
    expect(phaseLabel({ ...initialSnapshot(), phase: 'reading', promptTokensRemaining: 12 })).toBe(
      'Reading prompt… 12 tokens left',
    );
    expect(phaseLabel({ ...initialSnapshot(), phase: 'reading', promptTokensRemaining: 1 })).toBe(
      'Reading prompt… 1 token left',
    );
    expect(phaseLabel({ ...initialSnapshot(), phase: 'generating' })).toBe('Generating…');
    expect(phaseLabel({ ...initialSnapshot(), replayed: true })).toMatch(/replaying/);
  });
});

describe('statsItems', () => {
  it('summarises calls, tokens, instructions, time, seed and why the answer ended', () => {
    expect(
      statsItems({
        calls: 3,
        tokens: 12,
        contextTokens: 40,
        instructions: '12345678901',
        elapsedMs: 4150,
        seed: '42',
        stopReason: 'EndOfText',
      }),
    ).toEqual(['3 calls', '12 tokens', '40 in context', '12.3 B instructions', '4.2 s', 'seed 42', 'end of answer']);
    expect(
      statsItems({ calls: 1, tokens: 1, contextTokens: 9, instructions: '999', elapsedMs: 100, seed: '1' }),
    ).toEqual(['1 call', '1 token', '9 in context', '999 instructions', '0.1 s', 'seed 1']);
  });
});

describe('liveStatsItems', () => {
  it('counts calls and tokens while the answer grows', () => {
    expect(liveStatsItems({ ...initialSnapshot(), calls: 2, generatedTokens: 1 })).toEqual(['2 calls', '1 token']);
  });
});

describe('describeStatus', () => {
  it('lists loading state, model dimensions and canister counters', async () => {
    const groups = describeStatus(await new FakeModel().status());
    const value = (label: string) => groups.flatMap((g) => g.rows).find((r) => r.label === label)?.value;
    expect(groups.map((g) => g.title)).toEqual(['Loading', 'Model', 'Canister']);
    expect(value('Model loaded')).toBe('yes');
    expect(value('Weights uploaded')).toBe('476.8 MiB · sha256 00010203…');
    expect(value('Parameters')).toBe('124 M');
    expect(value('Weights')).toBe('f32');
    expect(value('Layers')).toBe('12');
    expect(value('Sessions')).toBe('0 of 16');
    expect(value('Setup instructions')).toBe('12 B');
    expect(value('Last call')).toBe('1 M instructions, 2 tokens');
  });

  it('leaves out the model section until a model is loaded', async () => {
    const model = new FakeModel();
    model.modelLoaded = false;
    const groups = describeStatus(await model.status());
    expect(groups.map((g) => g.title)).toEqual(['Loading', 'Canister']);
    expect(groups[0].rows[0]).toEqual({ label: 'Model loaded', value: 'no' });
  });
});

describe('formatting', () => {
  it('formats counts and bytes compactly', () => {
    expect(formatCount(0n)).toBe('0');
    expect(formatCount(1500)).toBe('1.5 K');
    expect(formatCount('40000000000')).toBe('40 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536n)).toBe('1.5 KiB');
  });
});
