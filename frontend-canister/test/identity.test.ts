import { describe, expect, it } from 'vitest';
import { browserIdentity } from '../src/identity';
import { MemoryStorage } from './fake-model';

describe('browserIdentity', () => {
  it('creates a key once and keeps using it', () => {
    const storage = new MemoryStorage();
    const first = browserIdentity(storage).getPrincipal();
    expect(first.isAnonymous()).toBe(false);
    expect(browserIdentity(storage).getPrincipal().toText()).toBe(first.toText());
  });

  it('gives each browser its own principal', () => {
    expect(browserIdentity(new MemoryStorage()).getPrincipal().toText()).not.toBe(
      browserIdentity(new MemoryStorage()).getPrincipal().toText(),
    );
  });

  it('replaces an unreadable stored key', () => {
    const storage = new MemoryStorage();
    storage.setItem('gpt2-chat.identity.v1', '{"not":"a key"}');
    const replaced = browserIdentity(storage).getPrincipal().toText();
    expect(browserIdentity(storage).getPrincipal().toText()).toBe(replaced);
  });

  it('still signs when the browser refuses to store the key', () => {
    const storage = new MemoryStorage();
    storage.failWrites = true;
    expect(browserIdentity(storage).getPrincipal().isAnonymous()).toBe(false);
  });
});
