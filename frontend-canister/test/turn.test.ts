import { describe, expect, it } from 'vitest';
import type { SamplingSettings } from '../src/bindings/model.did';
import { CanisterError } from '../src/errors';
import { type TurnSnapshot, runTurn } from '../src/turn';
import { FakeModel } from './fake-model';

const settings: SamplingSettings = {
  max_new_tokens: 6,
  temperature: 0.7,
  top_k: 40,
  top_p: 0.9,
  seed: 42n,
  call_budget: [],
};

const input = { prompt: 'Hello there', replayPrompt: 'Hello there', settings };

describe('runTurn', () => {
  it('starts the turn, then continues it call by call until the canister says done', async () => {
    const model = new FakeModel({ promptTokensPerCall: 4, tokensPerCall: 2 });
    const snapshots: TurnSnapshot[] = [];

    const outcome = await runTurn(model, input, { onProgress: (s) => snapshots.push(s) });

    // 6 prompt tokens read in 2 calls, then 6 tokens generated in 3 calls.
    expect(model.requests.map((r) => r.method)).toEqual([
      'start_turn',
      'continue_turn',
      'continue_turn',
      'continue_turn',
      'continue_turn',
    ]);
    expect(model.method('continue_turn')).toEqual([1n, 1n, 1n, 1n]);
    expect(snapshots.map((s) => [s.phase, s.promptTokensRemaining, s.text])).toEqual([
      ['reading', 2, ''],
      ['generating', 0, ''],
      ['generating', 0, 't1 t2 '],
      ['generating', 0, 't1 t2 t3 t4 '],
      ['generating', 0, 't1 t2 t3 t4 t5 t6 '],
    ]);
    expect(outcome).toMatchObject({
      status: 'done',
      stopReason: 'MaxTokens',
      text: 't1 t2 t3 t4 t5 t6 ',
      calls: 5,
      generatedTokens: 6,
      contextTokens: 12,
      instructions: 5_000_000n,
      sessionId: 1n,
      replayed: false,
    });
  });

  it('sends the request record exactly as Candid expects', async () => {
    const model = new FakeModel();
    model.sessions.set(7n, { promptTokensLeft: 0, generated: 0, maxNewTokens: 0, context: 30 });
    const budgeted = { ...settings, call_budget: [2_000_000n] as [bigint] };

    await runTurn(model, { ...input, sessionId: 7n, settings: budgeted });

    expect(model.method('start_turn')[0]).toStrictEqual({
      session_id: [7n],
      prompt: 'Hello there',
      prompt_ids: [],
      settings: budgeted,
    });
    expect(model.method('continue_turn').every((id) => id === 7n)).toBe(true);
  });

  it('starts a new session when no session id is given', async () => {
    const model = new FakeModel();
    await runTurn(model, input);
    expect(model.method('start_turn')[0]).toMatchObject({ session_id: [] });
  });

  it('stops between calls once the signal is aborted', async () => {
    const model = new FakeModel({ tokensPerCall: 1 });
    const abort = new AbortController();
    let generatingCalls = 0;

    const outcome = await runTurn(model, input, {
      signal: abort.signal,
      onProgress: (s) => {
        if (s.phase === 'generating' && s.text && ++generatingCalls === 2) abort.abort();
      },
    });

    expect(outcome.status).toBe('stopped');
    expect(outcome.stopReason).toBeUndefined();
    expect(outcome.text).toBe('t1 t2 ');
    expect(model.requests).toHaveLength(outcome.calls);
  });

  it('keeps the reply of the call in flight when stop is pressed during it', async () => {
    const model = new FakeModel();
    const abort = new AbortController();
    model.onCall = () => abort.abort();

    const outcome = await runTurn(model, input, { signal: abort.signal });

    expect(outcome).toMatchObject({ status: 'stopped', calls: 1, sessionId: 1n });
  });

  it('turns an Err reply into a CanisterError', async () => {
    const model = new FakeModel();
    model.modelLoaded = false;
    await expect(runTurn(model, input)).rejects.toThrow(CanisterError);
    await expect(runTurn(model, input)).rejects.toThrow('Model not loaded');
  });

  it('passes agent errors (network, reject) through', async () => {
    const model = new FakeModel();
    model.onCall = (method) => method === 'start_turn' && model.script(new TypeError('Failed to fetch'));
    await expect(runTurn(model, input)).rejects.toThrow('Failed to fetch');
    expect(model.requests.map((r) => r.method)).toEqual(['start_turn', 'continue_turn']);
  });

  it('replays the conversation into a new session when the canister forgot the session', async () => {
    const model = new FakeModel();
    const snapshots: TurnSnapshot[] = [];

    const outcome = await runTurn(
      model,
      { prompt: 'And then?', sessionId: 99n, replayPrompt: 'User: Hi\nAssistant: Hello\n\nUser: And then?', settings },
      { onProgress: (s) => snapshots.push(s) },
    );

    const starts = model.method('start_turn') as Array<{ session_id: bigint[]; prompt: string }>;
    expect(starts.map((s) => [s.session_id, s.prompt])).toEqual([
      [[99n], 'And then?'],
      [[], 'User: Hi\nAssistant: Hello\n\nUser: And then?'],
    ]);
    expect(snapshots[0]).toMatchObject({ phase: 'starting', replayed: true, sessionId: undefined });
    expect(outcome).toMatchObject({ status: 'done', replayed: true, sessionId: 1n, text: 't1 t2 t3 t4 t5 t6 ' });
  });

  it('restarts from scratch when the session disappears in the middle of a turn', async () => {
    const model = new FakeModel({ promptTokensPerCall: 100 });
    model.onCall = (method) => {
      // Evict the session right after it produced its first tokens.
      if (method === 'continue_turn' && model.sessions.get(1n)?.generated) {
        model.sessions.delete(1n);
        model.onCall = undefined;
      }
    };

    const outcome = await runTurn(model, input);

    expect(outcome).toMatchObject({ replayed: true, sessionId: 2n, text: 't1 t2 t3 t4 t5 t6 ' });
  });

  it('gives up when the replacement session is lost as well', async () => {
    const model = new FakeModel();
    model.script({ Err: 'Unknown session 5' }, { Err: 'unknown session 1' });
    await expect(runTurn(model, { ...input, sessionId: 5n })).rejects.toThrow('unknown session 1');
    expect(model.requests).toHaveLength(2);
  });
});
