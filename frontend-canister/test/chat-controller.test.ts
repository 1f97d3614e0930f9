import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TurnRequest } from '../src/bindings/model.did';
import { ChatController } from '../src/chat-controller';
import { ConversationStore } from '../src/conversation-store';
import { type Conversation, addMessage, newConversation } from '../src/conversations';
import type { FleetActors, FleetOptions } from '../src/fleet';
import type { GenerationLocks } from '../src/generation-locks';
import { DEFAULT_SETTINGS, type GenerationSettings } from '../src/settings';
import { FakeModel, fakeFleet, MemoryStorage, SharedLocks } from './fake-model';

const fixedSeed: GenerationSettings = { ...DEFAULT_SETTINGS, maxTokens: 4, randomSeed: false, seed: 7 };

let dbCount = 0;
const stores: ConversationStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

interface TabOptions {
  settings?: GenerationSettings;
  model?: FakeModel;
  /** The canisters, when not just `model`. */
  canisters?: FleetActors<FakeModel>;
  dbName?: string;
  storage?: Storage;
  locks?: GenerationLocks;
}

/** One browser tab: a store on the (shared) database and a controller. */
async function tab({
  settings = fixedSeed,
  model = new FakeModel(),
  canisters = fakeFleet([model]),
  dbName = `controller${dbCount++}`,
  storage = new MemoryStorage(),
  locks,
}: TabOptions = {}) {
  const store = await ConversationStore.open({ indexedDB, storage, dbName });
  stores.push(store);
  let clock = 1_000;
  const controller = new ChatController({
    canisters,
    store,
    getSettings: () => settings,
    locks,
    now: () => (clock += 250),
  });
  return { model, store, storage, dbName, controller };
}

/** What another tab would read from IndexedDB now. */
async function storedElsewhere(dbName: string, id: string): Promise<Conversation | undefined> {
  const store = await ConversationStore.open({ indexedDB, storage: new MemoryStorage(), dbName });
  stores.push(store);
  return store.get(id);
}

/** A database and storage whose open conversation is "Hi" → "Hello!", the answer holding `sessionId`. */
async function savedChat(sessionId: string, fields: Partial<Conversation> = {}) {
  const storage = new MemoryStorage();
  const seeded = await tab({ storage });
  const old = { ...newConversation(1), id: 'old', title: 'Old chat', ...fields };
  addMessage(old, { id: 'u', parentId: null, role: 'user', text: 'Hi' });
  addMessage(old, { id: 'a', parentId: 'u', role: 'assistant', text: 'Hello!', outcome: 'done', sessionId });
  await seeded.store.save(old);
  seeded.store.activeId = 'old';
  return { dbName: seeded.dbName, storage };
}

const starts = (model: FakeModel) => model.method('start_turn') as TurnRequest[];
const texts = (controller: ChatController) => controller.path.map((m) => [m.role, m.text]);

