import type { SamplingSettings, StopReason, TurnProgress, TurnResult } from './bindings/model.did';
import { CanisterError, isSessionGone } from './errors';
import { sendAnotherCall } from './turn-rules.js';
import type { ModelMethods } from './model-client';

export type TurnActor = ModelMethods<'start_turn' | 'continue_turn'>;

export interface TurnInput {
  prompt: string;
  /** Session whose KV cache the turn continues; undefined starts a new session. */
  sessionId?: bigint;
  /** Prompt for a new session if the canister has forgotten `sessionId` (see `replayPrompt`). */
  replayPrompt: string;
  settings: SamplingSettings;
  /**
   * Resume a turn already under way in `resume.sessionId` (a stopped or interrupted answer): the first call is
   * `continue_turn`, and the snapshot goes on from what the page had shown.
   */
  resume?: TurnSnapshot & { sessionId: bigint };
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
  /** The canister had forgotten the session, or the conversation moved: it was replayed into a new session. */
  replayed: boolean;
  /** The conversation moved to another canister for this turn (its canister could not serve it). */
  moved: boolean;
  /** Tokens the canister generated whose reply never reached the page (a reload while a call ran). */
  missingTokens: number;
}

export interface TurnOutcome extends TurnSnapshot {
  status: 'done' | 'stopped';
  stopReason?: StopReasonName;
}

export interface TurnOptions {
  /** Aborting stops the loop once the call in flight (and a call already queued) has returned. */
  signal?: AbortSignal;
  onProgress?: (snapshot: TurnSnapshot) => void;
  /**
   * A call failed (an agent error, or an `Err` other than a forgotten session): resolves to the actor of the canister
   * the conversation moved to, where the turn goes on by replaying the conversation into a new session, or to
   * undefined when the failure stands (see Fleet.moveAway).
   */
  moveOn?: (error: unknown) => Promise<TurnActor | undefined>;
  /**
   * After the first reply of a turn that opened its session, before more calls: resolves to the actor of a less
   * crowded canister, where the turn starts over in a new session (the session left behind is the caller's to end),
   * or to undefined to go on (see Fleet.lessCrowdedThan).
   */
  rebalance?: (sessionId: bigint) => Promise<TurnActor | undefined>;
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
    moved: false,
    missingTokens: 0,
  };
}

/** Index of the first token a reply carries within the turn's answer. */
const firstToken = (progress: TurnProgress) => progress.generated_tokens - progress.token_ids.length;

/**
 * Runs one turn: `start_turn` (or `continue_turn` to resume), then `continue_turn` until the canister says `done`.
 * From the turn's second call on, the next `continue_turn` is submitted while the current one runs, so the canister
 * never waits for the page between calls; at most one call is queued. A forgotten session is replayed into a new one,
 * and a failure `moveOn` answers with another canister is replayed there; otherwise an `Err` reply is thrown as
 * `CanisterError` and agent errors (network, reject) pass through.
 */
