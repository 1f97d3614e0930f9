import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeStatus, liveStatsItems, modelSummary, movedNote, phaseLabel, statsItems } from '../src/labels';
import { formatBytes, formatCount, formatInteger, formatRate, plural } from '../src/format';
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
    expect(phaseLabel({ ...initialSnapshot(), replayed: true, moved: true })).toBe(
      'Moving to another canister, replaying the conversation…',
    );
  });
});

describe('movedNote', () => {
  it('says where the conversation went and why', () => {
    expect(movedNote({ from: 'model', to: 'model_1', reason: 'stopped' })).toBe(
      'Moved to model_1: model was stopped, being upgraded or out of cycles, so the conversation was sent again as context.',
    );
    expect(movedNote({ from: 'model_2', to: 'model', reason: 'quota' })).toMatch(/^Moved to model: model_2 had spent/);
    expect(movedNote({ from: 'model', to: 'model_3', reason: 'crowded' })).toMatch(
      /^Moved to model_3: model had more conversations starting at once/,
    );
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
    ).toEqual([
      '3 calls',
      '12 tokens',
      '2.9 tokens/s',
      '40 in context',
      '12.3 B instructions',
      '4.2 s',
      'seed 42',
      'end of answer',
    ]);
    expect(
      statsItems({ calls: 1, tokens: 0, contextTokens: 1024, instructions: '999', elapsedMs: 100, seed: '1' }),
    ).toEqual(['1 call', '0 tokens', '1,024 in context', '999 instructions', '0.1 s', 'seed 1']);
  });
});

describe('liveStatsItems', () => {
  const generation = (firstReplyAt: number | undefined, priorElapsedMs = 0) => ({
    conversationId: 'c',
    messageId: 'm',
    snapshot: { ...initialSnapshot(), calls: 3, generatedTokens: 24 },
    startedAt: 10_000,
    firstReplyAt,
    priorElapsedMs,
  });

  it('shows nothing before the first reply, then calls, tokens, tokens per second and a running timer', () => {
    expect(liveStatsItems(generation(undefined), 12_000)).toEqual([]);
    expect(liveStatsItems(generation(11_000), 14_000)).toEqual(['3 calls', '24 tokens', '6.0 tokens/s', '4.0 s']);
    // A continued answer's timer and speed go on from its earlier runs.
    expect(liveStatsItems(generation(11_000, 5_000), 14_000)).toEqual([
      '3 calls',
      '24 tokens',
      '2.7 tokens/s',
      '9.0 s',
    ]);
  });

  it('says Stopping while the calls already sent finish', () => {
    expect(phaseLabel(initialSnapshot(), true)).toMatch(/^Stopping/);
  });
});

describe('modelSummary', () => {
  it('names the published model by its config digest, otherwise a random demo model, with size and precision', async () => {
    const status = await new FakeModel().status();
    expect(modelSummary(status)).toBe('Random demo model · 124 M · f32');
    const digest = createHash('sha256')
      .update(readFileSync(join(__dirname, '../../lib/model/config.json')))
      .digest();
    expect(modelSummary({ ...status, config_sha256: new Uint8Array(digest), precision: [{ Int8: null }] })).toBe(
      'GPT-2 open-instruct · 124 M · int8',
    );
    expect(modelSummary({ ...status, model_loaded: false })).toBeUndefined();
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

  it('keeps the zeros of whole numbers', () => {
    expect(formatCount(200_000_000)).toBe('200 M');
    expect(formatCount(150_000_000n)).toBe('150 M');
    expect(formatCount(2_000_000_000)).toBe('2 B');
    expect(formatCount(1_230_000)).toBe('1.23 M');
    expect(formatCount(999)).toBe('999');
    expect(formatInteger(20_000)).toBe('20,000');
    expect(plural(1024, 'token')).toBe('1,024 tokens');
  });

  it('gives tokens per second once there is time to measure', () => {
    expect(formatRate(5, 50)).toBeUndefined();
    expect(formatRate(3, 2000)).toBe('1.5 tokens/s');
    expect(formatRate(130, 4000)).toBe('33 tokens/s');
  });
});