describe('ChatController', () => {
  it('answers a message and keeps it with its session and stats across a reload', async () => {
    const { model, controller, dbName, storage } = await tab();

    await controller.send('  Tell me a story  ');

    const conversation = controller.active;
    expect(conversation.title).toBe('Tell me a story');
    expect(texts(controller)).toEqual([
      ['user', 'Tell me a story'],
      ['assistant', 't1 t2 t3 t4 '],
    ]);
    const answer = controller.path[1];
    expect(answer).toMatchObject({
      outcome: 'done',
      sessionId: '1',
      stats: { calls: 4, tokens: 4, contextTokens: 12, instructions: '4000000', seed: '7', stopReason: 'MaxTokens' },
    });
    expect(answer.stats!.elapsedMs).toBeGreaterThan(0);
    expect(controller.busy).toBe(false);

    const reloaded = await tab({ model, dbName, storage });
    expect(reloaded.controller.active).toEqual(conversation);
    expect(reloaded.controller.conversations.map((c) => c.id)).toEqual([conversation.id]);
  });

  it('sends no call budget unless the user set one', async () => {
    const byDefault = await tab();
    await byDefault.controller.send('Hi');
    expect(starts(byDefault.model)[0].settings.call_budget).toEqual([]);

    const { model, controller } = await tab({
      settings: { ...fixedSeed, maxTokens: 3, temperature: 0, topK: 0, topP: 1, callBudget: 123_456 },
    });
    await controller.send('Hi');
    expect(starts(model)[0].settings).toStrictEqual({
      max_new_tokens: 3,
      temperature: 0,
      top_k: 0,
      top_p: 1,
      seed: 7n,
      call_budget: [123_456n],
    });
  });

  it('continues the same canister session for a follow-up; the session moves to the newest answer', async () => {
    const { model, controller } = await tab();
    await controller.send('First');
    await controller.send('Second');
    expect(starts(model).map((r) => [r.session_id, r.prompt])).toEqual([
      [[], 'First'],
      [[1n], 'Second'],
    ]);
    const [, first, , second] = controller.path;
    // The follow-up's context holds the first exchange as well: 5 + 4 tokens, then 5 + 4 more.
    expect([first.stats!.contextTokens, second.stats!.contextTokens]).toEqual([9, 18]);
    expect([first.sessionId, second.sessionId]).toEqual([undefined, '1']);
  });

  it('saves the partial answer and its session after every call', async () => {
    const { model, controller, dbName } = await tab({ settings: { ...fixedSeed, maxTokens: 10 } });
    model.holding = true;
    const sending = controller.send('Hi');
    const id = controller.active.id;
    while (!controller.path[1]?.text.includes('t2')) await model.release(1);

    const stored = await storedElsewhere(dbName, id);
    const answer = stored!.messages.find((m) => m.role === 'assistant')!;
    expect(answer).toMatchObject({ text: 't1 t2 ', sessionId: '1', stats: { tokens: 2 } });
    expect(answer.outcome).toBeUndefined();

    model.holding = false;
    await model.release();
    await sending;
  });

  it('shows progress and live timing while the answer grows', async () => {
    const { controller } = await tab();
    const seen: string[] = [];
    controller.subscribe((event) => {
      const generation = controller.generationOf(controller.active.id);
      if (event === 'progress') seen.push(`${generation!.snapshot.phase}:${controller.path[1].text}`);
    });
    await controller.send('Hi');
    expect(seen).toEqual(['reading:', 'generating:', 'generating:t1 t2 ', 'generating:t1 t2 t3 t4 ']);
  });

  it('stops after the calls already sent, keeps what arrived and asks for nothing more', async () => {
    const { model, controller } = await tab({ settings: { ...fixedSeed, maxTokens: 50 } });
    controller.subscribe((event) => {
      const generation = controller.generationOf(controller.active.id);
      if (event === 'progress' && generation!.snapshot.generatedTokens >= 2) controller.stop();
    });
    const sending = controller.send('Hi');
    expect(controller.busy).toBe(true);
    await sending;

    const answer = controller.path[1];
    // The call queued behind the one that brought t1 t2 had been sent: its tokens are shown, nothing follows.
    expect(answer).toMatchObject({ outcome: 'stopped', text: 't1 t2 t3 t4 ' });
    expect(answer.stats!.stopReason).toBeUndefined();
    expect(model.requests).toHaveLength(answer.stats!.calls);
    expect(controller.busy).toBe(false);
    expect(controller.canContinue(answer)).toBe(true);
  });

  it('continues a stopped answer in its session until done', async () => {
    const { model, controller } = await tab({ settings: { ...fixedSeed, maxTokens: 8 } });
    const stopAtFirstTokens = controller.subscribe((event) => {
      if (event === 'progress' && controller.path[1].text) controller.stop();
    });
    await controller.send('Hi');
    stopAtFirstTokens();
    const answer = controller.path[1];
    expect(answer.outcome).toBe('stopped');
    const callsBefore = model.requests.length;

    await controller.continueAnswer(answer.id);

    expect(model.requests[callsBefore]).toEqual({ method: 'continue_turn', arg: 1n });
    expect(starts(model)).toHaveLength(1);
    expect(controller.path[1]).toMatchObject({
      outcome: 'done',
      text: 't1 t2 t3 t4 t5 t6 t7 t8 ',
      sessionId: '1',
      stats: { tokens: 8, stopReason: 'MaxTokens' },
    });
    expect(controller.canContinue(controller.path[1])).toBe(false);
  });

  it('runs one generation per conversation: another conversation can send, Stop stays in its own', async () => {
    const { model, controller } = await tab({ settings: { ...fixedSeed, maxTokens: 6 } });
    model.holding = true;
    const first = controller.send('In the first chat');
    const firstId = controller.active.id;
    controller.newChat();
    expect(controller.busy).toBe(false);
    expect(controller.isBusy(firstId)).toBe(true);

    const second = controller.send('In the second chat');
    const secondId = controller.active.id;
    expect(controller.busy).toBe(true);
    await vi.waitFor(() =>
      expect(starts(model).map((r) => r.prompt)).toEqual(['In the first chat', 'In the second chat']),
    );

    controller.select(firstId);
    controller.stop();
    expect(controller.stopping).toBe(true);
    controller.select(secondId);
    expect(controller.stopping).toBe(false);

    model.holding = false;
    await model.release();
    await Promise.all([first, second]);
    const outcome = (id: string) => controller.conversations.find((c) => c.id === id)!.messages[1].outcome;
    expect([outcome(firstId), outcome(secondId)]).toEqual(['stopped', 'done']);
  });

  it('ignores sends while the conversation is busy, and empty messages', async () => {
    const { model, controller } = await tab();
    const first = controller.send('One');
    await controller.send('Two');
    await controller.send('   ');
    await first;
    expect(starts(model)).toHaveLength(1);
  });

  it('regenerates as a new version in a fresh session, keeping the earlier answer and its session', async () => {
    const { model, controller } = await tab();
    await controller.send('First');
    await controller.send('Second');
    const previous = controller.path[3];

    await controller.regenerate(previous.id);

    expect(starts(model)[2]).toMatchObject({
      session_id: [],
      prompt: 'User: First\nAssistant: t1 t2 t3 t4 \n\nUser: Second',
    });
    expect(model.ended).toEqual([]);
    const regenerated = controller.path[3];
    expect(regenerated.id).not.toBe(previous.id);
    expect(regenerated.sessionId).toBe('2');

    controller.showVersion(regenerated.id, -1);
    expect(controller.path[3]).toMatchObject({ id: previous.id, sessionId: '1' });
    // A follow-up on the earlier version goes on in that version's session.
    await controller.send('Third');
    expect(starts(model)[3]).toMatchObject({ session_id: [1n], prompt: 'Third' });
  });

  it('edits a question: the conversation forks there and the first branch stays', async () => {
    const { model, controller } = await tab();
    await controller.send('First');
    await controller.send('Second');
    const question = controller.path[2];

    await controller.edit(question.id, 'Second, edited');

    expect(texts(controller).map(([, text]) => text)).toEqual([
      'First',
      't1 t2 t3 t4 ',
      'Second, edited',
      't1 t2 t3 t4 ',
    ]);
    // The first answer's session had moved on to the old branch, so the history is replayed.
    expect(starts(model)[2]).toMatchObject({
      session_id: [],
      prompt: 'User: First\nAssistant: t1 t2 t3 t4 \n\nUser: Second, edited',
    });
    controller.showVersion(controller.path[2].id, -1);
    expect(controller.path[2].text).toBe('Second');
    expect(controller.path).toHaveLength(4);
  });

  it('regenerates a first answer with exactly the original prompt', async () => {
    const { model, controller } = await tab();
    await controller.send('Only');
    await controller.regenerate(controller.path[1].id);
    expect(starts(model).map((r) => [r.session_id, r.prompt])).toEqual([
      [[], 'Only'],
      [[], 'Only'],
    ]);
  });

  it('recovers transparently when the canister no longer knows the session', async () => {
    const { model, controller } = await tab(await savedChat('99'));

    await controller.send('How are you?');

    expect(starts(model).map((r) => [r.session_id, r.prompt])).toEqual([
      [[99n], 'How are you?'],
      [[], 'User: Hi\nAssistant: Hello!\n\nUser: How are you?'],
    ]);
    expect(controller.path[3]).toMatchObject({ outcome: 'done', replayed: true, text: 't1 t2 t3 t4 ', sessionId: '1' });
  });

  it('shows a clear error when the model is not loaded', async () => {
    const { model, controller } = await tab();
    model.modelLoaded = false;
    await controller.send('Hi');
    const answer = controller.path[1];
    expect(answer.outcome).toBe('error');
    expect(answer.error).toMatch(/model is not loaded/i);
    expect(controller.canRegenerate(answer)).toBe(true);
    expect(controller.canContinue(answer)).toBe(false); // no session to continue
  });

  it('keeps the partial answer and its session when the network fails, and offers Continue', async () => {
    const { model, controller } = await tab({ settings: { ...fixedSeed, maxTokens: 10 } });
    model.onCall = () => {
      if (model.sessions.get(1n)?.generated === 2) {
        model.script(new TypeError('Failed to fetch'));
        model.onCall = undefined;
      }
    };
    await controller.send('Hi');
    const answer = controller.path[1];
    expect(answer).toMatchObject({ outcome: 'error', text: 't1 t2 ', sessionId: '1' });
    expect(answer.error).toMatch(/could not reach/i);
    expect(controller.canContinue(answer)).toBe(true);
  });

  it('shows an answer left unfinished by a closed tab as interrupted, and continues it in its session', async () => {
    const storage = new MemoryStorage();
    const seeded = await tab({ storage });
    const c = { ...newConversation(1), id: 'c', title: 'Interrupted' };
    addMessage(c, { id: 'u', parentId: null, role: 'user', text: 'Hi' });
    const partial = {
      calls: 3,
      tokens: 2,
      contextTokens: 7,
      instructions: '3000000',
      elapsedMs: 900,
      seed: '7',
    };
    addMessage(c, { id: 'a', parentId: 'u', role: 'assistant', text: 't1 t2 ', sessionId: '1', stats: partial });
    await seeded.store.save(c);
    seeded.store.activeId = 'c';
    const model = new FakeModel();
    model.sessions.set(1n, { promptTokensLeft: 0, generated: 2, maxNewTokens: 4, context: 7 });

    const { controller } = await tab({ dbName: seeded.dbName, storage, model });
    const answer = controller.path[1];
    expect(controller.answerState(controller.active, answer)).toBe('interrupted');
    expect(controller.canContinue(answer)).toBe(true);

    await controller.continueAnswer(answer.id);
    expect(controller.path[1]).toMatchObject({ outcome: 'done', text: 't1 t2 t3 t4 ', sessionId: '1' });
    expect(controller.path[1].stats!.elapsedMs).toBeGreaterThan(900);
    expect(model.method('start_turn')).toEqual([]);
  });

  it('shows a conversation another tab is answering in as busy, and asks that tab to stop', async () => {
    const shared = new SharedLocks();
    const storage = new MemoryStorage();
    const first = await tab({ storage, locks: shared.locks(), settings: { ...fixedSeed, maxTokens: 20 } });
    const second = await tab({ storage, dbName: first.dbName, locks: shared.locks() });
    first.model.holding = true;
    const sending = first.controller.send('Hi');
    const id = first.controller.active.id;
    await first.model.release(1);

    await vi.waitFor(() => expect(second.controller.isBusyElsewhere(id)).toBe(true));
    second.controller.select(id);
    expect(second.controller.busy).toBe(true);
    expect(second.controller.answerState(second.controller.active, second.controller.path[1])).toBe('elsewhere');
    await second.controller.send('Not now'); // refused: the other tab is generating here
    expect(second.model.requests).toEqual([]);

    second.controller.stop();
    await vi.waitFor(() => expect(first.controller.stopping).toBe(true));
    first.model.holding = false;
    await first.model.release();
    await sending;
    await vi.waitFor(() => expect(second.controller.isBusyElsewhere(id)).toBe(false));
    await vi.waitFor(() => expect(second.controller.path[1]?.outcome).toBe('stopped'));
  });

  it('switches, renames and deletes conversations, ending the sessions of every version', async () => {
    const { model, controller, store } = await tab();
    await controller.send('First chat');
    await controller.regenerate(controller.path[1].id);
    const first = controller.active.id;
    controller.newChat();
    expect(controller.path).toEqual([]);
    await controller.send('Second chat');
    const second = controller.active.id;

    controller.select(first);
    expect(controller.active.title).toBe('First chat');
    expect(store.activeId).toBe(first);

    controller.rename(second, '  Renamed  ');
    expect(store.get(second)!.title).toBe('Renamed');

    controller.remove(first);
    expect(model.ended.sort()).toEqual([1n, 2n]);
    expect(controller.active.id).toBe(second);
    expect(controller.conversations.map((c) => c.id)).toEqual([second]);
  });

  it('does not resurrect a conversation deleted while its answer was generating', async () => {
    const { model, controller, dbName } = await tab({ settings: { ...fixedSeed, maxTokens: 50 } });
    const sending = controller.send('Hi');
    const id = controller.active.id;
    controller.remove(id);
    await sending;
    expect(controller.conversations).toEqual([]);
    expect(await storedElsewhere(dbName, id)).toBeUndefined();
    expect(model.ended).toEqual([1n]);
    expect(model.requests.filter((r) => r.method !== 'end_session')).toHaveLength(1);
  });

  it('keeps an empty new chat instead of stacking empty ones', async () => {
    const { controller } = await tab();
    const empty = controller.active;
    controller.newChat();
    expect(controller.active).toBe(empty);
  });

  it('plans the token count: a follow-up adds to its session, otherwise the replayed prompt counts', async () => {
    const { controller } = await tab();
    expect(controller.planPrompt('Hello')).toEqual({ text: 'Hello', contextTokens: 0, framingTokens: 5 });
    await controller.send('First');
    expect(controller.planPrompt('Next')).toEqual({ text: 'Next', contextTokens: 9, framingTokens: 6 });
    await controller.regenerate(controller.path[1].id);
    controller.showVersion(controller.path[1].id, -1);
    // The first version's session is still its own, so it goes on there.
    expect(controller.planPrompt('Next').contextTokens).toBe(9);
  });
});

