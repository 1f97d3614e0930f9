import type { ConversationStore, TabMessage } from './conversation-store';
import {
  type AnswerStats,
  type ChatMessage,
  type Conversation,
  addMessage,
  makeId,
  newConversation,
  showVersion,
  titleFrom,
  visiblePath,
} from './conversations';
import { describeFailure } from './errors';
import type { FleetActors, FleetMember } from './fleet';
import type { GenerationLocks } from './generation-locks';
import type { ModelMethods } from './model-client';
import { type Exchange, replayPrompt } from './prompt';
import { type GenerationSettings, chooseSeed, toSamplingSettings } from './settings';
import { type TurnActor, type TurnInput, type TurnSnapshot, initialSnapshot, runTurn } from './turn';

export type ChatActor = TurnActor & ModelMethods<'end_session'>;

/** `progress` touches only an answer being generated (and the sidebar's busy marks); `changed` may touch anything. */
export type ChatEvent = 'changed' | 'progress';

/** How an assistant message stands, as the page shows it. */
export type AnswerState = 'generating' | 'elsewhere' | 'interrupted' | 'done' | 'stopped' | 'error';

export interface Generation {
  conversationId: string;
  messageId: string;
  snapshot: TurnSnapshot;
  startedAt: number;
  /** Time of the first reply: the live stats start there. */
  firstReplyAt?: number;
  /** Elapsed time of earlier runs of a continued answer. */
  priorElapsedMs: number;
}

/** What the token counter must count for a message typed into the active conversation. */
export interface PromptPlan {
  /** The text the canister will tokenize (the conversation replayed when no session holds it). */
  text: string;
  /** Tokens already in the session the message continues. */
  contextTokens: number;
  /** Framing tokens the canister adds (instruction markers, a blank line after a cut answer). */
  framingTokens: number;
}

export interface ChatControllerOptions {
  /** The model canisters and their actors; absent when the page found none (it then sends nothing). */
  canisters?: FleetActors<ChatActor>;
  store: ConversationStore;
  getSettings: () => GenerationSettings;
  /** Shared by the tabs; without it every unfinished answer not generated here counts as interrupted. */
  locks?: GenerationLocks;
  now?: () => number;
}

/** "### Instruction:" "\n" … "\n\n" "### Response:\n" "\n", plus a blank line after an answer that was cut short. */
const INSTRUCTION_FRAMING_TOKENS = 5;
const FOLLOW_UP_FRAMING_TOKENS = 6;

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

/** The path up to (not including) `message`. */
const pathBefore = (path: ChatMessage[], message: ChatMessage) => path.slice(0, path.indexOf(message));

/** Conversations, each with its own generation, and the actions on them, independent of the DOM. */
export class ChatController {
  readonly #canisters: FleetActors<ChatActor> | undefined;
  readonly #store: ConversationStore;
  readonly #getSettings: () => GenerationSettings;
  readonly #locks: GenerationLocks | undefined;
  readonly #now: () => number;
  readonly #listeners = new Set<(event: ChatEvent) => void>();
  readonly #generations = new Map<string, Generation & { abort: AbortController }>();
  /** Conversations another tab is generating in. */
  #elsewhere = new Set<string>();
  #activeId: string | undefined;
  #draft: Conversation;

