/**
 * Which conversations some tab is generating in. A tab holds a conversation's lock for as long as it generates
 * there, so other tabs show the answer as under way (not interrupted) and do not start a second generation; a
 * closed or crashed tab releases its locks by itself.
 */
export interface GenerationLocks {
  /** Takes the conversation's lock; undefined when another tab holds it. Call the returned function to release. */
  hold(conversationId: string): Promise<(() => void) | undefined>;
  /** Conversations whose lock is held, by any tab (this one included). */
  held(): Promise<Set<string>>;
  /** Resolves once nobody holds the conversation's lock. */
  released(conversationId: string): Promise<void>;
}

const PREFIX = 'gpt2-chat.generating.';

/** The Web Locks API (shared by the tabs of one origin); undefined where the browser lacks it (insecure origins). */
export function webLocks(locks: LockManager | undefined): GenerationLocks | undefined {
  if (!locks) return undefined;
  return {
    hold: (id) =>
      new Promise((resolve) => {
        void locks.request(PREFIX + id, { ifAvailable: true }, (lock) => {
          if (!lock) return resolve(undefined);
          return new Promise<void>((release) => resolve(() => release()));
        });
      }),
    held: async () => {
      const { held = [] } = await locks.query();
      return new Set(held.flatMap(({ name }) => (name?.startsWith(PREFIX) ? [name.slice(PREFIX.length)] : [])));
    },
    released: (id) => locks.request(PREFIX + id, { mode: 'shared' }, () => undefined).then(() => undefined),
  };
}
