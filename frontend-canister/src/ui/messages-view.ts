import type { ChatController } from '../chat-controller';
import type { ChatMessage } from '../conversations';
import { liveStatsItems, phaseLabel, statsItems } from '../labels';
import { renderMarkdown } from '../markdown';
import type { TurnSnapshot } from '../turn';
import { byTestId, h } from './dom';

const STICK_TO_BOTTOM_PX = 80;
const COPIED_FEEDBACK_MS = 1500;
const REPLAYED_NOTE = 'The canister had forgotten this conversation, so it was sent again as context.';

/** "a · b · c", each part kept on one line when the footer wraps. */
function fillStats(element: HTMLElement, items: string[]): void {
  element.replaceChildren(
    ...items.flatMap((item, i) => [i > 0 ? ' · ' : '', h('span', { class: 'stat', text: item })]),
  );
}

async function copyText(button: HTMLButtonElement, text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
  } catch {
    button.textContent = 'Copy failed';
  }
  setTimeout(() => (button.textContent = 'Copy'), COPIED_FEEDBACK_MS);
}

function smallButton(text: string, testId: string, label = text): HTMLButtonElement {
  return h('button', {
    class: 'button small ghost',
    text,
    attrs: { type: 'button', 'data-testid': testId, 'aria-label': label },
  });
}

/** Markdown for answers with text; three pulsing dots while an answer has none yet. */
function fillAnswer(content: HTMLElement, text: string, generating: boolean): void {
  content.classList.toggle('markdown', Boolean(text));
  if (text) content.innerHTML = renderMarkdown(text);
  else if (generating) content.replaceChildren(h('span', { class: 'typing' }, [h('i'), h('i'), h('i')]));
  else content.replaceChildren();
}

/** Renders the active conversation; the answer being generated is patched in place as calls return. */
export class MessagesView {
  readonly #scroller = byTestId('messages');
  readonly #list = byTestId('message-list');
  readonly #emptyState = byTestId('empty-state');

  constructor(private readonly controller: ChatController) {}

  render(): void {
    const { messages } = this.controller.active;
    const stick = this.#nearBottom();
    this.#emptyState.hidden = messages.length > 0;
    this.#list.replaceChildren(...messages.map((m, i) => this.#messageElement(m, i === messages.length - 1)));
    if (stick) this.#scrollToBottom();
  }

  renderProgress(): void {
    const generation = this.controller.generation;
    const element = generation && this.#list.querySelector<HTMLElement>(`[data-message-id="${generation.messageId}"]`);
    if (!generation || !element) return;
    const stick = this.#nearBottom();
    fillAnswer(byTestId('message-content', element), generation.snapshot.text, true);
    byTestId('phase', element).textContent = phaseLabel(generation.snapshot);
    fillStats(byTestId('answer-stats', element), liveStatsItems(generation.snapshot));
    if (stick) this.#scrollToBottom();
  }

  #messageElement(message: ChatMessage, isLast: boolean): HTMLElement {
    const generation = this.controller.generation;
    const snapshot = generation?.messageId === message.id ? generation.snapshot : undefined;
    const content = h('div', { class: 'message-content', attrs: { 'data-testid': 'message-content' } });
    if (message.role === 'user') content.textContent = message.text;
    else fillAnswer(content, message.text, snapshot !== undefined);
    if (snapshot) {
      // Screen readers announce the growing answer once the turn is complete.
      content.setAttribute('aria-live', 'polite');
      content.setAttribute('aria-busy', 'true');
    }

    const note = (text: string, attrs: Record<string, string> = {}) => h('p', { class: 'note', text, attrs });
    const body = [
      content,
      snapshot &&
        h('p', { class: 'phase', text: phaseLabel(snapshot), attrs: { role: 'status', 'data-testid': 'phase' } }),
      message.replayed && note(REPLAYED_NOTE, { 'data-testid': 'replayed-note' }),
      message.outcome === 'stopped' && note('Stopped.', { 'data-testid': 'stopped-note' }),
      message.error !== undefined &&
        h('p', { class: 'error', text: message.error, attrs: { role: 'alert', 'data-testid': 'message-error' } }),
      message.role === 'assistant' && this.#footer(message, isLast, snapshot),
    ];

    const attrs: Record<string, string> = {
      'data-testid': 'message',
      'data-role': message.role,
      'data-message-id': message.id,
      'aria-label': message.role === 'user' ? 'You' : 'GPT-2',
    };
    if (message.outcome) attrs['data-outcome'] = message.outcome;
    return h('article', { class: `message ${message.role}`, attrs }, [h('div', { class: 'bubble' }, body)]);
  }

  #footer(message: ChatMessage, isLast: boolean, snapshot: TurnSnapshot | undefined): HTMLElement {
    const stats = h('span', { class: 'stats', attrs: { 'data-testid': 'answer-stats' } });
    fillStats(stats, snapshot ? liveStatsItems(snapshot) : message.stats ? statsItems(message.stats) : []);
    const actions = h('span', { class: 'actions' });
    if (!snapshot && message.text) {
      const copy = smallButton('Copy', 'copy-answer', 'Copy answer');
      copy.addEventListener('click', () => copyText(copy, message.text));
      actions.append(copy);
    }
    if (isLast && this.controller.canRegenerate) {
      const regenerate = smallButton(message.outcome === 'error' ? 'Retry' : 'Regenerate', 'regenerate');
      regenerate.addEventListener('click', () => void this.controller.regenerate());
      actions.append(regenerate);
    }
    return h('footer', { class: 'message-footer' }, [stats, actions]);
  }

  #nearBottom(): boolean {
    const s = this.#scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < STICK_TO_BOTTOM_PX;
  }

  #scrollToBottom(): void {
    this.#scroller.scrollTop = this.#scroller.scrollHeight;
  }
}
