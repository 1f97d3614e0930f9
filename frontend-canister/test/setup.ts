// IndexedDB for the conversation store; a fresh database per test file.
import 'fake-indexeddb/auto';
