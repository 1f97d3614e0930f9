import { describe, expect, it } from 'vitest';
import {
  type ChatMessage,
  type Conversation,
  addMessage,
  fromLegacy,
  isConversation,
  newConversation,
  showVersion,
  titleFrom,
  versionsOf,
  visiblePath,
} from '../src/conversations';
import { conversationJson, conversationMarkdown, exportFileName, searchConversations } from '../src/export';

const message = (id: string, parentId: string | null, role: ChatMessage['role'], text = id): ChatMessage => ({
  id,
  parentId,
  role,
  text,
});

/** u1 → a1 → u2 → a2, then a second answer a1b to u1 and an edited question u2b after a1. */
function branched(): Conversation {
  const c = { ...newConversation(1), id: 'c', title: 'Branches' };
  for (const m of [
    message('u1', null, 'user'),
    message('a1', 'u1', 'assistant'),
    message('u2', 'a1', 'user'),
    message('a2', 'u2', 'assistant'),
  ])
    addMessage(c, m);
  return c;
}

const ids = (messages: ChatMessage[]) => messages.map((m) => m.id);

describe('conversation tree', () => {
  it('shows the newest child of each message unless another version was chosen', () => {
    const c = branched();
    expect(ids(visiblePath(c))).toEqual(['u1', 'a1', 'u2', 'a2']);

    addMessage(c, message('u2b', 'a1', 'user', 'edited'));
    addMessage(c, message('a2b', 'u2b', 'assistant'));
    expect(ids(visiblePath(c))).toEqual(['u1', 'a1', 'u2b', 'a2b']);
    expect(
      ids(
        versionsOf(
          c,
          c.messages.find((m) => m.id === 'u2')!,
        ),
      ),
    ).toEqual(['u2', 'u2b']);

    // Back to the first version of the question: its own answer comes back with it.
    expect(
      showVersion(
        c,
        c.messages.find((m) => m.id === 'u2b')!,
        -1,
      ),
    ).toBe(true);
    expect(ids(visiblePath(c))).toEqual(['u1', 'a1', 'u2', 'a2']);
    expect(
      showVersion(
        c,
        c.messages.find((m) => m.id === 'u2')!,
        -1,
      ),
    ).toBe(false);
  });

  it('keeps earlier answers as versions when an answer is regenerated', () => {
    const c = branched();
    addMessage(c, message('a1b', 'u1', 'assistant'));
    expect(ids(visiblePath(c))).toEqual(['u1', 'a1b']);
    showVersion(
      c,
      c.messages.find((m) => m.id === 'a1b')!,
      -1,
    );
    expect(ids(visiblePath(c))).toEqual(['u1', 'a1', 'u2', 'a2']);
  });

  it('turns a conversation of the localStorage version into a chain, its session on the last answer', () => {
    const legacy = {
      id: 'old',
      title: 'Old',
      createdAt: 1,
      updatedAt: 2,
      sessionId: '42',
      messages: [
        { id: 'u', role: 'user', text: 'Hi' },
        { id: 'a', role: 'assistant', text: 'Hello', outcome: 'done' },
      ],
    };
    const c = fromLegacy(legacy)!;
    expect(isConversation(c)).toBe(true);
    expect(c.messages.map((m) => [m.id, m.parentId, m.sessionId])).toEqual([
      ['u', null, undefined],
      ['a', 'u', '42'],
    ]);
    expect(c).not.toHaveProperty('sessionId');
    expect(fromLegacy({ ...legacy, messages: [{ id: 1 }] })).toBeUndefined();
    expect(fromLegacy({ ...legacy, sessionId: 'x' })).toBeUndefined();
    expect(fromLegacy('nope')).toBeUndefined();
  });

  it('rejects malformed records', () => {
    const good = branched();
    expect(isConversation(good)).toBe(true);
    expect(isConversation({ ...good, shown: null })).toBe(false);
    expect(isConversation({ ...good, messages: [{ ...good.messages[0], parentId: 3 }] })).toBe(false);
    expect(isConversation({ ...good, messages: [{ ...good.messages[1], sessionId: '1e9' }] })).toBe(false);
  });
});

describe('titleFrom and newConversation', () => {
  it('uses the first line of the first message, shortened', () => {
    expect(titleFrom('  What is the capital of France?\nThanks')).toBe('What is the capital of France?');
    expect(titleFrom('x'.repeat(100))).toHaveLength(60);
    expect(titleFrom('   ')).toBe('New chat');
  });

  it('creates an empty conversation with a unique id', () => {
    const a = newConversation(5);
    expect(a).toMatchObject({ title: 'New chat', createdAt: 5, updatedAt: 5, messages: [], shown: {} });
    expect(newConversation().id).not.toBe(a.id);
  });
});

describe('export and search', () => {
  it('exports the versions shown as Markdown, and everything as JSON', () => {
    const c = branched();
    addMessage(c, message('a1b', 'u1', 'assistant', 'second answer'));
    expect(conversationMarkdown(c)).toBe('# Branches\n\n## You\n\nu1\n\n## GPT-2\n\nsecond answer\n');
    expect(JSON.parse(conversationJson(c))).toEqual(c);
    expect(exportFileName({ ...c, title: 'Ça va? <script>' }, 'md')).toBe('ça-va-script.md');
    expect(exportFileName({ ...c, title: '???' }, 'json')).toBe('conversation.json');
  });

  it('finds conversations by title or message text, every word, any case', () => {
    const a = { ...branched(), id: 'a', title: 'Paris trip' };
    const b = { ...newConversation(), id: 'b', title: 'Other' };
    addMessage(b, message('x', null, 'user', 'The capital of FRANCE is Paris'));
    expect(searchConversations([a, b], 'paris').map((c) => c.id)).toEqual(['a', 'b']);
    expect(searchConversations([a, b], 'france  paris').map((c) => c.id)).toEqual(['b']);
    expect(searchConversations([a, b], 'berlin')).toEqual([]);
    expect(searchConversations([a, b], '  ')).toHaveLength(2);
  });
});
