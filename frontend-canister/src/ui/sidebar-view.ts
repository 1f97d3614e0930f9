import type { ChatController } from '../chat-controller';
import type { Conversation } from '../conversations';
import { searchConversations } from '../export';
import { byTestId, h } from './dom';

/** The saved-conversation list: search, switch, rename in place, delete; conversations generating are marked. */
export class SidebarView {
  readonly #list = byTestId('conversation-list');
  readonly #empty = byTestId('conversation-empty');
  readonly #search = byTestId<HTMLInputElement>('conversation-search');

  constructor(
    private readonly controller: ChatController,
    private readonly onSelect: () => void,
  ) {
    this.#search.addEventListener('input', () => this.render());
  }

  render(): void {
    const all = this.controller.conversations;
    const shown = searchConversations(all, this.#search.value);
    this.#empty.hidden = shown.length > 0;
    this.#empty.textContent = all.length > 0 ? 'No conversation matches.' : 'No saved conversations yet.';
    this.#list.replaceChildren(...shown.map((c) => this.#item(c)));
  }

  #item(conversation: Conversation): HTMLLIElement {
    const current = conversation.id === this.controller.active.id;
    const busy = this.controller.isBusy(conversation.id);
    const open = h(
      'button',
      {
        class: 'conversation-open',
        attrs: {
          type: 'button',
          'data-testid': 'conversation-item',
          title: conversation.title,
          ...(current && { 'aria-current': 'true' }),
        },
      },
      [
        h('span', { class: 'conversation-title', text: conversation.title }),
        busy &&
          h('span', {
            class: 'busy-mark',
            text: 'generating',
            attrs: { 'data-testid': 'conversation-busy' },
          }),
      ],
    );
    open.addEventListener('click', () => {
      this.controller.select(conversation.id);
      this.onSelect();
    });
    const rename = h('button', {
      class: 'button icon small',
      text: '✎',
      attrs: { type: 'button', 'data-testid': 'rename-conversation', 'aria-label': `Rename “${conversation.title}”` },
    });
    const item = h('li', { class: `conversation${current ? ' current' : ''}${busy ? ' busy' : ''}` }, [open, rename]);
    rename.addEventListener('click', () => this.#startRename(item, open, conversation));
    const remove = h('button', {
      class: 'button icon small',
      text: '✕',
      attrs: { type: 'button', 'data-testid': 'delete-conversation', 'aria-label': `Delete “${conversation.title}”` },
    });
    remove.addEventListener('click', () => {
      if (confirm(`Delete “${conversation.title}”?`)) this.controller.remove(conversation.id);
    });
    item.append(remove);
    return item;
  }

  #startRename(item: HTMLLIElement, open: HTMLButtonElement, conversation: Conversation): void {
    const input = h('input', {
      class: 'conversation-rename',
      attrs: {
        type: 'text',
        value: conversation.title,
        'aria-label': 'Conversation title',
        'data-testid': 'rename-input',
      },
    });
    let finished = false;
    const finish = (commit: boolean) => {
      if (finished) return;
      finished = true;
      if (commit) this.controller.rename(conversation.id, input.value);
      this.render();
    };
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') finish(true);
      if (event.key === 'Escape') {
        event.stopPropagation();
        finish(false);
      }
    });
    input.addEventListener('blur', () => finish(true));
    item.replaceChild(input, open);
    input.focus();
    input.select();
  }
}
