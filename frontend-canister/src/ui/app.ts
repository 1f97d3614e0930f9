import type { Status } from '../bindings/model.did';
import type { ChatController } from '../chat-controller';
import { conversationJson, conversationMarkdown, exportFileName } from '../export';
import type { FleetActors } from '../fleet';
import { formatInteger } from '../format';
import type { ModelMethods } from '../model-client';
import { PromptMeter, promptFit, refusal } from '../prompt-meter';
import type { GenerationSettings } from '../settings';
import { byTestId } from './dom';
import { MessagesView } from './messages-view';
import { bindSettingsDialog } from './settings-dialog';
import { SidebarView } from './sidebar-view';
import { StatusPanel, type StatusTarget } from './status-panel';
import { bindThemeToggle } from './theme';

export interface AppOptions {
  controller: ChatController;
  /** Read the status and count tokens; absent when the page could not find a model canister (`configError` says why). */
  canisters?: FleetActors<ModelMethods<'status' | 'tokenize'>>;
  configError?: string;
  /** Shown when conversations cannot be saved (no IndexedDB). */
  storageWarning?: string;
  getSettings: () => GenerationSettings;
  saveSettings: (settings: GenerationSettings) => void;
  now?: () => number;
}

const MAX_INPUT_HEIGHT_PX = 200;
const COUNT_DEBOUNCE_MS = 300;
const LIVE_STATS_MS = 250;
/** GPT-2's context until the canister's status says otherwise. */
const DEFAULT_CONTEXT_LENGTH = 1024;

