import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatController } from '../src/chat-controller';
import { ConversationStore } from '../src/conversation-store';
import { addMessage, newConversation } from '../src/conversations';
import type { ModelEndpoint } from '../src/env';
import { Fleet, type FleetActors, loadQueryProbe } from '../src/fleet';
import { DEFAULT_SETTINGS, type GenerationSettings } from '../src/settings';
import { mountApp } from '../src/ui/app';
import { FakeModel, fakeFleet } from './fake-model';
import indexHtml from '../index.html?raw';

const markup = new DOMParser().parseFromString(indexHtml, 'text/html');

const endpoint: ModelEndpoint = {
  canisterId: 'uxrrr-q7777-77774-qaaaq-cai',
  canisterIdSource: 'ic_env cookie',
  network: 'local',
  shouldFetchRootKey: false,
  verifyQuerySignatures: false,
};

function oneCanister(model: FakeModel): FleetActors<FakeModel> {
  const actorOf = () => model;
  return { fleet: new Fleet([{ name: 'model', endpoint }], { probe: loadQueryProbe(actorOf) }), actorOf };
}

const $ = <T extends HTMLElement = HTMLElement>(testId: string) =>
  document.querySelector<T>(`[data-testid="${testId}"]`)!;
const $$ = (testId: string) => [...document.querySelectorAll<HTMLElement>(`[data-testid="${testId}"]`)];

let dbCount = 0;
const stores: ConversationStore[] = [];

async function openStore(dbName: string) {
  const store = await ConversationStore.open({ indexedDB, storage: localStorage, dbName });
  stores.push(store);
  return store;
}

/** The page on one canister, `model` (or on the fleet `canisters`). */
async function mount(model = new FakeModel(), dbName = `app${dbCount++}`, canisters = oneCanister(model)) {
  document.body.innerHTML = markup.body.innerHTML;
  let settings: GenerationSettings = { ...DEFAULT_SETTINGS, maxTokens: 4, randomSeed: false };
  const controller = new ChatController({ canisters, store: await openStore(dbName), getSettings: () => settings });
  mountApp({
    controller,
    canisters,
    getSettings: () => settings,
    saveSettings: (next) => (settings = next),
  });
  return { model, controller, getSettings: () => settings };
}

/** vi.waitFor with room for a loaded machine (its default gives up after one second). */
const until = <T>(check: () => T) => vi.waitFor(check, { timeout: 10_000 });

const turnCalls = (model: FakeModel) => model.requests.filter((r) => r.method.endsWith('_turn'));

function type(text: string, options: KeyboardEventInit = {}) {
  const input = $<HTMLTextAreaElement>('prompt-input');
  input.value = text;
  input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true, ...options }));
}

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

beforeEach(() => {
  localStorage.clear();
  vi.stubGlobal('matchMedia', () => ({ matches: false, addEventListener() {} }));
  HTMLFormElement.prototype.requestSubmit ??= function (this: HTMLFormElement) {
    this.dispatchEvent(new Event('submit', { cancelable: true }));
  };
});

