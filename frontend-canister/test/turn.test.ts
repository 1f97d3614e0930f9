import { describe, expect, it } from 'vitest';
import type { SamplingSettings } from '../src/bindings/model.did';
import { CanisterError } from '../src/errors';
import { type TurnSnapshot, initialSnapshot, runTurn } from '../src/turn';
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

    // 6 prompt tokens read in 2 calls, then 6 tokens generated in 3 calls; at 4 of 6 tokens, with 2 a call, the call
    // running makes the last ones, so no call is queued behind it (it would find the turn ended).
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

    // The call queued behind the second one had already been sent: its token is shown, and nothing follows.
    expect(outcome.status).toBe('stopped');
    expect(outcome.stopReason).toBeUndefined();
    expect(outcome.text).toBe('t1 t2 t3 ');
    expect(model.requests).toHaveLength(outcome.calls);
  });

  it('keeps exactly one continue_turn queued behind the running call, from the second call on', async () => {
    const model = new FakeModel({ promptTokensPerCall: 100, tokensPerCall: 1 });
    model.holding = true;
    const running = runTurn(model, { ...input, settings: { ...settings, max_new_tokens: 4 } });
    await Promise.resolve();
    // Nothing is queued behind the turn's first call.
    expect(model.requests.map((r) => r.method)).toEqual(['start_turn']);
    await model.release(1);
    // Its reply came: the second call runs and the third waits in the canister's queue.
    expect(model.requests.map((r) => r.method)).toEqual(['start_turn', 'continue_turn', 'continue_turn']);
    expect(model.held).toBe(2);
    await model.release(1);
    expect(model.held).toBe(2);
    while (model.held) await model.release(1);
    const outcome = await running;
    expect(outcome).toMatchObject({ status: 'done', text: 't1 t2 t3 t4 ', generatedTokens: 4 });
    expect(model.maxInFlight).toBe(2);
  });

  it('asks for nothing more after a stop during the first call', async () => {
    const model = new FakeModel({ promptTokensPerCall: 100, tokensPerCall: 1 });
    const abort = new AbortController();
    model.onCall = () => abort.abort();
    const outcome = await runTurn(model, input, { signal: abort.signal });
    expect(outcome).toMatchObject({ status: 'stopped', calls: 1, text: '' });
    expect(model.requests.map((r) => r.method)).toEqual(['start_turn']);
  });

  it('applies two replies in the order the canister ran them', async () => {
    // The canister ran the queued call first: the reply that arrives first holds the later tokens.
    const progress = (generated: number, text: string, done = false) => ({
      Ok: {
        session_id: 1n,
        token_ids: Uint32Array.from(text.trim().split(' '), () => 0),
        text,
        prompt_tokens_remaining: 0,
        generated_tokens: generated,
        context_tokens: 10 + generated,
        done,
        stop_reason: done ? [{ MaxTokens: null }] : [],
        instructions: 1n,
      },
    });
    const replies = [progress(1, 'a '), progress(3, 'c ', true), progress(2, 'b ')];
    const actor = {
      start_turn: async () => replies[0],
      continue_turn: async () => replies.splice(1, 1)[0] ?? progress(3, '', true),
    } as unknown as Parameters<typeof runTurn>[0];
    const outcome = await runTurn(actor, input);
    expect(outcome).toMatchObject({ status: 'done', text: 'a b c ', generatedTokens: 3, missingTokens: 0 });
  });

  it('resumes a stopped turn in its session and counts tokens whose reply was lost', async () => {
    const model = new FakeModel({ tokensPerCall: 2 });
    model.sessions.set(5n, { promptTokensLeft: 0, generated: 4, maxNewTokens: 8, context: 20 });
    const resume = {
      ...initialSnapshot(),
      text: 't1 ',
      sessionId: 5n,
      calls: 3,
      generatedTokens: 2, // the page saw 2 tokens; a reply with 2 more was lost in a reload
      contextTokens: 18,
      instructions: 3_000_000n,
    };
    const outcome = await runTurn(model, { ...input, resume });
    expect(model.requests[0]).toEqual({ method: 'continue_turn', arg: 5n });
    expect(outcome).toMatchObject({
      status: 'done',
      text: 't1 t5 t6 t7 t8 ',
      generatedTokens: 8,
      missingTokens: 2,
      calls: 5,
      sessionId: 5n,
    });
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
    expect(model.requests.map((r) => r.method)).toEqual(['start_turn', 'continue_turn', 'continue_turn']);
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

  it("asks once, after a new session's first reply, whether to start over on a less crowded canister", async () => {
    const [crowded, other] = [new FakeModel({ tokensPerCall: 1 }), new FakeModel({ tokensPerCall: 1 })];
    const asked: bigint[] = [];
    const outcome = await runTurn(crowded, input, {
      rebalance: async (sessionId) => {
        asked.push(sessionId);
        return other;
      },
    });
    expect(asked).toEqual([1n]); // once, with the session left behind; not again on the new canister
    expect(crowded.requests.map((r) => r.method)).toEqual(['start_turn']); // nothing more sent there
    expect((other.method('start_turn') as Array<{ prompt: string }>).map((r) => r.prompt)).toEqual(['Hello there']);
    expect(outcome).toMatchObject({ status: 'done', moved: true, replayed: true, generatedTokens: 6 });
  });

  it('does not ask about crowding in a turn that continues a session, or when told to stay', async () => {
    const model = new FakeModel({ tokensPerCall: 2 });
    let asked = 0;
    const rebalance = async () => {
      asked++;
      return undefined;
    };
    const stayed = await runTurn(model, input, { rebalance });
    expect(stayed).toMatchObject({ status: 'done', moved: false });
    expect(asked).toBe(1);
    await runTurn(model, { ...input, sessionId: 1n }, { rebalance });
    expect(asked).toBe(1);
  });

  it('goes on on the canister moveOn names, replaying the conversation into a new session there', async () => {
    const [stopped, other] = [new FakeModel({ promptTokensPerCall: 100 }), new FakeModel()];
    stopped.onCall = () => {
      if (stopped.sessions.get(1n)?.generated) stopped.stopped = true; // stops after the first tokens
    };
    const failures: unknown[] = [];
    const snapshots: TurnSnapshot[] = [];

    const outcome = await runTurn(
      stopped,
      {
        prompt: 'And then?',
        sessionId: undefined,
        replayPrompt: 'User: Hi\nAssistant: Hello\n\nUser: And then?',
        settings,
      },
      {
        onProgress: (s) => snapshots.push(s),
        moveOn: async (error) => {
          failures.push(error);
          return other;
        },
      },
    );

    expect(failures).toHaveLength(1);
    expect(String(failures[0])).toMatch(/stopped/);
    expect(snapshots.find((s) => s.moved)).toMatchObject({ phase: 'starting', text: '', replayed: true });
    expect((other.method('start_turn') as Array<{ prompt: string }>).map((r) => r.prompt)).toEqual([
      'User: Hi\nAssistant: Hello\n\nUser: And then?',
    ]);
    expect(outcome).toMatchObject({
      status: 'done',
      moved: true,
      replayed: true,
      sessionId: 1n,
      text: 't1 t2 t3 t4 t5 t6 ',
    });
  });

  it('fails as before when moveOn has nowhere to go', async () => {
    const model = new FakeModel();
    model.stopped = true;
    await expect(runTurn(model, input, { moveOn: async () => undefined })).rejects.toThrow(/stopped/);
    expect(model.requests).toHaveLength(1);
  });

  it('gives up when the replacement session is lost as well', async () => {
    const model = new FakeModel();
    model.script({ Err: 'Unknown session 5' }, { Err: 'unknown session 1' });
    await expect(runTurn(model, { ...input, sessionId: 5n })).rejects.toThrow('unknown session 1');
    expect(model.requests).toHaveLength(2);
  });
});
