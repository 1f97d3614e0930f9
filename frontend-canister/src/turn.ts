import type { SamplingSettings, StopReason, TurnResult } from './bindings/model.did';
import { CanisterError, isSessionGone } from './errors';
import type { ModelMethods } from './model-client';

export type TurnActor = ModelMethods<'start_turn' | 'continue_turn'>;

export interface TurnInput {
  prompt: string;
  /** Session whose KV cache the turn continues; undefined starts a new session. */
  sessionId?: bigint;
  /** Prompt for a new session if the canister has forgotten `sessionId` (see `replayPrompt`). */
  replayPrompt: string;
  settings: SamplingSettings;
}

export type TurnPhase = 'starting' | 'reading' | 'generating';
/** Distributes over a union, unlike `keyof`, which keeps only the keys all cases share. */
type CaseNames<Variant> = Variant extends unknown ? keyof Variant : never;
export type StopReasonName = CaseNames<StopReason>;

export interface TurnSnapshot {
  text: string;
  phase: TurnPhase;
  promptTokensRemaining: number;
  sessionId?: bigint;
  calls: number;
  generatedTokens: number;
  /** Tokens in the session's KV cache: earlier turns, this prompt and the answer so far. */
  contextTokens: number;
  instructions: bigint;
  /** The canister had forgotten the session, so the conversation was replayed into a new one. */
  replayed: boolean;
}

export interface TurnOutcome extends TurnSnapshot {
  status: 'done' | 'stopped';
  stopReason?: StopReasonName;
}

export interface TurnOptions {
  /** Aborting stops the loop after the call in flight returns. */
  signal?: AbortSignal;
  onProgress?: (snapshot: TurnSnapshot) => void;
}

export function initialSnapshot(sessionId?: bigint): TurnSnapshot {
  return {
    text: '',
    phase: 'starting',
    promptTokensRemaining: 0,
    sessionId,
    calls: 0,
    generatedTokens: 0,
    contextTokens: 0,
    instructions: 0n,
    replayed: false,
  };
}

/**
 * Runs one turn: `start_turn`, then `continue_turn` until the canister says `done`.
 * Throws `CanisterError` for an `Err` reply and passes agent errors (network, reject) through.
 */
export async function runTurn(actor: TurnActor, input: TurnInput, options: TurnOptions = {}): Promise<TurnOutcome> {
  const { signal, onProgress } = options;
  const start = (sessionId: bigint | undefined, prompt: string) => () =>
    // Text, never raw token ids: the canister frames the prompt as an instruction.
    actor.start_turn({
      session_id: sessionId === undefined ? [] : [sessionId],
      prompt,
      prompt_ids: [],
      settings: input.settings,
    });

  let snapshot = initialSnapshot(input.sessionId);
  let nextCall: () => Promise<TurnResult> = start(input.sessionId, input.prompt);

  for (;;) {
    const result = await nextCall();
    snapshot = { ...snapshot, calls: snapshot.calls + 1 };
    if ('Err' in result) {
      if (snapshot.replayed || !isSessionGone(result.Err)) throw new CanisterError(result.Err);
      // Whatever the lost session had produced is gone with it; start over in a new session.
      snapshot = {
        ...snapshot,
        text: '',
        phase: 'starting',
        sessionId: undefined,
        generatedTokens: 0,
        contextTokens: 0,
        replayed: true,
      };
      onProgress?.(snapshot);
      nextCall = start(undefined, input.replayPrompt);
      continue;
    }
    const progress = result.Ok;
    snapshot = {
      ...snapshot,
      text: snapshot.text + progress.text,
      phase: progress.prompt_tokens_remaining > 0 ? 'reading' : 'generating',
      promptTokensRemaining: progress.prompt_tokens_remaining,
      sessionId: progress.session_id,
      generatedTokens: progress.generated_tokens,
      contextTokens: progress.context_tokens,
      instructions: snapshot.instructions + progress.instructions,
    };
    onProgress?.(snapshot);
    if (progress.done) {
      const [reason] = progress.stop_reason;
      return { ...snapshot, status: 'done', stopReason: reason && stopReasonName(reason) };
    }
    if (signal?.aborted) return { ...snapshot, status: 'stopped' };
    const sessionId = progress.session_id;
    nextCall = () => actor.continue_turn(sessionId);
  }
}

function stopReasonName(reason: StopReason): StopReasonName {
  return Object.keys(reason)[0] as StopReasonName;
}
