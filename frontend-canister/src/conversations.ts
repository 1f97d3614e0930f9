import type { StopReasonName } from './turn';

export interface AnswerStats {
  calls: number;
  tokens: number;
  /** Tokens in the conversation's canister session after this answer. */
  contextTokens: number;
  /** nat64 as a decimal string (JSON has no BigInt). */
  instructions: string;
  elapsedMs: number;
  seed: string;
  stopReason?: StopReasonName;
}

export interface ChatMessage {
  id: string;
  role: 'user' | 'assistant';
  text: string;
  /** Assistant messages only: how the answer ended. */
  outcome?: 'done' | 'stopped' | 'error';
  error?: string;
  stats?: AnswerStats;
  /** The canister had forgotten the session; the conversation was replayed into a new one. */
  replayed?: boolean;
}

export interface Conversation {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  /** Canister session holding this conversation's KV cache (nat64 as a decimal string). */
  sessionId?: string;
  messages: ChatMessage[];
}

const CONVERSATIONS_KEY = 'gpt2-chat.conversations.v1';
const ACTIVE_KEY = 'gpt2-chat.active-conversation.v1';
const TITLE_LENGTH = 60;

export function makeId(): string {
  // crypto.randomUUID needs a secure context; getRandomValues works on plain-http LAN addresses too.
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function titleFrom(text: string): string {
  const line = text.trim().split('\n')[0].trim();
  return line.length > TITLE_LENGTH ? `${line.slice(0, TITLE_LENGTH - 1)}…` : line || 'New chat';
}

export function newConversation(now = Date.now()): Conversation {
  return { id: makeId(), title: 'New chat', createdAt: now, updatedAt: now, messages: [] };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function isMessage(v: unknown): v is ChatMessage {
  return (
    isObject(v) &&
    typeof v.id === 'string' &&
    (v.role === 'user' || v.role === 'assistant') &&
    typeof v.text === 'string'
  );
}

function isConversation(v: unknown): v is Conversation {
  return (
    isObject(v) &&
    typeof v.id === 'string' &&
    typeof v.title === 'string' &&
    typeof v.createdAt === 'number' &&
    typeof v.updatedAt === 'number' &&
    (v.sessionId === undefined || (typeof v.sessionId === 'string' && /^\d+$/.test(v.sessionId))) &&
    Array.isArray(v.messages) &&
    v.messages.every(isMessage)
  );
}

/** Conversations in localStorage; unreadable or malformed entries are dropped instead of breaking the page. */
export class ConversationStore {
  #conversations: Conversation[];

  constructor(private readonly storage: Storage) {
    this.#conversations = this.#read();
  }

  #read(): Conversation[] {
    try {
      const parsed: unknown = JSON.parse(this.storage.getItem(CONVERSATIONS_KEY) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter(isConversation) : [];
    } catch {
      return [];
    }
  }

  /** Returns false when the browser refused to store (quota, private mode); the data stays in memory. */
  #write(): boolean {
    try {
      this.storage.setItem(CONVERSATIONS_KEY, JSON.stringify(this.#conversations));
      return true;
    } catch {
      return false;
    }
  }

  /** Most recently updated first. */
  list(): Conversation[] {
    return [...this.#conversations].sort((a, b) => b.updatedAt - a.updatedAt);
  }

  get(id: string): Conversation | undefined {
    return this.#conversations.find((c) => c.id === id);
  }

  save(conversation: Conversation): boolean {
    const index = this.#conversations.findIndex((c) => c.id === conversation.id);
    if (index >= 0) this.#conversations[index] = conversation;
    else this.#conversations.push(conversation);
    return this.#write();
  }

  remove(id: string): boolean {
    this.#conversations = this.#conversations.filter((c) => c.id !== id);
    if (this.activeId === id) this.activeId = undefined;
    return this.#write();
  }

  get activeId(): string | undefined {
    const id = this.storage.getItem(ACTIVE_KEY) ?? undefined;
    return id && this.get(id) ? id : undefined;
  }

  set activeId(id: string | undefined) {
    try {
      if (id) this.storage.setItem(ACTIVE_KEY, id);
      else this.storage.removeItem(ACTIVE_KEY);
    } catch {
      // Not remembering the open conversation across reloads is harmless.
    }
  }
}
