import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatController } from '../src/chat-controller';
import { ConversationStore } from '../src/conversations';
import type { ModelEndpoint } from '../src/env';
import { DEFAULT_SETTINGS, type GenerationSettings } from '../src/settings';
import { mountApp } from '../src/ui/app';
import { FakeModel, MemoryStorage } from './fake-model';
import indexHtml from '../index.html?raw';

const markup = new DOMParser().parseFromString(indexHtml, 'text/html');

const endpoint: ModelEndpoint = {
  canisterId: 'uxrrr-q7777-77774-qaaaq-cai',
  canisterIdSource: 'ic_env cookie',
  network: 'local',
  shouldFetchRootKey: false,
  verifyQuerySignatures: false,
};

const $ = <T extends HTMLElement = HTMLElement>(testId: string) =>
  document.querySelector<T>(`[data-testid="${testId}"]`)!;
const $$ = (testId: string) => [...document.querySelectorAll<HTMLElement>(`[data-testid="${testId}"]`)];

function mount(model = new FakeModel(), storage = new MemoryStorage()) {
  document.body.innerHTML = markup.body.innerHTML;
  let settings: GenerationSettings = { ...DEFAULT_SETTINGS, maxTokens: 4, randomSeed: false };
  const controller = new ChatController({
    actor: model,
    store: new ConversationStore(storage),
    getSettings: () => settings,
  });
  mountApp({
    controller,
    endpoint,
    statusActor: model,
    getSettings: () => settings,
    saveSettings: (next) => (settings = next),
  });
  return { model, controller, storage };
}

function type(text: string, options: KeyboardEventInit = {}) {
  const input = $<HTMLTextAreaElement>('prompt-input');
  input.value = text;
  input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true, ...options }));
}

beforeEach(() => {
  localStorage.clear();
  vi.stubGlobal('matchMedia', () => ({ matches: false, addEventListener() {} }));
  HTMLFormElement.prototype.requestSubmit ??= function (this: HTMLFormElement) {
    this.dispatchEvent(new Event('submit', { cancelable: true }));
  };
});

describe('chat page', () => {
  it('shows the empty state with example prompts, then the answer with its stats', async () => {
    const { model } = mount();
    expect($('empty-state').hidden).toBe(false);
    expect($$('example-prompt').length).toBeGreaterThan(0);

    type('Hello **there**');

    await vi.waitFor(() => expect($$('answer-stats')[0]?.textContent).toMatch(/seed 42/));
    expect($('empty-state').hidden).toBe(true);
    const [question, answer] = $$('message');
    expect(question.dataset.role).toBe('user');
    expect(question.textContent).toContain('Hello **there**'); // the user's text is shown as typed
    expect(answer.querySelector('[data-testid="message-content"]')!.textContent!.trim()).toBe('t1 t2 t3 t4');
    expect($$('answer-stats')[0].textContent).toMatch(
      /^4 calls · 4 tokens · 10 in context · 4 M instructions · \d+\.\d s · seed 42 · token limit$/,
    );
    expect($('chat-title').textContent).toBe('Hello **there**');
    expect($$('conversation-item').map((e) => e.textContent)).toEqual(['Hello **there**']);
    expect(model.method('start_turn')).toHaveLength(1);
  });

  it('sends with Enter but not with Shift+Enter', () => {
    const { model } = mount();
    type('line one', { shiftKey: true });
    expect(model.requests).toHaveLength(0);
    type('line one');
    expect(model.requests).toHaveLength(1);
  });

  it('shows the phase while the answer grows, and stops on Escape', async () => {
    const model = new FakeModel({ promptTokensPerCall: 2, tokensPerCall: 1 });
    const phases: string[] = [];
    model.onCall = () => {
      const phase = $$('phase')[0]?.textContent;
      if (phase) phases.push(phase);
      if (model.sessions.get(1n)?.generated === 2)
        document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    };
    mount(model);
    type('Hi');

    await vi.waitFor(() => expect($$('message')[1]?.dataset.outcome).toBe('stopped'));
    expect(phases).toContain('Reading prompt… 3 tokens left');
    expect(phases).toContain('Generating…');
    expect($$('message-content')[1].textContent!.trim()).toBe('t1 t2');
    expect($('stopped-note')).not.toBeNull();
    expect($('stop').hidden).toBe(true);
    expect($('send').hidden).toBe(false);
  });

  it('marks the growing answer as a busy live region', async () => {
    const model = new FakeModel();
    let liveWhileGenerating: string | null = null;
    model.onCall = () => (liveWhileGenerating ??= $$('message-content')[1]?.getAttribute('aria-busy'));
    mount(model);
    type('Hi');
    await vi.waitFor(() => expect($$('answer-stats')[0]?.textContent).toMatch(/seed/));
    expect(liveWhileGenerating).toBe('true');
    expect($$('message-content')[1].hasAttribute('aria-busy')).toBe(false);
  });

  it('warns when the model is not loaded, and shows the failed call in the answer', async () => {
    const model = new FakeModel();
    model.modelLoaded = false;
    mount(model);
    await vi.waitFor(() => expect($('banner').hidden).toBe(false));
    expect($('banner').textContent).toMatch(/model is not loaded/i);
    expect($('model-pill').dataset.state).toBe('not-loaded');

    type('Hi');
    await vi.waitFor(() => expect($('message-error')).not.toBeNull());
    expect($('message-error').textContent).toMatch(/model is not loaded/i);
    expect($('regenerate').textContent).toBe('Retry');
  });

  it('lists the canister status in the status panel', async () => {
    mount();
    await vi.waitFor(() => expect($('model-pill').dataset.state).toBe('ready'));
    expect($('status-parameters').textContent).toBe('124 M');
    expect($('status-sessions').textContent).toBe('0 of 16');
    expect($('status-endpoint').textContent).toContain('uxrrr-q7777-77774-qaaaq-cai');
  });

  it('switches and deletes conversations from the sidebar', async () => {
    const { controller } = mount();
    type('First');
    await vi.waitFor(() => expect(controller.busy).toBe(false));
    $('new-chat').click();
    expect($('empty-state').hidden).toBe(false);
    type('Second');
    await vi.waitFor(() => expect($$('conversation-item')).toHaveLength(2));
    await vi.waitFor(() => expect(controller.busy).toBe(false));

    $$('conversation-item')
      .find((e) => e.textContent === 'First')!
      .click();
    expect($('chat-title').textContent).toBe('First');

    vi.stubGlobal('confirm', () => true);
    $$('delete-conversation')[1].click();
    expect($$('conversation-item').map((e) => e.textContent)).toEqual(['Second']);
    expect($('chat-title').textContent).toBe('Second');
  });

  it('renames a conversation in place', () => {
    const storage = new MemoryStorage();
    new ConversationStore(storage).save({ id: 'c', title: 'Old', createdAt: 1, updatedAt: 1, messages: [] });
    mount(new FakeModel(), storage);
    $('rename-conversation').click();
    const input = $<HTMLInputElement>('rename-input');
    input.value = 'New title';
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    expect($('conversation-item').textContent).toBe('New title');
  });
});