describe('ChatController with a fleet of canisters', () => {
  /** Two canisters; the first is the less busy one, so new conversations start there. */
  function twoCanisters(options: Partial<FleetOptions> = {}) {
    const [first, second] = [new FakeModel(), new FakeModel()];
    second.activeTurns = 1;
    return { first, second, canisters: fakeFleet([first, second], options) };
  }
  const turnCalls = (model: FakeModel) => model.requests.filter((r) => r.method.endsWith('_turn'));

  it('starts a new conversation on the least busy canister, keeps it there and stores it with the conversation', async () => {
    const { first, second, canisters } = twoCanisters();
    first.activeTurns = 3;
    const { controller, dbName } = await tab({ canisters });

    await controller.send('First');
    await controller.send('Second');

    expect(turnCalls(first)).toEqual([]);
    expect(starts(second).map((r) => [r.session_id, r.prompt])).toEqual([
      [[], 'First'],
      [[1n], 'Second'],
    ]);
    // Placing probes each canister once, and so does the check for crowding after the first reply; the follow-up goes
    // to the conversation's canister without asking.
    expect([first.method('load'), second.method('load')].map((calls) => calls.length)).toEqual([2, 2]);
    expect((await storedElsewhere(dbName, controller.active.id))!.canisterId).toBe('canister-1');
    expect(controller.canisterOf(controller.active)?.name).toBe('model_1');
  });

  it('moves a new conversation whose canister is crowded by its first reply to a less crowded one', async () => {
    const { first, second, canisters } = twoCanisters();
    second.activeTurns = 0;
    first.activeTurns = 1;
    // Two others started on the second canister at the same time; the load query shows them only now.
    second.onCall = (method) => {
      if (method === 'start_turn') second.othersInUse = 2;
    };
    const { controller, dbName } = await tab({ canisters });

    await controller.send('First');

    expect(starts(second).map((r) => [r.session_id, r.prompt])).toEqual([[[], 'First']]);
    expect(second.ended).toEqual([1n]); // the session left behind
    expect(starts(first).map((r) => [r.session_id, r.prompt])).toEqual([[[], 'First']]);
    expect(controller.path[1]).toMatchObject({
      outcome: 'done',
      moved: { from: 'model_1', to: 'model', reason: 'crowded' },
    });
    expect(controller.path[1].text).toMatch(/^t1 t2 /); // the answer as the new session gave it, from its start
    expect((await storedElsewhere(dbName, controller.active.id))!.canisterId).toBe('canister-0');

    // The follow-up stays: the check runs after a new session's first reply only.
    second.onCall = undefined;
    await controller.send('Second');
    expect(starts(first).map((r) => r.session_id)).toEqual([[], [1n]]);
    expect(turnCalls(second).filter((r) => r.method === 'start_turn')).toHaveLength(1);
  });

  it('keeps a new conversation where it is when the other canisters are not less crowded by two', async () => {
    const { first, second, canisters } = twoCanisters();
    second.othersInUse = 1;
    first.onCall = (method) => {
      if (method === 'start_turn') first.othersInUse = 1; // 2 in use with this one, against 1
    };
    const { controller } = await tab({ canisters });
    await controller.send('First');
    expect(starts(first)).toHaveLength(1);
    expect(turnCalls(second)).toEqual([]);
    expect(controller.path[1].moved).toBeUndefined();
  });

  it('moves a conversation off its stopped canister: the follow-up replays it on another, which keeps it after a reload', async () => {
    const { first, second, canisters } = twoCanisters();
    const storage = new MemoryStorage();
    const { controller, dbName } = await tab({ canisters, storage });
    await controller.send('First');
    expect(starts(first)).toHaveLength(1);
    const callsBeforeStop = turnCalls(first).length;

    first.stopped = true;
    await controller.send('Second');

    const [, firstAnswer, , moved] = controller.path;
    expect(moved).toMatchObject({
      outcome: 'done',
      text: 't1 t2 t3 t4 ',
      replayed: true,
      moved: { from: 'model', to: 'model_1', reason: 'stopped' },
      sessionId: '1',
    });
    expect(moved.error).toBeUndefined();
    // The follow-up was tried in its session on the stopped canister, then replayed whole in a new session.
    expect(starts(first).map((r) => r.session_id)).toEqual([[], [1n]]);
    expect(starts(second).map((r) => [r.session_id, r.prompt])).toEqual([
      [[], 'User: First\nAssistant: t1 t2 t3 t4 \n\nUser: Second'],
    ]);
    // Sessions on the old canister are out of reach: none is named any more.
    expect(firstAnswer.sessionId).toBeUndefined();
    expect(controller.canisterOf(controller.active)?.name).toBe('model_1');

    const reloaded = await tab({ canisters: fakeFleet([first, second]), dbName, storage });
    expect(texts(reloaded.controller)).toEqual(texts(controller));
    expect(reloaded.controller.active.canisterId).toBe('canister-1');
    await reloaded.controller.send('Third');
    expect(
      starts(second)
        .map((r) => [r.session_id, r.prompt])
        .at(-1),
    ).toEqual([[1n], 'Third']);
    expect(turnCalls(first)).toHaveLength(callsBeforeStop + 1); // the refused follow-up, and nothing after it
  });

  it('moves in the middle of an answer when its canister stops between calls, and on a busy canister', async () => {
    const { first, second, canisters } = twoCanisters({ cooldownMs: 0 });
    const { controller } = await tab({ canisters, settings: { ...fixedSeed, maxTokens: 6 } });
    first.onCall = () => {
      if (first.sessions.get(1n)?.generated) first.stopped = true;
    };
    await controller.send('Hi');
    expect(controller.path[1]).toMatchObject({
      outcome: 'done',
      text: 't1 t2 t3 t4 t5 t6 ',
      moved: { from: 'model', to: 'model_1', reason: 'stopped' },
    });

    // A new conversation on the first canister again (no cooldown here), refused there as busy.
    first.stopped = false;
    first.onCall = undefined;
    second.activeTurns = 5;
    first.script({ Err: 'busy: all 13 sessions are in use; try again in a few minutes' });
    controller.newChat();
    await controller.send('Busy?');
    expect(controller.path[1]).toMatchObject({
      outcome: 'done',
      moved: { from: 'model', to: 'model_1', reason: 'busy' },
    });
  });

  it('keeps the error when every canister fails, and does not move on errors another canister would repeat', async () => {
    const { first, second, canisters } = twoCanisters();
    const { controller } = await tab({ canisters });
    first.stopped = second.stopped = true;
    await controller.send('Hi');
    expect(controller.path[1]).toMatchObject({ outcome: 'error' });
    expect(controller.path[1].error).toMatch(/rejected.*stopped/);

    const other = twoCanisters();
    const { controller: refused } = await tab({ canisters: other.canisters });
    other.first.script({ Err: 'Prompt is too long' });
    await refused.send('Hi');
    expect(refused.path[1]).toMatchObject({ outcome: 'error' });
    expect(turnCalls(other.second)).toEqual([]);
  });

  it('with one canister never probes, and a stopped canister is an error as before', async () => {
    const { model, controller } = await tab();
    await controller.send('First');
    model.stopped = true;
    await controller.send('Second');
    expect(controller.path[3]).toMatchObject({ outcome: 'error' });
    expect(controller.path[3].moved).toBeUndefined();
    expect(controller.path[3].error).toMatch(/rejected.*stopped/);
    expect(model.method('load')).toEqual([]);
    expect(controller.path[1].sessionId).toBe('1'); // still its session, for when the canister is back
  });

  it("continues a record from before the fleet in its session on the fleet's first canister", async () => {
    const { first, second, canisters } = twoCanisters();
    first.activeTurns = 9; // the least busy would be the second; the sessions are on the first
    first.sessions.set(1n, { promptTokensLeft: 0, generated: 1, maxNewTokens: 1, context: 6 });
    const { controller } = await tab({ canisters, ...(await savedChat('1')) });

    await controller.send('How are you?');

    expect(starts(first).map((r) => [r.session_id, r.prompt])).toEqual([[[1n], 'How are you?']]);
    expect([first.method('load'), turnCalls(second)]).toEqual([[], []]);
  });

  it("starts over on the least busy canister when the conversation's canister left the fleet", async () => {
    const { first, second, canisters } = twoCanisters();
    const { controller } = await tab({ canisters, ...(await savedChat('5', { canisterId: 'gone-canister' })) });

    await controller.send('How are you?');

    expect(starts(first).map((r) => [r.session_id, r.prompt])).toEqual([
      [[], 'User: Hi\nAssistant: Hello!\n\nUser: How are you?'],
    ]);
    expect(turnCalls(second)).toEqual([]);
    expect(controller.active.canisterId).toBe('canister-0');
    expect(controller.path[1].sessionId).toBeUndefined();
  });

  it("ends a deleted conversation's sessions on its own canister", async () => {
    const { first, second, canisters } = twoCanisters();
    first.activeTurns = 2;
    const { controller } = await tab({ canisters });
    await controller.send('Hi');
    controller.remove(controller.active.id);
    expect([first.ended, second.ended]).toEqual([[], [1n]]);
  });
});