describe('chat page', () => {
  it('shows the empty state with example prompts, then the answer with its stats', async () => {
    const { model } = await mount();
    expect($('empty-state').hidden).toBe(false);
    expect($$('example-prompt').length).toBeGreaterThan(0);

    type('Hello **there**');

    await until(() => expect($$('answer-stats')[0]?.textContent).toMatch(/seed 42/));
    expect($('empty-state').hidden).toBe(true);
    const [question, answer] = $$('message');
    expect(question.dataset.role).toBe('user');
    expect(question.textContent).toContain('Hello **there**'); // the user's text is shown as typed
    expect(answer.querySelector('[data-testid="message-content"]')!.textContent!.trim()).toBe('t1 t2 t3 t4');
    // The rate shows once 0.1 s has passed (labels.test.ts checks it); the fake model may answer faster.
    expect($$('answer-stats')[0].textContent).toMatch(
      /^4 calls · 4 tokens · (?:[\d.]+ tokens\/s · )?10 in context · 4 M instructions · \d+\.\d s · seed 42 · token limit$/,
    );
    expect($('chat-title').textContent).toBe('Hello **there**');
    expect($$('conversation-item').map((e) => e.textContent)).toEqual(['Hello **there**']);
    expect(model.method('start_turn')).toHaveLength(1);
  });

  it('sends an example prompt and returns focus to the composer', async () => {
    const { model } = await mount();
    const example = $$('example-prompt')[3];
    example.focus();
    example.click();
    expect(document.activeElement).toBe($('prompt-input'));
    await until(() => expect(model.method('start_turn')).toHaveLength(1));
    expect((model.method('start_turn')[0] as { prompt: string }).prompt).toBe('What is the capital of France?');
  });

  it('sends with Enter but not with Shift+Enter', async () => {
    const { model } = await mount();
    type('line one', { shiftKey: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(turnCalls(model)).toHaveLength(0);
    type('line one');
    await until(() => expect(model.method('start_turn')).toHaveLength(1));
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
    await mount(model);
    type('Hi');

    await until(() => expect($$('message')[1]?.dataset.outcome).toBe('stopped'));
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
    await mount(model);
    type('Hi');
    await until(() => expect($$('answer-stats')[0]?.textContent).toMatch(/seed/));
    expect(liveWhileGenerating).toBe('true');
    expect($$('message-content')[1].hasAttribute('aria-busy')).toBe(false);
  });

  it('warns when the model is not loaded, and shows the failed call in the answer', async () => {
    const model = new FakeModel();
    model.modelLoaded = false;
    await mount(model);
    await until(() => expect($('banner').hidden).toBe(false));
    expect($('banner').textContent).toMatch(/model is not loaded/i);
    expect($('model-pill').dataset.state).toBe('not-loaded');

    type('Hi');
    await until(() => expect($('message-error')).not.toBeNull());
    expect($('message-error').textContent).toMatch(/model is not loaded/i);
    expect($('regenerate').textContent).toBe('Retry');
  });

  it('lists the canister status in the status panel, and names the model in the pill', async () => {
    await mount();
    await until(() => expect($('model-pill').dataset.state).toBe('ready'));
    expect($('model-pill').textContent).toBe('Random demo model · 124 M · f32');
    expect($('status-parameters').textContent).toBe('124 M');
    expect($('status-sessions').textContent).toBe('0 of 16');
    expect($('status-endpoint').textContent).toBe(
      'Model canister uxrrr-q7777-77774-qaaaq-cai on the local replica (id from ic_env cookie).',
    );
  });

  it("on a fleet, shows a conversation's move as a note, and the status of the conversation's canister", async () => {
    const [first, second] = [new FakeModel(), new FakeModel()];
    second.activeTurns = 1;
    await mount(first, `app${dbCount++}`, fakeFleet([first, second]));
    await until(() => expect($('model-pill').dataset.state).toBe('ready'));
    expect($('status-endpoint').textContent).toContain('canister-0 (model, one of 2)');
    type('First');
    await until(() => expect($$('message')[1]?.dataset.outcome).toBe('done'));

    first.stopped = true;
    type('Second');
    await until(() => expect($$('message')[3]?.dataset.outcome).toBe('done'));
    expect($('moved-note').textContent).toMatch(/^Moved to model_1: model was stopped/);
    expect($$('replayed-note')).toEqual([]);
    await until(() => expect($('status-endpoint').textContent).toContain('canister-1 (model_1, one of 2)'));
    expect($('model-pill').dataset.state).toBe('ready');
    expect($('banner').hidden).toBe(true);
  });

  it('switches and deletes conversations from the sidebar', async () => {
    const { controller } = await mount();
    type('First');
    await until(() => expect($$('message')[1]?.dataset.outcome).toBe('done'));
    $('new-chat').click();
    expect($('empty-state').hidden).toBe(false);
    expect(document.activeElement).toBe($('prompt-input'));
    type('Second');
    await until(() => expect($$('conversation-item')).toHaveLength(2));
    await until(() => expect(controller.busy).toBe(false));

    $$('conversation-item')
      .find((e) => e.textContent === 'First')!
      .click();
    expect($('chat-title').textContent).toBe('First');

    vi.stubGlobal('confirm', () => true);
    $$('delete-conversation')[1].click();
    expect($$('conversation-item').map((e) => e.textContent)).toEqual(['Second']);
    expect($('chat-title').textContent).toBe('Second');
  });

  it('renames a conversation in place', async () => {
    const dbName = `app${dbCount++}`;
    await (await openStore(dbName)).save({ ...newConversation(1), id: 'c', title: 'Old' });
    await mount(new FakeModel(), dbName);
    $('rename-conversation').click();
    const input = $<HTMLInputElement>('rename-input');
    input.value = 'New title';
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    expect($('conversation-item').textContent).toBe('New title');
  });

  it('saves the settings when Enter submits the form: Save is its first submit button', async () => {
    await mount();
    const form = $<HTMLFormElement>('settings-form');
    // Enter in a field submits with the form's first submit button (HTML's implicit submission).
    expect(form.querySelector('button[type="submit"], button:not([type])')).toBe($('settings-save'));
  });

  it('refuses a prompt too long for the context before any call, keeping the text', async () => {
    const { model, controller } = await mount();
    const long = 'word '.repeat(4000);
    type(long);
    await until(() => expect($('composer-error').hidden).toBe(false));
    expect($('composer-error').textContent).toBe(
      "This message is too long for the model: 4,005 tokens; the model's context holds 1,024. Shorten it.",
    );
    expect($('token-count').textContent).toBe('4,005 / 1,024 tokens');
    expect(turnCalls(model)).toEqual([]);
    expect(controller.conversations).toEqual([]);
    expect($<HTMLTextAreaElement>('prompt-input').value).toBe(long);
  });

  it('counts the tokens of the message being typed against the context', async () => {
    const { model } = await mount();
    await until(() => expect($('model-pill').dataset.state).toBe('ready'));
    const input = $<HTMLTextAreaElement>('prompt-input');
    input.value = 'three small words';
    input.dispatchEvent(new Event('input'));
    await until(() => expect($('token-count').textContent).toBe('8 / 1,024 tokens'));
    expect(model.method('tokenize')).toEqual(['three small words']);
  });

  it('clears the unreachable banner by itself when the canister answers again', async () => {
    const model = new FakeModel();
    model.reachable = false;
    await mount(model);
    await until(() => expect($('model-pill').dataset.state).toBe('unreachable'));
    expect($('banner').hidden).toBe(false);
    model.reachable = true;
    await until(() => expect($('model-pill').dataset.state).toBe('ready'));
    expect($('banner').hidden).toBe(true);
  });

  it('keeps Stop and the busy mark with the conversation that is generating', async () => {
    const model = new FakeModel();
    model.holding = true;
    const { controller } = await mount(model);
    type('Busy one');
    await until(() => expect($('stop').hidden).toBe(false));
    expect($$('conversation-busy')).toHaveLength(1);

    $('new-chat').click();
    expect($('stop').hidden).toBe(true);
    expect($('send').hidden).toBe(false);
    type('Another');
    await until(() => expect(model.method('start_turn')).toHaveLength(2));
    expect($$('conversation-busy')).toHaveLength(2);
    $('stop').focus();
    $('stop').click();
    expect(document.activeElement).toBe($('prompt-input'));
    expect($('stop').textContent).toBe('Stopping…');

    model.holding = false;
    await model.release();
    await until(() => expect(controller.conversations.every((c) => !controller.isBusy(c.id))).toBe(true));
    expect($$('conversation-busy')).toHaveLength(0);
  });

  it('keeps answer versions: Regenerate adds one, ← → switch between them, focus stays usable', async () => {
    const model = new FakeModel();
    await mount(model);
    type('Hi');
    await until(() => expect($$('message')[1]?.dataset.outcome).toBe('done'));
    $('regenerate').click();
    expect(document.activeElement).toBe($('prompt-input'));
    await until(() => expect($('version-count')?.textContent).toBe('2/2'));
    await until(() => expect($$('message')[1]?.dataset.outcome).toBe('done'));
    $('previous-version').click();
    expect($('version-count').textContent).toBe('1/2');
    expect(document.activeElement).toBe($('next-version'));
    expect(model.method('start_turn')).toHaveLength(2);
  });

  it('edits and resends a message as a new version of it', async () => {
    const model = new FakeModel();
    await mount(model);
    type('First question');
    await until(() => expect($$('message')[1]?.dataset.outcome).toBe('done'));
    $('edit-message').click();
    const editor = $<HTMLTextAreaElement>('edit-input');
    expect(document.activeElement).toBe(editor);
    editor.value = 'Better question';
    editor.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    await until(() => expect($$('message')[1]?.dataset.outcome).toBe('done'));
    expect($$('message-content')[0].textContent).toBe('Better question');
    expect($$('version-count')[0].textContent).toBe('2/2');
    expect((model.method('start_turn') as Array<{ prompt: string }>).map((r) => r.prompt)).toEqual([
      'First question',
      'Better question',
    ]);
  });

  it('shows an interrupted answer with Continue and Retry, and Continue finishes it in its session', async () => {
    const dbName = `app${dbCount++}`;
    const store = await openStore(dbName);
    const c = { ...newConversation(1), id: 'c', title: 'Cut short' };
    addMessage(c, { id: 'u', parentId: null, role: 'user', text: 'Hi' });
    const stats = { calls: 2, tokens: 2, contextTokens: 7, instructions: '2000000', elapsedMs: 500, seed: '1' };
    addMessage(c, { id: 'a', parentId: 'u', role: 'assistant', text: 't1 t2 ', sessionId: '1', stats });
    await store.save(c);
    store.activeId = 'c';
    const model = new FakeModel();
    model.sessions.set(1n, { promptTokensLeft: 0, generated: 2, maxNewTokens: 4, context: 7 });
    await mount(model, dbName);

    expect($$('message')[1].dataset.state).toBe('interrupted');
    expect($('interrupted-note')).not.toBeNull();
    expect($('regenerate').textContent).toBe('Retry');
    $('continue').click();
    await until(() => expect($$('message')[1]?.dataset.outcome).toBe('done'));
    expect($$('message-content')[1].textContent!.trim()).toBe('t1 t2 t3 t4');
    expect(model.requests.find((r) => r.method.endsWith('_turn'))).toEqual({ method: 'continue_turn', arg: 1n });
  });

  it('exports the conversation and searches the sidebar', async () => {
    const saved: Blob[] = [];
    const read = (blob: Blob) =>
      new Promise<string>((resolve) => {
        const reader = new FileReader();
        reader.onload = () => resolve(reader.result as string);
        reader.readAsText(blob);
      });
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: (blob: Blob) => (saved.push(blob), 'blob:x') }));
    const clicks = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);
    const { controller } = await mount();
    expect($<HTMLButtonElement>('export-markdown').disabled).toBe(true);
    type('Paris question');
    await until(() => expect($$('message')[1]?.dataset.outcome).toBe('done'));
    $('export-markdown').click();
    expect(await read(saved[0])).toBe('# Paris question\n\n## You\n\nParis question\n\n## GPT-2\n\nt1 t2 t3 t4 \n');
    expect(clicks.mock.contexts[0]).toMatchObject({ download: 'paris-question.md' });
    $('export-json').click();
    expect(JSON.parse(await read(saved[1]))).toEqual(controller.active);

    const search = $<HTMLInputElement>('conversation-search');
    search.value = 'london';
    search.dispatchEvent(new Event('input'));
    expect($$('conversation-item')).toHaveLength(0);
    expect($('conversation-empty').textContent).toBe('No conversation matches.');
    search.value = 'PARIS';
    search.dispatchEvent(new Event('input'));
    expect($$('conversation-item')).toHaveLength(1);
  });
});
