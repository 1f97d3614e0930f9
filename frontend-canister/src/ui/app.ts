import type { ChatController } from '../chat-controller';
import type { ModelEndpoint } from '../env';
import type { ModelMethods } from '../model-client';
import type { GenerationSettings } from '../settings';
import { byTestId } from './dom';
import { MessagesView } from './messages-view';
import { bindSettingsDialog } from './settings-dialog';
import { SidebarView } from './sidebar-view';
import { StatusPanel } from './status-panel';
import { bindThemeToggle } from './theme';

export interface AppOptions {
  controller: ChatController;
  /** Absent when the page could not find the model canister (`configError` says why). */
  endpoint?: ModelEndpoint;
  /** Reads the canister status; absent like `endpoint`. */
  statusActor?: ModelMethods<'status'>;
  configError?: string;
  getSettings: () => GenerationSettings;
  saveSettings: (settings: GenerationSettings) => void;
}

const MAX_INPUT_HEIGHT_PX = 200;

/** Wires the static markup in index.html to the controller. */
export function mountApp({
  controller,
  endpoint,
  statusActor,
  configError,
  getSettings,
  saveSettings,
}: AppOptions): void {
  const app = document.querySelector<HTMLElement>('.app')!;
  const form = byTestId<HTMLFormElement>('composer');
  const input = byTestId<HTMLTextAreaElement>('prompt-input');
  const sendButton = byTestId<HTMLButtonElement>('send');
  const stopButton = byTestId<HTMLButtonElement>('stop');
  const menuToggle = byTestId<HTMLButtonElement>('menu-toggle');
  const scrim = byTestId('scrim');
  const banner = byTestId('banner');
  const title = byTestId('chat-title');

  const setSidebarOpen = (open: boolean) => {
    app.classList.toggle('sidebar-open', open);
    scrim.hidden = !open;
    menuToggle.setAttribute('aria-expanded', String(open));
  };
  const messages = new MessagesView(controller);
  const sidebar = new SidebarView(controller, () => setSidebarOpen(false));
  const status = new StatusPanel(statusActor, endpoint, (problem) => {
    banner.textContent = configError ?? problem ?? '';
    banner.hidden = !banner.textContent;
  });

  const autosize = () => {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, MAX_INPUT_HEIGHT_PX)}px`;
  };

  let wasBusy = false;
  const render = () => {
    title.textContent = controller.active.title;
    document.title = `${controller.active.title} · GPT-2 on the Internet Computer`;
    sendButton.hidden = controller.busy;
    sendButton.disabled = Boolean(configError);
    stopButton.hidden = !controller.busy;
    stopButton.disabled = controller.stopping;
    stopButton.textContent = controller.stopping ? 'Stopping…' : 'Stop';
    sidebar.render();
    messages.render();
    // A finished turn changes the canister's counters, and a failure may mean the model went away.
    if (wasBusy && !controller.busy) void status.refresh();
    wasBusy = controller.busy;
  };
  controller.subscribe((event) => (event === 'progress' ? messages.renderProgress() : render()));

  const submit = (text: string) => {
    if (!text.trim() || controller.busy || configError) return;
    input.value = '';
    autosize();
    void controller.send(text);
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit(input.value);
  });
  input.addEventListener('input', autosize);
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
  stopButton.addEventListener('click', () => controller.stop());
  for (const example of document.querySelectorAll<HTMLButtonElement>('[data-testid="example-prompt"]')) {
    example.addEventListener('click', () => submit(example.textContent ?? ''));
  }

  byTestId('new-chat').addEventListener('click', () => {
    controller.newChat();
    setSidebarOpen(false);
    input.focus();
  });
  menuToggle.addEventListener('click', () => setSidebarOpen(!app.classList.contains('sidebar-open')));
  // On narrow screens the dialogs open from the sidebar, which should not stay over the chat.
  for (const testId of ['open-settings', 'open-status'])
    byTestId(testId).addEventListener('click', () => setSidebarOpen(false));
  scrim.addEventListener('click', () => setSidebarOpen(false));
  bindThemeToggle(byTestId<HTMLButtonElement>('theme-toggle'));
  bindSettingsDialog(byTestId('open-settings'), getSettings, saveSettings);

  render();
  void status.refresh();
  input.focus();
}
