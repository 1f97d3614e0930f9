import {
  type ChatMessage,
  type Conversation,
  type ConversationStore,
  makeId,
  newConversation,
  titleFrom,
} from './conversations';
import { describeFailure } from './errors';
import type { ModelMethods } from './model-client';
import { type Exchange, replayPrompt } from './prompt';
import { type GenerationSettings, chooseSeed, toSamplingSettings } from './settings';
import {
  type StopReasonName,
  type TurnActor,
  type TurnInput,
  type TurnSnapshot,
  initialSnapshot,
  runTurn,
} from './turn';

export type ChatActor = TurnActor & ModelMethods<'end_session'>;

/** `progress` touches only the answer being generated; `changed` may touch anything. */
export type ChatEvent = 'changed' | 'progress';

export interface Generation {
  conversationId: string;
  messageId: string;
  snapshot: TurnSnapshot;
}

export interface ChatControllerOptions {
  actor: ChatActor;
  store: ConversationStore;
  getSettings: () => GenerationSettings;
  now?: () => number;
}

/** Completed user → assistant pairs, the context a replayed prompt carries. */
function exchanges(messages: readonly ChatMessage[]): Exchange[] {
  const pairs: Exchange[] = [];
  messages.forEach((message, i) => {
    const previous = messages[i - 1];
    if (message.role === 'assistant' && previous?.role === 'user' && message.text) {
      pairs.push({ user: previous.text, assistant: message.text });
    }
  });
  return pairs;
}

/** The conversation state and the actions on it, independent of the DOM. */
export class ChatController {
  readonly #actor: ChatActor;
  readonly #store: ConversationStore;
  readonly #getSettings: () => GenerationSettings;
  readonly #now: () => number;
  readonly #listeners = new Set<(event: ChatEvent) => void>();
  #active: Conversation;
  #generation: (Generation & { abort: AbortController }) | null = null;

  constructor({ actor, store, getSettings, now = Date.now }: ChatControllerOptions) {
    this.#actor = actor;
    this.#store = store;
    this.#getSettings = getSettings;
    this.#now = now;
    const activeId = store.activeId;
    this.#active = (activeId && store.get(activeId)) || newConversation(now());
  }

  subscribe(listener: (event: ChatEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(event: ChatEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  /** Saved conversations, most recent first. */
  get conversations(): Conversation[] {
    return this.#store.list();
  }

  get active(): Readonly<Conversation> {
    return this.#active;
  }

  get generation(): Readonly<Generation> | null {
    return this.#generation;
  }

  get busy(): boolean {
    return this.#generation !== null;
  }

  /** Stop was requested; the call in flight has not returned yet. */
  get stopping(): boolean {
    return this.#generation?.abort.signal.aborted ?? false;
  }

  get canRegenerate(): boolean {
    const messages = this.#active.messages;
    return !this.busy && messages.length >= 2 && messages[messages.length - 1].role === 'assistant';
  }

  newChat(): void {
    if (this.#active.messages.length === 0) return;
    this.#active = newConversation(this.#now());
    this.#store.activeId = undefined;
    this.#emit('changed');
  }

  select(id: string): void {
    const conversation = this.#store.get(id);
    if (!conversation || conversation === this.#active) return;
    this.#active = conversation;
    this.#store.activeId = id;
    this.#emit('changed');
  }

  rename(id: string, title: string): void {
    const conversation = this.#store.get(id);
    const trimmed = title.trim();
    if (!conversation || !trimmed) return;
    conversation.title = trimmed;
    this.#store.save(conversation);
    this.#emit('changed');
  }

  remove(id: string): void {
    const conversation = this.#store.get(id);
    if (!conversation) return;
    this.#store.remove(id);
    if (this.#generation?.conversationId === id) {
      // The turn's own cleanup ends the session once the call in flight returns.
      this.#generation.abort.abort();
    } else {
      this.#endSession(conversation.sessionId);
    }
    if (this.#active.id === id) {
      const [next] = this.#store.list();
      this.#active = next ?? newConversation(this.#now());
      this.#store.activeId = next?.id;
    }
    this.#emit('changed');
  }

  /** Halts generation after the call in flight returns. */
  stop(): void {
    if (!this.#generation || this.stopping) return;
    this.#generation.abort.abort();
    this.#emit('changed');
  }

  async send(text: string): Promise<void> {
    const prompt = text.trim();
    if (!prompt || this.busy) return;
    const conversation = this.#active;
    const history = exchanges(conversation.messages);
    if (conversation.messages.length === 0) conversation.title = titleFrom(prompt);
    conversation.messages.push({ id: makeId(), role: 'user', text: prompt });
    await this.#answer(conversation, {
      prompt,
      sessionId: conversation.sessionId === undefined ? undefined : BigInt(conversation.sessionId),
      replayPrompt: replayPrompt(history, prompt),
    });
  }

  /**
   * Answers the last user message again in a fresh session, so the canister's KV cache
   * does not keep the discarded answer.
   */
  async regenerate(): Promise<void> {
    if (!this.canRegenerate) return;
    const conversation = this.#active;
    conversation.messages.pop();
    const question = conversation.messages[conversation.messages.length - 1];
    const prompt = replayPrompt(exchanges(conversation.messages.slice(0, -1)), question.text);
    this.#endSession(conversation.sessionId);
    conversation.sessionId = undefined;
    await this.#answer(conversation, { prompt, replayPrompt: prompt });
  }

  async #answer(conversation: Conversation, input: Omit<TurnInput, 'settings'>): Promise<void> {
    const answer: ChatMessage = { id: makeId(), role: 'assistant', text: '' };
    conversation.messages.push(answer);
    this.#persist(conversation);

    const settings = this.#getSettings();
    const seed = chooseSeed(settings);
    const startedAt = this.#now();
    const generation = {
      conversationId: conversation.id,
      messageId: answer.id,
      abort: new AbortController(),
      snapshot: initialSnapshot(input.sessionId),
    };
    this.#generation = generation;
    this.#emit('changed');

    let stopReason: StopReasonName | undefined;
    try {
      const outcome = await runTurn(
        this.#actor,
        { ...input, settings: toSamplingSettings(settings, seed) },
        {
          signal: generation.abort.signal,
          onProgress: (snapshot) => {
            generation.snapshot = snapshot;
            answer.text = snapshot.text;
            this.#emit('progress');
          },
        },
      );
      answer.outcome = outcome.status;
      stopReason = outcome.stopReason;
    } catch (error) {
      answer.outcome = 'error';
      answer.error = describeFailure(error).message;
    }

    const { snapshot } = generation;
    answer.stats = {
      calls: snapshot.calls,
      tokens: snapshot.generatedTokens,
      contextTokens: snapshot.contextTokens,
      instructions: snapshot.instructions.toString(),
      elapsedMs: this.#now() - startedAt,
      seed: seed.toString(),
      stopReason,
    };
    if (snapshot.replayed) answer.replayed = true;
    conversation.sessionId = snapshot.sessionId?.toString();
    this.#generation = null;
    if (this.#store.get(conversation.id)) this.#persist(conversation);
    else this.#endSession(conversation.sessionId); // deleted while the answer was being generated
    this.#emit('changed');
  }

  #persist(conversation: Conversation): void {
    conversation.updatedAt = this.#now();
    this.#store.save(conversation);
    if (conversation === this.#active) this.#store.activeId = conversation.id;
  }

  /** Frees the canister's memory for a session nobody will continue; failures only cost memory until eviction. */
  #endSession(sessionId: string | undefined): void {
    if (sessionId === undefined) return;
    this.#actor.end_session(BigInt(sessionId)).catch(() => undefined);
  }
}
