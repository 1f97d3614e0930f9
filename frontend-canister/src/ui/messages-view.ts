import type { ChatController, Generation } from '../chat-controller';
import type { ChatMessage } from '../conversations';
import { plural } from '../format';
import { phaseLabel, statsLine } from '../labels';
import { renderMarkdown } from '../markdown';
import { byTestId, h } from './dom';

const STICK_TO_BOTTOM_PX = 80;
const COPIED_FEEDBACK_MS = 1500;

function liveStats(generation: Generation): string {
  const { calls, generatedTokens } = generation.snapshot;
  return `${plural(calls, 'call')} · ${plural(generatedTokens, 'token')}`;
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
    this.#list.replaceChildren(...messages.map((message, i) => this.#messageElement(message, i === messages.length - 1)));
    if (stick) this.#scrollToBottom();
  }

  renderProgress(): void {
    const generation = this.controller.generation;
    const element = generation && this.#list.querySelector<HTMLElement>(`[data-message-id="${generation.messageId}"]`);
    if (!generation || !element) return;
    const stick = this.#nearBottom();
    this.#fillContent(byTestId('message-content', element), generation.snapshot.text, true);
    byTestId('phase', element).textContent = phaseLabel(generation.snapshot);
    byTestId('answer-stats', element).textContent = liveStats(generation);
    if (stick) this.#scrollToBottom();
  }

  #messageElement(message: ChatMessage, isLast: boolean): HTMLElement {
    const generation = this.controller.generation;
    const generating = generation?.messageId === message.id;
    const content = h('div', { class: 'message-content', attrs: { 'data-testid': 'message-content' } });
    if (message.role === 'user') content.textContent = message.text;
    else this.#fillContent(content, message.text, generating);
    if (generating) {
      // Screen readers announce the growing answer once the turn is complete.
      content.setAttribute('aria-live', 'polite');
      content.setAttribute('aria-busy', 'true');
    }

    const notes = [
      generating && generation && h('p', { class: 'phase', text: phaseLabel(generation.snapshot), attrs: { role: 'status', 'data-testid': 'phase' } }),
      message.replayed &&
        h('p', { class: 'note', text: 'The canister had forgotten this conversation, so it was sent again as context.' }),
      message.outcome === 'stopped' && h('p', { class: 'note', text: 'Stopped.', attrs: { 'data-testid': 'stopped-note' } }),
      message.error !== undefined && h('p', { class: 'error', text: message.error, attrs: { role: 'alert', 'data-testid': 'message-error' } }),
    ];

    return h(
      'article',
      {
        class: `message ${message.role}`,
        attrs: {
          'data-testid': 'message',
          'data-role': message.role,
          'data-message-id': message.id,
          ...(message.outcome && { 'data-outcome': message.outcome }),
          'aria-label': message.role === 'user' ? 'You' : 'GPT-2',
        },
      },
      [h('div', { class: 'bubble' }, [content, ...notes, message.role === 'assistant' && this.#footer(message, isLast, generating)])],
    );
  }

  #footer(message: ChatMessage, isLast: boolean, generating: boolean): HTMLElement {
    const generation = this.controller.generation;
    const stats = h('span', {
      class: 'stats',
      text: generating && generation ? liveStats(generation) : message.stats ? statsLine(message.stats) : '',
      attrs: { 'data-testid': 'answer-stats' },
    });
    const copy =
      !generating && message.text
        ? h('button', { class: 'button small ghost', text: 'Copy', attrs: { type: 'button', 'data-testid': 'copy-answer', 'aria-label': 'Copy answer' } })
        : null;
    copy?.addEventListener('click', () => copyText(copy, message.text));
    const regenerate =
      isLast && this.controller.canRegenerate
        ? h('button', { class: 'button small ghost', text: message.outcome === 'error' ? 'Retry' : 'Regenerate', attrs: { type: 'button', 'data-testid': 'regenerate' } })
        : null;
    regenerate?.addEventListener('click', () => void this.controller.regenerate());
    return h('footer', { class: 'message-footer' }, [stats, h('span', { class: 'actions' }, [copy, regenerate])]);
  }

  #fillContent(content: HTMLElement, text: string, generating: boolean): void {
    content.classList.toggle('markdown', Boolean(text));
    if (text) content.innerHTML = renderMarkdown(text);
    else content.replaceChildren(generating ? h('span', { class: 'typing', attrs: { 'aria-hidden': 'true' } }, [h('i'), h('i'), h('i')]) : '');
  }

  #nearBottom(): boolean {
    const s = this.#scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < STICK_TO_BOTTOM_PX;
  }

  #scrollToBottom(): void {
    this.#scroller.scrollTop = this.#scroller.scrollHeight;
  }
}
