import './styles.css';
import { ChatController } from './chat-controller';
import { ConversationStore } from './conversation-store';
import { readBrowserSources } from './env';
import { discoverFleet, Fleet, type FleetActors, loadQueryProbe } from './fleet';
import { webLocks } from './generation-locks';
import { browserIdentity } from './identity';
import { createFleetActors, type ModelActor } from './model-client';
import { loadSettings, saveSettings } from './settings';
import { mountApp } from './ui/app';

let settings = loadSettings(localStorage);
let canisters: FleetActors<ModelActor> | undefined;
let configError: string | undefined;
try {
  const members = discoverFleet({ ...readBrowserSources(), buildIds: import.meta.env });
  const actorOf = createFleetActors(members, browserIdentity(localStorage));
  canisters = { fleet: new Fleet(members, { probe: loadQueryProbe(actorOf) }), actorOf };
} catch (error) {
  configError = error instanceof Error ? error.message : String(error);
}

const store = await ConversationStore.open({ indexedDB: globalThis.indexedDB, storage: localStorage });

mountApp({
  controller: new ChatController({
    canisters,
    store,
    getSettings: () => settings,
    locks: webLocks(navigator.locks),
  }),
  canisters,
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
