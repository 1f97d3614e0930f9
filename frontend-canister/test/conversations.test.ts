import { describe, expect, it } from 'vitest';
import { type Conversation, ConversationStore, newConversation, titleFrom } from '../src/conversations';
import { MemoryStorage } from './fake-model';

const KEY = 'gpt2-chat.conversations.v1';

function conversation(id: string, updatedAt: number, extra: Partial<Conversation> = {}): Conversation {
  return {
    id,
    title: `Chat ${id}`,
    createdAt: 1,
    updatedAt,
    messages: [{ id: `${id}-m`, role: 'user', text: 'Hi' }],
    ...extra,
  };
}

describe('ConversationStore', () => {
  it('saves, reloads, lists newest first and deletes', () => {
    const storage = new MemoryStorage();
    const store = new ConversationStore(storage);
    store.save(conversation('a', 10));
    store.save(conversation('b', 30, { sessionId: '12' }));
    store.save(conversation('c', 20));
    store.save({ ...conversation('a', 40), title: 'Renamed' });

    const reloaded = new ConversationStore(storage);
    expect(reloaded.list().map((c) => [c.id, c.title])).toEqual([
      ['a', 'Renamed'],
      ['b', 'Chat b'],
      ['c', 'Chat c'],
    ]);
    expect(reloaded.get('b')?.sessionId).toBe('12');

    reloaded.remove('b');
    expect(new ConversationStore(storage).list().map((c) => c.id)).toEqual(['a', 'c']);
  });

  it('remembers the open conversation and forgets it when deleted', () => {
    const storage = new MemoryStorage();
    const store = new ConversationStore(storage);
    store.save(conversation('a', 1));
    store.save(conversation('b', 2));

    store.activeId = 'a';
    expect(new ConversationStore(storage).activeId).toBe('a');
    store.activeId = 'b';
    expect(store.activeId).toBe('b');
    store.remove('b');
    expect(store.activeId).toBeUndefined();
  });

  it('ignores an active id that points nowhere', () => {
    const storage = new MemoryStorage();
    storage.setItem('gpt2-chat.active-conversation.v1', 'missing');
    expect(new ConversationStore(storage).activeId).toBeUndefined();
  });

  it('starts empty when the stored value is not JSON or not a list', () => {
    for (const raw of ['{broken', '42', '{"id":"a"}', 'null']) {
      const storage = new MemoryStorage();
      storage.setItem(KEY, raw);
      expect(new ConversationStore(storage).list()).toEqual([]);
    }
  });

  it('keeps the valid conversations and drops malformed ones', () => {
    const storage = new MemoryStorage();
    const valid = conversation('ok', 5);
    storage.setItem(
      KEY,
      JSON.stringify([
        valid,
        { id: 'no-messages', title: 't', createdAt: 1, updatedAt: 1 },
        { ...conversation('bad-role', 1), messages: [{ id: 'x', role: 'system', text: 'hi' }] },
        { ...conversation('bad-session', 1), sessionId: 'abc' },
        null,
        'text',
      ]),
    );
    expect(new ConversationStore(storage).list()).toEqual([valid]);
  });

  it('keeps working in memory when the browser refuses to store', () => {
    const storage = new MemoryStorage();
    const store = new ConversationStore(storage);
    storage.failWrites = true;
    expect(store.save(conversation('a', 1))).toBe(false);
    expect(store.list().map((c) => c.id)).toEqual(['a']);
    expect(() => (store.activeId = 'a')).not.toThrow();
  });
});

describe('titleFrom', () => {
  it('uses the first line of the first message, shortened', () => {
    expect(titleFrom('  What is GPT-2?\nTell me more')).toBe('What is GPT-2?');
    expect(titleFrom('x'.repeat(100))).toHaveLength(60);
    expect(titleFrom('   ')).toBe('New chat');
  });
});

describe('newConversation', () => {
  it('creates an empty conversation with a unique id', () => {
    const a = newConversation(5);
    expect(a).toMatchObject({ title: 'New chat', createdAt: 5, updatedAt: 5, messages: [] });
    expect(newConversation().id).not.toBe(a.id);
  });
});
