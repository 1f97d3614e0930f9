import './styles.css';
import { ChatController, type ChatActor } from './chat-controller';
import { ConversationStore } from './conversation-store';
import { discoverEndpoint, readBrowserSources, type ModelEndpoint } from './env';
import { webLocks } from './generation-locks';
import { browserIdentity } from './identity';
import { createModelActor, type ModelActor } from './model-client';
import { loadSettings, saveSettings } from './settings';
import { mountApp } from './ui/app';

let settings = loadSettings(localStorage);
let endpoint: ModelEndpoint | undefined;
let actor: ModelActor | undefined;
let configError: string | undefined;
try {
  endpoint = discoverEndpoint(readBrowserSources());
  actor = createModelActor(endpoint, browserIdentity(localStorage));
} catch (error) {
  configError = error instanceof Error ? error.message : String(error);
}

// Without a canister the conversations stay readable; sending is disabled, so only end_session could be called.
const unavailable = () => Promise.reject(new Error(configError));
const chatActor: ChatActor = actor ?? { start_turn: unavailable, continue_turn: unavailable, end_session: unavailable };

const store = await ConversationStore.open({ indexedDB: globalThis.indexedDB, storage: localStorage });

mountApp({
  controller: new ChatController({
    actor: chatActor,
    store,
    getSettings: () => settings,
    locks: webLocks(navigator.locks),
  }),
  endpoint,
  queryActor: actor,
  configError,
  storageWarning: store.persistent
    ? undefined
    : 'This browser does not let the page store conversations (IndexedDB is unavailable): they last until the tab closes.',
  getSettings: () => settings,
  saveSettings: (next) => {
    settings = next;
    saveSettings(localStorage, next);
  },
});