function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = Object.assign(document.createElement('a'), { href: url, download: name });
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Wires the static markup in index.html to the controller. */
export function mountApp({
  controller,
  canisters,
  configError,
  storageWarning,
  getSettings,
  saveSettings,
  now = Date.now,
}: AppOptions): StatusPanel {
  const app = document.querySelector<HTMLElement>('.app')!;
  const form = byTestId<HTMLFormElement>('composer');
  const input = byTestId<HTMLTextAreaElement>('prompt-input');
  const sendButton = byTestId<HTMLButtonElement>('send');
  const stopButton = byTestId<HTMLButtonElement>('stop');
  const menuToggle = byTestId<HTMLButtonElement>('menu-toggle');
  const scrim = byTestId('scrim');
  const banner = byTestId('banner');
  const title = byTestId('chat-title');
  const tokenCount = byTestId('token-count');
  const composerError = byTestId('composer-error');

  const focusComposer = () => input.focus();
  const setSidebarOpen = (open: boolean) => {
    app.classList.toggle('sidebar-open', open);
    scrim.hidden = !open;
    menuToggle.setAttribute('aria-expanded', String(open));
  };
  const messages = new MessagesView(controller, focusComposer, now);
  const sidebar = new SidebarView(controller, () => setSidebarOpen(false));
  let contextLength = DEFAULT_CONTEXT_LENGTH;
  /** The canister the status and the token counter ask: the conversation's, or for a new chat the fleet's first. */
  const queried =
    canisters &&
    ((): StatusTarget & { actor: ModelMethods<'tokenize'> } => {
      const member = controller.canisterOf(controller.active) ?? canisters.fleet.firstAvailable;
      return { member, actor: canisters.actorOf(member) };
    });
  const status = new StatusPanel({
    target: queried,
    fleetSize: canisters?.fleet.members.length ?? 0,
    onUnreachable: (member) => canisters?.fleet.markUnavailable(member),
    onProblem: (problem) => {
      banner.textContent = configError ?? problem ?? storageWarning ?? '';
      banner.hidden = !banner.textContent;
    },
    onStatus: (reply: Status) => {
      contextLength = reply.model[0]?.n_positions ?? DEFAULT_CONTEXT_LENGTH;
    },
  });
  const meter = queried && new PromptMeter((text) => queried().actor.tokenize(text));

  const showRefusal = (message: string | undefined) => {
    composerError.textContent = message ?? '';
    composerError.hidden = !message;
  };

  /** Counts the typed message (debounced) and shows it against the context; resolves whether it fits. */
  let countTimer: ReturnType<typeof setTimeout> | undefined;
  let countedText = '';
  const updateCount = async (): Promise<boolean> => {
    const text = input.value.trim();
    countedText = text;
    if (!text || !meter) {
      tokenCount.textContent = '';
      showRefusal(undefined);
      return true;
    }
    const plan = controller.planPrompt(text);
    const tokens = await meter.count(plan.text, contextLength);
    if (countedText !== text) return true; // the text changed meanwhile; a newer count is on its way
    if (tokens === undefined) {
      tokenCount.textContent = '';
      return true; // the canister could not count; it will say so itself if the prompt is too long
    }
    const fit = promptFit(plan, tokens, contextLength);
    tokenCount.textContent = Number.isFinite(fit.needed)
      ? `${formatInteger(fit.needed)} / ${formatInteger(contextLength)} tokens`
      : `over ${formatInteger(contextLength)} tokens`;
    tokenCount.dataset.fits = String(fit.fits);
    showRefusal(fit.fits ? undefined : refusal(fit, plan.contextTokens > 0));
    return fit.fits;
  };
  const scheduleCount = () => {
    clearTimeout(countTimer);
    countTimer = setTimeout(() => void updateCount(), COUNT_DEBOUNCE_MS);
  };

  const autosize = () => {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, MAX_INPUT_HEIGHT_PX)}px`;
  };

  const busyConversations = () => controller.conversations.filter((c) => controller.isBusy(c.id)).length;
  let wasBusy = 0;
  const render = () => {
    const conversation = controller.active;
    title.textContent = conversation.title;
    document.title = `${conversation.title} · GPT-2 on the Internet Computer`;
    sendButton.hidden = controller.busy;
    sendButton.disabled = Boolean(configError);
    stopButton.hidden = !controller.busy;
    stopButton.disabled = controller.stopping;
    stopButton.textContent = controller.stopping ? 'Stopping…' : 'Stop';
    for (const testId of ['export-markdown', 'export-json']) {
      byTestId<HTMLButtonElement>(testId).disabled = conversation.messages.length === 0;
    }
    input.placeholder = controller.isBusyElsewhere(conversation.id)
      ? 'Another tab is answering in this conversation…'
      : 'Message GPT-2…';
    sidebar.render();
    messages.render();
    status.follow();
    // A finished turn changes the canister's counters, and a failure may mean the model went away.
    const busy = busyConversations();
    if (busy < wasBusy) void status.refresh();
    wasBusy = busy;
  };
  controller.subscribe((event) => {
    if (event === 'progress') messages.renderProgress();
    else render();
  });
  // The running timer and tokens per second of the answer on screen.
  setInterval(() => {
    if (controller.generationOf(controller.active.id)?.firstReplyAt !== undefined) messages.renderProgress();
  }, LIVE_STATS_MS);

  const submit = async (text: string) => {
    if (!text.trim() || controller.busy || configError) return;
    clearTimeout(countTimer);
    input.value = text;
    // A prompt too long for the context is refused here, before any call.
    if (!(await updateCount())) return;
    input.value = '';
    autosize();
    tokenCount.textContent = '';
    void controller.send(text);
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit(input.value);
  });
  input.addEventListener('input', () => {
    autosize();
    showRefusal(undefined);
    scheduleCount();
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  document.addEventListener('keydown', (event) => {
    // An open dialog uses Escape to close itself.
    if (event.key !== 'Escape' || document.querySelector('dialog[open]')) return;
    if (app.classList.contains('sidebar-open')) setSidebarOpen(false);
    else controller.stop();
  });
  stopButton.addEventListener('click', () => {
    controller.stop();
    focusComposer();
  });
  for (const example of document.querySelectorAll<HTMLButtonElement>('[data-testid="example-prompt"]')) {
    example.addEventListener('click', () => {
      focusComposer();
      void submit(example.textContent?.trim() ?? '');
    });
  }

  byTestId('new-chat').addEventListener('click', () => {
    controller.newChat();
    setSidebarOpen(false);
    focusComposer();
  });
  byTestId('export-markdown').addEventListener('click', () => {
    const conversation = controller.active;
    download(exportFileName(conversation, 'md'), 'text/markdown', conversationMarkdown(conversation));
  });
  byTestId('export-json').addEventListener('click', () => {
    const conversation = controller.active;
    download(exportFileName(conversation, 'json'), 'application/json', conversationJson(conversation));
  });
  menuToggle.addEventListener('click', () => setSidebarOpen(!app.classList.contains('sidebar-open')));
  // On narrow screens the dialogs open from the sidebar, which should not stay over the chat.
  for (const testId of ['open-settings', 'open-status'])
    byTestId(testId).addEventListener('click', () => setSidebarOpen(false));
  scrim.addEventListener('click', () => setSidebarOpen(false));
  bindThemeToggle(byTestId<HTMLButtonElement>('theme-toggle'));
  bindSettingsDialog(byTestId('open-settings'), getSettings, saveSettings);

  render();
  void status.start();
  focusComposer();
  return status;
}