  constructor({ canisters, store, getSettings, locks, now = Date.now }: ChatControllerOptions) {
    this.#canisters = canisters;
    this.#store = store;
    this.#getSettings = getSettings;
    this.#locks = locks;
    this.#now = now;
    this.#activeId = store.activeId;
    this.#draft = newConversation(now());
    store.subscribe((message) => this.#onTabMessage(message));
    void this.#refreshElsewhere();
  }

  subscribe(listener: (event: ChatEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(event: ChatEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  #onTabMessage(message: TabMessage): void {
    if (message.type === 'stop') return this.stop(message.id, false);
    void this.#refreshElsewhere();
    this.#emit('changed');
  }

  async #refreshElsewhere(): Promise<void> {
    if (!this.#locks) return;
    const held = await this.#locks.held();
    const elsewhere = new Set([...held].filter((id) => !this.#generations.has(id)));
    const changed = elsewhere.size !== this.#elsewhere.size || [...elsewhere].some((id) => !this.#elsewhere.has(id));
    for (const id of elsewhere) {
      // A tab that ends (or crashes) releases the lock; its unfinished answer then shows as interrupted.
      if (!this.#elsewhere.has(id)) void this.#locks.released(id).then(() => this.#refreshElsewhere());
    }
    this.#elsewhere = elsewhere;
    if (changed) this.#emit('changed');
  }

  /** Saved conversations, most recent first. */
  get conversations(): Conversation[] {
    return this.#store.list();
  }

  get active(): Readonly<Conversation> {
    return (this.#activeId !== undefined && this.#store.get(this.#activeId)) || this.#draft;
  }

  /** The active conversation's messages on screen. */
  get path(): ChatMessage[] {
    return visiblePath(this.active);
  }

  /**
   * The canister the conversation lives on (its sessions are there): the one its record names, or for a record from
   * before the fleet that holds sessions, the fleet's first. Undefined for a conversation not placed yet, one whose
   * canister left the fleet, and when the page has no canister.
   */
  canisterOf(conversation: Readonly<Conversation>): FleetMember | undefined {
    const fleet = this.#canisters?.fleet;
    if (conversation.canisterId !== undefined) return fleet?.memberOf(conversation.canisterId);
    return conversation.messages.some((m) => m.sessionId !== undefined) ? fleet?.members[0] : undefined;
  }

  generationOf(conversationId: string): Readonly<Generation> | undefined {
    return this.#generations.get(conversationId);
  }

  /** Generating here or in another tab. */
  isBusy(conversationId: string): boolean {
    return this.#generations.has(conversationId) || this.#elsewhere.has(conversationId);
  }

  isBusyElsewhere(conversationId: string): boolean {
    return this.#elsewhere.has(conversationId) && !this.#generations.has(conversationId);
  }

  /** The active conversation is generating (here or in another tab). */
  get busy(): boolean {
    return this.isBusy(this.active.id);
  }

  /** Stop was requested in the active conversation; the calls in flight have not returned yet. */
  get stopping(): boolean {
    return this.#generations.get(this.active.id)?.abort.signal.aborted ?? false;
  }

  answerState(conversation: Conversation, message: ChatMessage): AnswerState {
    if (message.outcome) return message.outcome;
    if (this.#generations.get(conversation.id)?.messageId === message.id) return 'generating';
    return this.isBusyElsewhere(conversation.id) ? 'elsewhere' : 'interrupted';
  }

  /** The last answer on screen can be generated again as a new version. */
  canRegenerate(message: ChatMessage): boolean {
    const path = this.path;
    return !this.busy && message.role === 'assistant' && path[path.length - 1] === message;
  }

  /** A stopped or interrupted last answer whose canister session may still hold the turn. */
  canContinue(message: ChatMessage): boolean {
    const state = this.answerState(this.active, message);
    return (
      this.canRegenerate(message) &&
      (state === 'stopped' || state === 'interrupted' || state === 'error') &&
      message.sessionId !== undefined &&
      message.stats?.stopReason === undefined
    );
  }

  newChat(): void {
    if (this.active.messages.length === 0) return;
    this.#draft = newConversation(this.#now());
    this.#activeId = undefined;
    this.#store.activeId = undefined;
    this.#emit('changed');
  }

  select(id: string): void {
    if (!this.#store.get(id) || id === this.#activeId) return;
    this.#activeId = id;
    this.#store.activeId = id;
    this.#emit('changed');
  }

  rename(id: string, title: string): void {
    const conversation = this.#store.get(id);
    const trimmed = title.trim();
    if (!conversation || !trimmed) return;
    conversation.title = trimmed;
    void this.#store.save(conversation);
    this.#emit('changed');
  }

  remove(id: string): void {
    const conversation = this.#store.get(id);
    if (!conversation) return;
    void this.#store.remove(id);
    const generation = this.#generations.get(id);
    // A generating answer's own cleanup ends its session once the calls in flight return.
    generation?.abort.abort();
    for (const message of conversation.messages) {
      if (message.id !== generation?.messageId) this.#endSession(conversation, message.sessionId);
    }
    if (this.#activeId === id) {
      const [next] = this.#store.list();
      this.#activeId = next?.id;
      this.#store.activeId = next?.id;
    }
    this.#emit('changed');
  }

  /** Halts the conversation's generation after the calls in flight return; in another tab, asks that tab. */
  stop(conversationId = this.active.id, local = true): void {
    const generation = this.#generations.get(conversationId);
    if (!generation) {
      if (local && this.#elsewhere.has(conversationId)) this.#store.post({ type: 'stop', id: conversationId });
      return;
    }
    if (generation.abort.signal.aborted) return;
    generation.abort.abort();
    this.#emit('changed');
  }

  /** Shows another version of a message (−1: previous, +1: next). */
  showVersion(messageId: string, offset: number): void {
    const conversation = this.active;
    const message = conversation.messages.find((m) => m.id === messageId);
    if (!message || this.busy || !showVersion(conversation, message, offset)) return;
    void this.#store.save(conversation);
    this.#emit('changed');
  }

  /** What the canister will read if `text` is sent now (for the token counter). */
  planPrompt(text: string): PromptPlan {
    const path = this.path;
    const last = path[path.length - 1];
    if (last?.sessionId !== undefined && last.stats) {
      return { text, contextTokens: last.stats.contextTokens, framingTokens: FOLLOW_UP_FRAMING_TOKENS };
    }
    return { text: replayPrompt(exchanges(path), text), contextTokens: 0, framingTokens: INSTRUCTION_FRAMING_TOKENS };
  }

  async send(text: string): Promise<void> {
    const path = this.path;
    await this.#ask(path[path.length - 1], text);
  }

  /** Sends an edited copy of a user message as a new version; the conversation forks there. */
  async edit(messageId: string, text: string): Promise<void> {
    const path = this.path;
    const message = path.find((m) => m.id === messageId && m.role === 'user');
    if (!message || text.trim() === message.text) return;
    const before = pathBefore(path, message);
    await this.#ask(before[before.length - 1], text);
  }

  async #ask(parent: ChatMessage | undefined, text: string): Promise<void> {
    const prompt = text.trim();
    const conversation = this.active as Conversation;
    if (!prompt || this.busy) return;
    if (conversation === this.#draft) {
      conversation.title = titleFrom(prompt);
      this.#activeId = conversation.id;
      this.#draft = newConversation(this.#now());
    }
    const path = visiblePath(conversation);
    const history = exchanges(parent ? path.slice(0, path.indexOf(parent) + 1) : []);
    const question = addMessage(conversation, {
      id: makeId(),
      parentId: parent?.id ?? null,
      role: 'user',
      text: prompt,
    });
    // The session whose cache ends with `parent` goes on with this question; otherwise the history is replayed.
    const owner = parent?.sessionId !== undefined ? parent : undefined;
    const replayed = replayPrompt(history, prompt);
    await this.#generate(conversation, question, chooseSeed(this.#getSettings()), {
      prompt: owner ? prompt : replayed,
      sessionId: owner ? BigInt(owner.sessionId!) : undefined,
      replayPrompt: replayed,
      owner,
    });
  }

  /** Answers the question again as a new version, in a fresh session replaying the conversation before it. */
  async regenerate(answerId: string): Promise<void> {
    const path = this.path;
    const answer = path.find((m) => m.id === answerId);
    if (!answer || !this.canRegenerate(answer)) return;
    const question = path[path.indexOf(answer) - 1];
    const prompt = replayPrompt(exchanges(pathBefore(path, question)), question.text);
    await this.#generate(this.active as Conversation, question, chooseSeed(this.#getSettings()), {
      prompt,
      replayPrompt: prompt,
    });
  }

  /** Goes on with a stopped or interrupted answer in its session (replaying the conversation if it is gone). */
  async continueAnswer(answerId: string): Promise<void> {
    const path = this.path;
    const answer = path.find((m) => m.id === answerId);
    if (!answer || !this.canContinue(answer)) return;
    const question = path[path.indexOf(answer) - 1];
    const stats = answer.stats;
    const resume: TurnSnapshot & { sessionId: bigint } = {
      ...initialSnapshot(),
      text: answer.text,
      sessionId: BigInt(answer.sessionId!),
      calls: stats?.calls ?? 0,
      generatedTokens: stats?.tokens ?? 0,
      contextTokens: stats?.contextTokens ?? 0,
      instructions: BigInt(stats?.instructions ?? 0),
      missingTokens: answer.missingTokens ?? 0,
    };
    answer.outcome = undefined;
    answer.error = undefined;
    await this.#generate(
      this.active as Conversation,
      answer,
      BigInt(stats?.seed ?? chooseSeed(this.#getSettings())),
      {
        prompt: question.text,
        replayPrompt: replayPrompt(exchanges(pathBefore(path, question)), question.text),
        resume,
      },
      stats?.elapsedMs ?? 0,
    );
  }

  /**
   * Generates an answer to `question` (a new assistant message), or continues `question` itself when it is the
   * assistant message being resumed. The message is saved after every call, with its session, so a reload keeps
   * the partial answer and can continue it.
   */
  async #generate(
    conversation: Conversation,
    target: ChatMessage,
    seed: bigint,
    input: Omit<TurnInput, 'settings'> & { owner?: ChatMessage },
    priorElapsedMs = 0,
  ): Promise<void> {
    const answer =
      target.role === 'assistant'
        ? target
        : addMessage(conversation, { id: makeId(), parentId: target.id, role: 'assistant', text: '' });
    const { owner, ...turnInput } = input;
    const generation: Generation & { abort: AbortController } = {
      conversationId: conversation.id,
      messageId: answer.id,
      abort: new AbortController(),
      snapshot: input.resume ?? initialSnapshot(input.sessionId),
      startedAt: this.#now(),
      priorElapsedMs,
    };
    this.#generations.set(conversation.id, generation);
    this.#store.pin(conversation.id, true);
    void this.#persist(conversation, true);
    this.#emit('changed');

    const release = this.#locks ? await this.#locks.hold(conversation.id) : () => undefined;
    let stopReason: AnswerStats['stopReason'];
    const statsNow = (): AnswerStats => {
      const { snapshot } = generation;
      return {
        calls: snapshot.calls,
        tokens: snapshot.generatedTokens,
        contextTokens: snapshot.contextTokens,
        instructions: snapshot.instructions.toString(),
        elapsedMs: priorElapsedMs + this.#now() - generation.startedAt,
        seed: seed.toString(),
        stopReason,
      };
    };
    try {
      if (!release) throw new Error('Another tab started generating in this conversation.');
      const canisters = this.#canisters;
      if (!canisters) throw new Error('No model canister is configured.');
      const placed = this.canisterOf(conversation);
      let member = placed ?? (await canisters.fleet.leastBusy());
      if (!placed) this.#placeOn(conversation, member);
      // A new conversation, or one whose canister left the fleet, starts a new session on its canister.
      const turn = placed
        ? turnInput
        : { ...turnInput, prompt: turnInput.replayPrompt, sessionId: undefined, resume: undefined };
      const tried = new Set<string>();
      const outcome = await runTurn(
        canisters.actorOf(member),
        { ...turn, settings: toSamplingSettings(this.#getSettings(), seed) },
        {
          signal: generation.abort.signal,
          onProgress: (snapshot) => {
            generation.snapshot = snapshot;
            generation.firstReplyAt ??= this.#now();
            answer.text = snapshot.text;
            answer.sessionId = snapshot.sessionId?.toString();
            if (snapshot.replayed) answer.replayed = true;
            if (snapshot.missingTokens) answer.missingTokens = snapshot.missingTokens;
            // The owner's cache now goes on with this answer.
            if (owner && snapshot.sessionId !== undefined && owner.sessionId === answer.sessionId)
              delete owner.sessionId;
            answer.stats = statsNow();
            void this.#persist(conversation);
            this.#emit('progress');
          },
          // Conversations that start at about the same time cannot see each other for seconds (see lessCrowded).
          rebalance: async (sessionId) => {
            const to = await canisters.fleet.lessCrowdedThan(member);
            if (!to) return undefined;
            this.#endSession(conversation, sessionId.toString());
            answer.moved = { from: member.name, to: to.name, reason: 'crowded' };
            member = to;
            this.#placeOn(conversation, member);
            void this.#persist(conversation);
            this.#emit('changed');
            return canisters.actorOf(member);
          },
          moveOn: async (error) => {
            const move = await canisters.fleet.moveAway(member, error, tried);
            if (!move) return undefined;
            answer.moved = { from: member.name, to: move.to.name, reason: move.reason };
            member = move.to;
            this.#placeOn(conversation, member);
            void this.#persist(conversation);
            this.#emit('changed');
            return canisters.actorOf(member);
          },
        },
      );
      stopReason = outcome.stopReason;
      answer.outcome = outcome.status;
    } catch (error) {
      answer.outcome = 'error';
      answer.error = describeFailure(error).message;
    } finally {
      release?.();
    }
    answer.stats = statsNow();
    this.#generations.delete(conversation.id);
    this.#store.pin(conversation.id, false);
    const saved = this.#persist(conversation);
    if (!this.#store.get(conversation.id)) this.#endSession(conversation, answer.sessionId); // deleted while generated
    this.#emit('changed');
    await saved;
  }

  /** Saves the conversation, unless it was deleted (`create` saves a new one). */
  async #persist(conversation: Conversation, create = false): Promise<boolean> {
    if (!create && !this.#store.get(conversation.id)) return false;
    conversation.updatedAt = this.#now();
    if (conversation.id === this.#activeId) this.#store.activeId = conversation.id;
    return this.#store.save(conversation);
  }

  /**
   * The conversation lives on `member` from now on. Its sessions on another canister are out of reach, and that
   * canister frees them itself (a caller holds at most two sessions, and idle ones are evicted).
   */
  #placeOn(conversation: Conversation, member: FleetMember): void {
    conversation.canisterId = member.endpoint.canisterId;
    for (const message of conversation.messages) delete message.sessionId;
  }

  /** Frees the canister's memory for a session nobody will continue; failures only cost memory until eviction. */
  #endSession(conversation: Conversation, sessionId: string | undefined): void {
    const member = this.canisterOf(conversation);
    if (sessionId === undefined || !member) return;
    this.#canisters
      ?.actorOf(member)
      .end_session(BigInt(sessionId))
      .catch(() => undefined);
  }
}
