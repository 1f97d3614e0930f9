import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';

const STORAGE_KEY = 'gpt2-chat.identity.v1';

/**
 * The key this browser signs its calls with. The canister keeps sessions per caller: with the shared
 * anonymous principal, any visitor could continue or end anyone's conversation.
 */
export function browserIdentity(storage: Storage): Ed25519KeyIdentity {
  const stored = storage.getItem(STORAGE_KEY);
  if (stored) {
    try {
      return Ed25519KeyIdentity.fromJSON(stored);
    } catch {
      // Unreadable: a new key replaces it; the canister then no longer knows old sessions, which the page recovers from.
    }
  }
  const identity = Ed25519KeyIdentity.generate();
  try {
    storage.setItem(STORAGE_KEY, JSON.stringify(identity.toJSON()));
  } catch {
    // Without storage the key lasts as long as the page.
  }
  return identity;
}