export async function runTurn(
  firstActor: TurnActor,
  input: TurnInput,
  options: TurnOptions = {},
): Promise<TurnOutcome> {
  const { signal, onProgress, moveOn, rebalance } = options;
  /** A new session, which may still move to a less crowded canister after its first reply. */
  let mayRebalance = rebalance !== undefined && input.sessionId === undefined && !input.resume;
  let actor = firstActor;
  const start = (sessionId: bigint | undefined, prompt: string) =>
    // Text, never raw token ids: the canister frames the prompt as an instruction.
    actor.start_turn({
      session_id: sessionId === undefined ? [] : [sessionId],
      prompt,
      prompt_ids: [],
      settings: input.settings,
    });

  let snapshot: TurnSnapshot = input.resume ? { ...input.resume, phase: 'starting' } : initialSnapshot(input.sessionId);
  /** Calls submitted and not yet applied, oldest first. */
  let inFlight: Array<Promise<TurnResult>> = [
    input.resume ? actor.continue_turn(input.resume.sessionId) : start(input.sessionId, input.prompt),
  ];
  // Replies of abandoned calls must not surface as unhandled rejections.
  const abandon = () => {
    for (const call of inFlight) call.catch(() => undefined);
    inFlight = [];
  };
  /**
   * After a failed call, replays the conversation into a new session: on the same canister when it forgot the session
   * (once a turn), on the canister `moveOn` names when the conversation moved; any other failure is thrown.
   */
  const replay = async (error: unknown) => {
    abandon();
    const forgotten = !snapshot.replayed && error instanceof CanisterError && isSessionGone(error.message);
    const movedTo = forgotten ? undefined : await moveOn?.(error);
    if (!forgotten && !movedTo) throw error;
    startOver(movedTo);
  };
  /** Starts the turn over in a new session, on `movedTo` when the conversation moved there. */
  const startOver = (movedTo: TurnActor | undefined) => {
    actor = movedTo ?? actor;
    mayRebalance = false;
    // Whatever the session left behind had produced is gone with it.
    snapshot = {
      ...initialSnapshot(),
      calls: snapshot.calls,
      instructions: snapshot.instructions,
      replayed: true,
      moved: snapshot.moved || movedTo !== undefined,
    };
    onProgress?.(snapshot);
    inFlight = [start(undefined, input.replayPrompt)];
  };

  try {
    for (;;) {
      let result: TurnResult;
      try {
        result = await inFlight.shift()!;
        // Two calls of one session may run in either order; the reply holding the earlier tokens goes first.
        if ('Ok' in result && inFlight.length > 0 && firstToken(result.Ok) > snapshot.generatedTokens) {
          const queued = await inFlight[0];
          if ('Ok' in queued && firstToken(queued.Ok) === snapshot.generatedTokens) {
            inFlight[0] = Promise.resolve(result);
            result = queued;
          }
        }
      } catch (error) {
        await replay(error); // an agent error: a stopped canister, a network failure…
        continue;
      }
      snapshot = { ...snapshot, calls: snapshot.calls + 1 };
      if ('Err' in result) {
        await replay(new CanisterError(result.Err));
        continue;
      }
      const progress = result.Ok;
      // A queued call that ran after the turn ended carries nothing.
      const skipped = Math.max(0, firstToken(progress) - snapshot.generatedTokens);
      snapshot = {
        ...snapshot,
        text: snapshot.text + progress.text,
        phase: progress.prompt_tokens_remaining > 0 ? 'reading' : 'generating',
        promptTokensRemaining: progress.prompt_tokens_remaining,
        sessionId: progress.session_id,
        generatedTokens: Math.max(snapshot.generatedTokens, progress.generated_tokens),
        contextTokens: Math.max(snapshot.contextTokens, progress.context_tokens),
        instructions: snapshot.instructions + progress.instructions,
        missingTokens: snapshot.missingTokens + skipped,
      };
      onProgress?.(snapshot);
      if (progress.done) {
        abandon();
        const [reason] = progress.stop_reason;
        return { ...snapshot, status: 'done', stopReason: reason && stopReasonName(reason) };
      }
      if (signal?.aborted) {
        if (inFlight.length > 0) continue; // show the queued call's reply, but ask for nothing more
        return { ...snapshot, status: 'stopped' };
      }
      if (mayRebalance) {
        mayRebalance = false;
        const movedTo = await rebalance!(progress.session_id);
        if (movedTo) {
          startOver(movedTo);
          continue;
        }
      }
      // Nothing is queued behind a turn's first call: a Stop right after Send asks for no more work, and ingress
      // messages sent together may reach the canister in either order (a continue_turn that ran before start_turn would
      // find the previous turn done). After it, the next call waits in the canister's queue while the current one
      // runs, unless the calls sent finish the answer.
      const lastReplyTokens = progress.token_ids.length;
      while (
        sendAnotherCall({
          sent: inFlight.length,
          generatedTokens: snapshot.generatedTokens,
          lastReplyTokens,
          maxNewTokens: input.settings.max_new_tokens,
        })
      ) {
        inFlight.push(actor.continue_turn(progress.session_id));
      }
    }
  } finally {
    abandon();
  }
}

function stopReasonName(reason: StopReason): StopReasonName {
  return Object.keys(reason)[0] as StopReasonName;
}
