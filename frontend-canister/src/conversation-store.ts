import { type Conversation, fromLegacy, isConversation } from './conversations';

const DB_NAME = 'gpt2-chat';
const DB_VERSION = 1;
const STORE = 'conversations';
const CHANNEL = 'gpt2-chat.conversations';
const LEGACY_KEY = 'gpt2-chat.conversations.v1';
const ACTIVE_KEY = 'gpt2-chat.active-conversation.v1';

/** What tabs tell each other: a conversation was written or deleted, or its generation should stop. */
export type TabMessage = { type: 'changed'; id: string } | { type: 'stop'; id: string };

export interface ConversationStoreOptions {
  indexedDB?: IDBFactory;
  /** Remembers the open conversation; also where the first version of the page kept conversations. */
  storage: Storage;
  dbName?: string;
}

const done = (request: IDBRequest | IDBTransaction) =>
  new Promise<void>((resolve, reject) => {
    if (request instanceof IDBTransaction) {
      request.oncomplete = () => resolve();
      request.onabort = request.onerror = () => reject(request.error);
    } else {
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error);
    }
  });

function openDatabase(factory: IDBFactory, name: string): Promise<IDBDatabase> {
  const request = factory.open(name, DB_VERSION);
  request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'id' });
  return done(request).then(() => request.result);
}

/**
 * Conversations in IndexedDB, one record each, so tabs never overwrite each other's conversations. Every write is
 * announced on a BroadcastChannel; other tabs re-read that record. Reads come from memory. When IndexedDB is not
 * available (some private modes) the conversations live in memory only and `persistent` is false.
 */
export class ConversationStore {
  readonly #cache = new Map<string, Conversation>();
  readonly #listeners = new Set<(message: TabMessage) => void>();
  /** Conversations this tab is generating in: its copy wins over what other tabs write. */
  readonly #pinned = new Set<string>();
  readonly #channel: BroadcastChannel | undefined;
  #closed = false;

  private constructor(
    private readonly db: IDBDatabase | undefined,
    private readonly storage: Storage,
  ) {
    this.#channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : undefined;
    this.#channel?.addEventListener('message', (event: MessageEvent<TabMessage>) => void this.#receive(event.data));
  }

  static async open({ indexedDB, storage, dbName = DB_NAME }: ConversationStoreOptions): Promise<ConversationStore> {
    let db: IDBDatabase | undefined;
    try {
      if (indexedDB) db = await openDatabase(indexedDB, dbName);
    } catch {
      db = undefined;
    }
    const store = new ConversationStore(db, storage);
    await store.#load();
    return store;
  }

  get persistent(): boolean {
    return this.db !== undefined;
  }

  async #load(): Promise<void> {
    for (const conversation of await this.#readAll()) this.#cache.set(conversation.id, conversation);
    await this.#migrateLegacy();
  }

  /** Moves the conversations of the localStorage version into IndexedDB, once. */
  async #migrateLegacy(): Promise<void> {
    let legacy: unknown;
    try {
      legacy = JSON.parse(this.storage.getItem(LEGACY_KEY) ?? 'null');
    } catch {
      legacy = null;
    }
    if (!Array.isArray(legacy)) return;
    for (const entry of legacy) {
      const conversation = fromLegacy(entry);
      if (conversation && !this.#cache.has(conversation.id)) await this.save(conversation);
    }
    if (this.db) this.storage.removeItem(LEGACY_KEY);
  }

  async #readAll(): Promise<Conversation[]> {
    if (!this.db) return [];
    const request = this.db.transaction(STORE).objectStore(STORE).getAll();
    await done(request);
    return (request.result as unknown[]).filter(isConversation);
  }

  async #read(id: string): Promise<Conversation | undefined> {
    if (!this.db) return undefined;
    const request = this.db.transaction(STORE).objectStore(STORE).get(id);
    await done(request);
    return isConversation(request.result) ? request.result : undefined;
  }

  async #receive(message: TabMessage): Promise<void> {
    if (message.type === 'changed' && !this.#pinned.has(message.id)) {
      const conversation = await this.#read(message.id);
      if (this.#pinned.has(message.id)) return; // this tab started generating in it meanwhile
      if (conversation) this.#cache.set(message.id, conversation);
      else this.#cache.delete(message.id);
    }
    for (const listener of this.#listeners) listener(message);
  }

  /** Messages from other tabs, after the store has taken in their changes. */
  subscribe(listener: (message: TabMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Tells the other tabs. */
  post(message: TabMessage): void {
    if (!this.#closed) this.#channel?.postMessage(message);
  }

  /** While pinned, other tabs' writes to this conversation are not taken in. */
  pin(id: string, pinned: boolean): void {
    if (pinned) this.#pinned.add(id);
    else this.#pinned.delete(id);
  }

  /** Most recently updated first. */
  list(): Conversation[] {
    return [...this.#cache.values()].sort((a, b) => b.updatedAt - a.updatedAt);
  }

  get(id: string): Conversation | undefined {
    return this.#cache.get(id);
  }

  /** Resolves false when the browser refused to store (quota); the conversation stays in memory. */
  async save(conversation: Conversation): Promise<boolean> {
    this.#cache.set(conversation.id, conversation);
    return this.#write((store) => store.put(conversation), conversation.id);
  }

  async remove(id: string): Promise<boolean> {
    this.#cache.delete(id);
    if (this.activeId === id) this.activeId = undefined;
    return this.#write((store) => store.delete(id), id);
  }

  async #write(change: (store: IDBObjectStore) => void, id: string): Promise<boolean> {
    if (!this.db) return false;
    try {
      const transaction = this.db.transaction(STORE, 'readwrite');
      change(transaction.objectStore(STORE));
      await done(transaction);
    } catch {
      return false;
    }
    this.post({ type: 'changed', id });
    return true;
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

  close(): void {
    this.#closed = true;
    this.#channel?.close();
    this.db?.close();
  }
}
