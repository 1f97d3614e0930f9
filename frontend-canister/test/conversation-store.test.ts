import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConversationStore, type TabMessage } from '../src/conversation-store';
import { type Conversation, addMessage, newConversation } from '../src/conversations';
import { MemoryStorage } from './fake-model';

let dbCount = 0;
const opened: ConversationStore[] = [];

/** Two stores on one database and one localStorage are two tabs of one browser profile. */
async function tab(dbName: string, storage: Storage, factory: IDBFactory | undefined = indexedDB) {
  const store = await ConversationStore.open({ indexedDB: factory, storage, dbName });
  opened.push(store);
  return store;
}

function conversation(id: string, updatedAt: number, text = 'Hi'): Conversation {
  const c = { ...newConversation(1), id, title: `Chat ${id}`, updatedAt };
  addMessage(c, { id: `${id}-u`, parentId: null, role: 'user', text });
  return c;
}

/** Resolves with the next message `store` receives from another tab. */
const nextMessage = (store: ConversationStore) =>
  new Promise<TabMessage>((resolve) => {
    const unsubscribe = store.subscribe((message) => {
      unsubscribe();
      resolve(message);
    });
  });

afterEach(() => {
  for (const store of opened.splice(0)) store.close();
});

describe('ConversationStore', () => {
  it('saves one record per conversation, reopens them newest first, and deletes', async () => {
    const name = `db${dbCount++}`;
    const storage = new MemoryStorage();
    const store = await tab(name, storage);
    expect(store.persistent).toBe(true);
    await store.save(conversation('a', 10));
    await store.save(conversation('b', 30));
    await store.save(conversation('c', 20));
    await store.save({ ...conversation('a', 40), title: 'Renamed' });

    const reopened = await tab(name, storage);
    expect(reopened.list().map((c) => [c.id, c.title])).toEqual([
      ['a', 'Renamed'],
      ['b', 'Chat b'],
      ['c', 'Chat c'],
    ]);
    await reopened.remove('b');
    expect((await tab(name, storage)).list().map((c) => c.id)).toEqual(['a', 'c']);
  });

  it('lets two tabs write at once without losing either conversation, and each sees the other live', async () => {
    const name = `db${dbCount++}`;
    const storage = new MemoryStorage();
    const [first, second] = [await tab(name, storage), await tab(name, storage)];
    const heardBySecond = nextMessage(second);
    const heardByFirst = nextMessage(first);

    await Promise.all([first.save(conversation('from-first', 1)), second.save(conversation('from-second', 2))]);

    expect(await heardBySecond).toEqual({ type: 'changed', id: 'from-first' });
    expect(await heardByFirst).toEqual({ type: 'changed', id: 'from-second' });
    expect(first.get('from-second')?.title).toBe('Chat from-second');
    expect(second.get('from-first')?.title).toBe('Chat from-first');
    // A follow-up in one tab, then a reload of the other: both conversations are still there.
    const followUp = first.get('from-first')!;
    addMessage(followUp, { id: 'x', parentId: 'from-first-u', role: 'assistant', text: 'Hello' });
    await first.save(followUp);
    expect(
      (await tab(name, storage))
        .list()
        .map((c) => c.id)
        .sort(),
    ).toEqual(['from-first', 'from-second']);
  });

  it("hears other tabs' deletions, and keeps its own copy of a pinned conversation", async () => {
    const name = `db${dbCount++}`;
    const storage = new MemoryStorage();
    const [first, second] = [await tab(name, storage), await tab(name, storage)];
    await first.save(conversation('a', 1));
    await first.save(conversation('b', 1));
    await vi.waitFor(() => expect(second.get('b')).toBeDefined());

    second.pin('a', true);
    const heard = nextMessage(second);
    await first.save({ ...conversation('a', 2), title: 'Changed elsewhere' });
    await heard;
    expect(second.get('a')?.title).toBe('Chat a');

    const deleted = nextMessage(second);
    await first.remove('b');
    await deleted;
    expect(second.get('b')).toBeUndefined();
  });

  it('passes stop requests to the other tabs', async () => {
    const name = `db${dbCount++}`;
    const storage = new MemoryStorage();
    const [first, second] = [await tab(name, storage), await tab(name, storage)];
    const heard = nextMessage(second);
    first.post({ type: 'stop', id: 'a' });
    expect(await heard).toEqual({ type: 'stop', id: 'a' });
  });

  it('moves the conversations of the localStorage version into IndexedDB once', async () => {
    const storage = new MemoryStorage();
    const legacy = [
      {
        id: 'old',
        title: 'Old',
        createdAt: 1,
        updatedAt: 2,
        sessionId: '7',
        messages: [
          { id: 'u', role: 'user', text: 'Hi' },
          { id: 'a', role: 'assistant', text: 'Hello', outcome: 'done' },
        ],
      },
      { id: 'broken' },
    ];
    storage.setItem('gpt2-chat.conversations.v1', JSON.stringify(legacy));
    const name = `db${dbCount++}`;
    const store = await tab(name, storage);
    expect(store.list().map((c) => c.id)).toEqual(['old']);
    expect(store.get('old')!.messages[1]).toMatchObject({ parentId: 'u', sessionId: '7' });
    expect(storage.getItem('gpt2-chat.conversations.v1')).toBeNull();
    expect((await tab(name, storage)).list().map((c) => c.id)).toEqual(['old']);
  });

  it('skips malformed records', async () => {
    const name = `db${dbCount++}`;
    const store = await tab(name, new MemoryStorage());
    await store.save(conversation('good', 1));
    await store.save({ id: 'bad', title: 3 } as unknown as Conversation);
    expect((await tab(name, new MemoryStorage())).list().map((c) => c.id)).toEqual(['good']);
  });

  it('keeps conversations in memory when IndexedDB cannot be opened', async () => {
    const failing = {
      open: () => {
        throw new DOMException('blocked', 'SecurityError');
      },
    } as unknown as IDBFactory;
    const store = await tab(`db${dbCount++}`, new MemoryStorage(), failing);
    expect(store.persistent).toBe(false);
    expect(await store.save(conversation('a', 1))).toBe(false);
    expect(store.get('a')?.title).toBe('Chat a');
  });

  it('remembers the open conversation and forgets it when deleted', async () => {
    const storage = new MemoryStorage();
    const store = await tab(`db${dbCount++}`, storage);
    await store.save(conversation('a', 1));
    store.activeId = 'a';
    expect(store.activeId).toBe('a');
    store.activeId = 'nowhere';
    expect(store.activeId).toBeUndefined();
    store.activeId = 'a';
    await store.remove('a');
    expect(store.activeId).toBeUndefined();
  });
});
