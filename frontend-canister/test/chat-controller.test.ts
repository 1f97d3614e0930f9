import { describe, expect, it } from 'vitest';
import type { TurnRequest } from '../src/bindings/model.did';
import { ChatController } from '../src/chat-controller';
import { ConversationStore } from '../src/conversations';
import { DEFAULT_SETTINGS, type GenerationSettings } from '../src/settings';
import { FakeModel, MemoryStorage } from './fake-model';

const fixedSeed: GenerationSettings = { ...DEFAULT_SETTINGS, maxTokens: 4, randomSeed: false, seed: 7 };

function setup(settings: GenerationSettings = fixedSeed, storage = new MemoryStorage()) {
  const model = new FakeModel();
  const store = new ConversationStore(storage);
  let clock = 1_000;
  const controller = new ChatController({
    actor: model,
    store,
    getSettings: () => settings,
    now: () => (clock += 250),
  });
  return { model, store, storage, controller };
}

const starts = (model: FakeModel) => model.method('start_turn') as TurnRequest[];

describe('ChatController', () => {
  it('answers a message and keeps the conversation with its session and stats', async () => {
    const { model, storage, controller } = setup();

    await controller.send('  Tell me a story  ');

    const conversation = controller.active;
    expect(conversation.title).toBe('Tell me a story');
    expect(conversation.sessionId).toBe('1');
    expect(conversation.messages.map((m) => [m.role, m.text])).toEqual([
      ['user', 'Tell me a story'],
      ['assistant', 't1 t2 t3 t4 '],
    ]);
    expect(conversation.messages[1]).toMatchObject({
      outcome: 'done',
      stats: { calls: 4, tokens: 4, contextTokens: 12, instructions: '4000000', seed: '7', stopReason: 'MaxTokens' },
    });
    expect(conversation.messages[1].stats!.elapsedMs).toBeGreaterThan(0);
    expect(controller.busy).toBe(false);

    const reloaded = new ChatController({
      actor: model,
      store: new ConversationStore(storage),
      getSettings: () => fixedSeed,
    });
    expect(reloaded.active).toEqual(conversation);
    expect(reloaded.conversations.map((c) => c.id)).toEqual([conversation.id]);
  });

  it('maps the settings to the request', async () => {
    const { model, controller } = setup({
      ...fixedSeed,
      maxTokens: 3,
      temperature: 0,
      topK: 0,
      topP: 1,
      callBudget: 123_456,
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

  it('continues the same canister session for a follow-up', async () => {
    const { model, controller } = setup();
    await controller.send('First');
    await controller.send('Second');
    expect(starts(model).map((r) => [r.session_id, r.prompt])).toEqual([
      [[], 'First'],
      [[1n], 'Second'],
    ]);
    const [, first, , second] = controller.active.messages;
    // The follow-up's context holds the first exchange as well: 5 + 4 tokens, then 5 + 4 more.
    expect([first.stats!.contextTokens, second.stats!.contextTokens]).toEqual([9, 18]);
  });

  it('reports progress while the answer grows', async () => {
    const { controller } = setup();
    const seen: string[] = [];
    controller.subscribe((event) => {
      if (event === 'progress')
        seen.push(`${controller.generation!.snapshot.phase}:${controller.active.messages[1].text}`);
    });
    await controller.send('Hi');
    expect(seen).toEqual(['reading:', 'generating:', 'generating:t1 t2 ', 'generating:t1 t2 t3 t4 ']);
  });

  it('stops between calls and keeps what arrived', async () => {
    const { model, controller } = setup({ ...fixedSeed, maxTokens: 50 });
    controller.subscribe((event) => {
      if (event === 'progress' && controller.generation!.snapshot.generatedTokens >= 2) controller.stop();
    });
    const sending = controller.send('Hi');
    expect(controller.busy).toBe(true);
    await sending;

    const answer = controller.active.messages[1];
    expect(answer).toMatchObject({ outcome: 'stopped', text: 't1 t2 ' });
    expect(answer.stats!.stopReason).toBeUndefined();
    expect(model.requests).toHaveLength(answer.stats!.calls);
    expect(controller.busy).toBe(false);
  });

  it('ignores sends while busy and empty messages', async () => {
    const { model, controller } = setup();
    const first = controller.send('One');
    await controller.send('Two');
    await controller.send('   ');
    await first;
    expect(starts(model)).toHaveLength(1);
  });

  it('regenerates in a fresh session that replays the conversation, ending the old session', async () => {
    const { model, controller } = setup();
    await controller.send('First');
    await controller.send('Second');
    expect(controller.canRegenerate).toBe(true);

    await controller.regenerate();

    expect(model.ended).toEqual([1n]);
    expect(starts(model)[2]).toMatchObject({
      session_id: [],
      prompt: 'User: First\nAssistant: t1 t2 t3 t4 \n\nUser: Second',
    });
    expect(controller.active.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(controller.active.sessionId).toBe('2');
  });

  it('regenerates a first answer with exactly the original prompt', async () => {
    const { model, controller } = setup();
    await controller.send('Only');
    await controller.regenerate();
    expect(starts(model).map((r) => [r.session_id, r.prompt])).toEqual([
      [[], 'Only'],
      [[], 'Only'],
    ]);
  });

  it('recovers transparently when the canister no longer knows the session', async () => {
    const storage = new MemoryStorage();
    const store = new ConversationStore(storage);
    store.save({
      id: 'old',
      title: 'Old chat',
      createdAt: 1,
      updatedAt: 1,
      sessionId: '99',
      messages: [
        { id: 'u', role: 'user', text: 'Hi' },
        { id: 'a', role: 'assistant', text: 'Hello!', outcome: 'done' },
      ],
    });
    store.activeId = 'old';
    const { model, controller } = setup(fixedSeed, storage);

    await controller.send('How are you?');

    expect(starts(model).map((r) => [r.session_id, r.prompt])).toEqual([
      [[99n], 'How are you?'],
      [[], 'User: Hi\nAssistant: Hello!\n\nUser: How are you?'],
    ]);
    const answer = controller.active.messages[3];
    expect(answer).toMatchObject({ outcome: 'done', replayed: true, text: 't1 t2 t3 t4 ' });
    expect(controller.active.sessionId).toBe('1');
  });

  it('shows a clear error when the model is not loaded', async () => {
    const { model, controller } = setup();
    model.modelLoaded = false;
    await controller.send('Hi');
    const answer = controller.active.messages[1];
    expect(answer.outcome).toBe('error');
    expect(answer.error).toMatch(/model is not loaded/i);
    expect(controller.canRegenerate).toBe(true);
  });

  it('shows a clear error when the network fails, keeping the partial answer and session', async () => {
    const { model, controller } = setup({ ...fixedSeed, maxTokens: 10 });
    model.onCall = () => {
      if (model.sessions.get(1n)?.generated === 2) model.script(new TypeError('Failed to fetch'));
    };
    await controller.send('Hi');
    const answer = controller.active.messages[1];
    expect(answer).toMatchObject({ outcome: 'error', text: 't1 t2 ' });
    expect(answer.error).toMatch(/could not reach/i);
    expect(controller.active.sessionId).toBe('1');
  });

  it('switches, renames and deletes conversations, ending the deleted session', async () => {
    const { model, controller, store } = setup();
    await controller.send('First chat');
    const first = controller.active.id;
    controller.newChat();
    expect(controller.active.messages).toEqual([]);
    await controller.send('Second chat');
    const second = controller.active.id;

    controller.select(first);
    expect(controller.active.title).toBe('First chat');
    expect(store.activeId).toBe(first);

    controller.rename(second, '  Renamed  ');
    expect(store.get(second)!.title).toBe('Renamed');

    controller.remove(first);
    expect(model.ended).toEqual([1n]);
    expect(controller.active.id).toBe(second);
    expect(controller.conversations.map((c) => c.id)).toEqual([second]);
  });

  it('does not resurrect a conversation deleted while its answer was generating', async () => {
    const { model, controller } = setup({ ...fixedSeed, maxTokens: 50 });
    const sending = controller.send('Hi');
    const id = controller.active.id;
    controller.remove(id);
    await sending;
    expect(controller.conversations).toEqual([]);
    expect(model.ended).toEqual([1n]);
    expect(model.requests.filter((r) => r.method !== 'end_session')).toHaveLength(1);
  });

  it('keeps an empty new chat instead of stacking empty ones', () => {
    const { controller } = setup();
    const empty = controller.active;
    controller.newChat();
    expect(controller.active).toBe(empty);
  });
});
