import type { AnswerState, ChatController } from '../chat-controller';
import { type ChatMessage, versionsOf } from '../conversations';
import { plural } from '../format';
import { liveStatsItems, movedNote, phaseLabel, statsItems } from '../labels';
import { renderMarkdown } from '../markdown';
import { byTestId, h } from './dom';

const STICK_TO_BOTTOM_PX = 80;
const COPIED_FEEDBACK_MS = 1500;
const REPLAYED_NOTE = 'The canister had forgotten this conversation, so it was sent again as context.';
const STOPPED_NOTE = 'Stopped. Words from calls already on their way when you pressed Stop are included.';
const INTERRUPTED_NOTE =
  'Interrupted before it finished (the page was closed or reloaded). Continue goes on in the same canister session; Retry answers again.';
const ELSEWHERE_PHASE = 'Generating in another tab…';

/** "a · b · c", each part kept on one line when the footer wraps. */
function fillStats(element: HTMLElement, items: string[]): void {
  element.replaceChildren(
    ...items.flatMap((item, i) => [i > 0 ? ' · ' : '', h('span', { class: 'stat', text: item })]),
  );
}

async function copyText(button: HTMLButtonElement, text: string, label: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
  } catch {
    button.textContent = 'Copy failed';
  }
  setTimeout(() => (button.textContent = label), COPIED_FEEDBACK_MS);
}

function smallButton(text: string, testId: string, label = text): HTMLButtonElement {
  return h('button', {
    class: 'button small ghost',
    text,
    attrs: { type: 'button', 'data-testid': testId, 'aria-label': label },
  });
}

/** Tables scroll sideways inside the bubble; code blocks get a copy button. */
function enhanceMarkdown(content: HTMLElement): void {
  for (const table of content.querySelectorAll('table')) {
    const scroller = h('div', {
      class: 'table-scroll',
      attrs: { tabindex: '0', role: 'region', 'aria-label': 'Table' },
    });
    table.replaceWith(scroller);
    scroller.append(table);
  }
  for (const pre of content.querySelectorAll('pre')) {
    const copy = smallButton('Copy', 'copy-code', 'Copy code');
    copy.classList.add('copy-code');
    copy.addEventListener('click', () => copyText(copy, pre.querySelector('code')?.textContent ?? '', 'Copy'));
    const block = h('div', { class: 'code-block' });
    pre.replaceWith(block);
    block.append(copy, pre);
  }
}

/** Markdown for answers with text; three pulsing dots while an answer has none yet. */
function fillAnswer(content: HTMLElement, text: string, generating: boolean): void {
  content.classList.toggle('markdown', Boolean(text));
  if (text) {
    content.innerHTML = renderMarkdown(text);
    enhanceMarkdown(content);
  } else if (generating) content.replaceChildren(h('span', { class: 'typing' }, [h('i'), h('i'), h('i')]));
  else content.replaceChildren();
}

/** Renders the active conversation's messages; an answer being generated is patched in place as calls return. */
export class MessagesView {
  readonly #scroller = byTestId('messages');
  readonly #list = byTestId('message-list');
  readonly #emptyState = byTestId('empty-state');
  /** The user message being edited, if any. */
  #editingId: string | undefined;

  constructor(
    private readonly controller: ChatController,
    /** Where focus goes after an action that removes the button pressed. */
    private readonly focusComposer: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  render(): void {
    const path = this.controller.path;
    const stick = this.#nearBottom();
    this.#emptyState.hidden = path.length > 0;
    this.#list.replaceChildren(...path.map((m) => this.#messageElement(m)));
    if (stick) this.#scrollToBottom();
  }

  /** Updates the answer being generated in the active conversation (text, phase, live stats). */
  renderProgress(): void {
    const generation = this.controller.generationOf(this.controller.active.id);
    const element = generation && this.#list.querySelector<HTMLElement>(`[data-message-id="${generation.messageId}"]`);
    if (!generation || !element) return;
    const stick = this.#nearBottom();
    const content = byTestId('message-content', element);
    if (content.dataset.text !== generation.snapshot.text) {
      content.dataset.text = generation.snapshot.text;
      fillAnswer(content, generation.snapshot.text, true);
    }
    byTestId('phase', element).textContent = phaseLabel(generation.snapshot, this.controller.stopping);
    fillStats(byTestId('answer-stats', element), liveStatsItems(generation, this.now()));
    if (stick) this.#scrollToBottom();
  }

  #messageElement(message: ChatMessage): HTMLElement {
    const conversation = this.controller.active;
    const state = message.role === 'assistant' ? this.controller.answerState(conversation, message) : undefined;
    const generation = state === 'generating' ? this.controller.generationOf(conversation.id) : undefined;
    const content = h('div', { class: 'message-content', attrs: { 'data-testid': 'message-content' } });
    if (message.role === 'user') content.textContent = message.text;
    else {
      content.dataset.text = message.text;
      fillAnswer(content, message.text, state === 'generating' || state === 'elsewhere');
    }
    if (state === 'generating' || state === 'elsewhere') {
      // Screen readers announce the growing answer once the turn is complete.
      content.setAttribute('aria-live', 'polite');
      content.setAttribute('aria-busy', 'true');
    }

    const note = (text: string, testId: string) => h('p', { class: 'note', text, attrs: { 'data-testid': testId } });
    const phase =
      generation !== undefined
        ? phaseLabel(generation.snapshot, this.controller.stopping)
        : state === 'elsewhere'
          ? ELSEWHERE_PHASE
          : undefined;
    const editing = message.id === this.#editingId;
    const body = [
      editing ? this.#editor(message) : content,
      phase !== undefined && h('p', { class: 'phase', text: phase, attrs: { role: 'status', 'data-testid': 'phase' } }),
      message.moved
        ? note(movedNote(message.moved), 'moved-note')
        : message.replayed && note(REPLAYED_NOTE, 'replayed-note'),
      message.missingTokens
        ? note(
            `${plural(message.missingTokens, 'token')} generated while the page was away could not be shown.`,
            'missing-note',
          )
        : undefined,
      state === 'stopped' && note(STOPPED_NOTE, 'stopped-note'),
      state === 'interrupted' && note(INTERRUPTED_NOTE, 'interrupted-note'),
      message.error !== undefined &&
        h('p', { class: 'error', text: message.error, attrs: { role: 'alert', 'data-testid': 'message-error' } }),
      !editing && this.#footer(message, state),
    ];

    const attrs: Record<string, string> = {
      'data-testid': 'message',
      'data-role': message.role,
      'data-message-id': message.id,
      'aria-label': message.role === 'user' ? 'You' : 'GPT-2',
    };
    if (message.outcome) attrs['data-outcome'] = message.outcome;
    if (state) attrs['data-state'] = state;
    return h('article', { class: `message ${message.role}`, attrs }, [h('div', { class: 'bubble' }, body)]);
  }

  #footer(message: ChatMessage, state: AnswerState | undefined): HTMLElement {
    const stats = h('span', { class: 'stats', attrs: { 'data-testid': 'answer-stats' } });
    const generation = state === 'generating' ? this.controller.generationOf(this.controller.active.id) : undefined;
    if (message.role === 'assistant') {
      fillStats(
        stats,
        generation ? liveStatsItems(generation, this.now()) : message.stats ? statsItems(message.stats) : [],
      );
    }
    const actions = h('span', { class: 'actions' });
    const versions = this.#versionSwitcher(message);
    if (versions) actions.append(versions);
    const add = (text: string, testId: string, label: string, action: () => void) => {
      const button = smallButton(text, testId, label);
      button.addEventListener('click', action);
      actions.append(button);
      return button;
    };
    if (message.role === 'user') {
      if (!this.controller.busy) {
        add('Edit', 'edit-message', 'Edit and resend', () => {
          this.#editingId = message.id;
          this.render();
          this.#list.querySelector<HTMLTextAreaElement>('[data-testid="edit-input"]')?.focus();
        });
      }
      return h('footer', { class: 'message-footer' }, [actions]);
    }
    if (state !== 'generating' && state !== 'elsewhere' && message.text) {
      const copy = add('Copy', 'copy-answer', 'Copy answer', () => copyText(copy, message.text, 'Copy'));
    }
    if (this.controller.canContinue(message)) {
      add('Continue', 'continue', 'Continue this answer', () => {
        this.focusComposer();
        void this.controller.continueAnswer(message.id);
      });
    }
    if (this.controller.canRegenerate(message)) {
      const retry = state === 'error' || state === 'interrupted';
      add(retry ? 'Retry' : 'Regenerate', 'regenerate', retry ? 'Retry' : 'Regenerate', () => {
        this.focusComposer();
        void this.controller.regenerate(message.id);
      });
    }
    return h('footer', { class: 'message-footer' }, [stats, actions]);
  }

  /** ← n/m → between the versions of a message. */
  #versionSwitcher(message: ChatMessage): HTMLElement | undefined {
    const versions = versionsOf(this.controller.active, message);
    if (versions.length < 2) return undefined;
    const index = versions.indexOf(message);
    const what = message.role === 'user' ? 'message' : 'answer';
    const step = (text: string, offset: number, label: string) => {
      const button = smallButton(text, offset < 0 ? 'previous-version' : 'next-version', label);
      button.disabled = this.controller.busy || !versions[index + offset];
      button.addEventListener('click', () => {
        this.controller.showVersion(message.id, offset);
        this.#focusVersionControl(message.parentId, offset);
      });
      return button;
    };
    return h('span', { class: 'versions', attrs: { role: 'group', 'aria-label': `Versions of this ${what}` } }, [
      step('←', -1, `Previous ${what} version`),
      h('span', {
        class: 'version-count',
        text: `${index + 1}/${versions.length}`,
        attrs: { 'data-testid': 'version-count' },
      }),
      step('→', 1, `Next ${what} version`),
    ]);
  }

  /** After switching versions the list is re-rendered; focus goes to the same control of the version now shown. */
  #focusVersionControl(parentId: string | null, offset: number): void {
    const shown = this.controller.path.find((m) => m.parentId === parentId);
    const element = shown && this.#list.querySelector(`[data-message-id="${shown.id}"]`);
    const button = element?.querySelector<HTMLButtonElement>(
      `[data-testid="${offset < 0 ? 'previous-version' : 'next-version'}"]`,
    );
    if (button && !button.disabled) button.focus();
    else element?.querySelector<HTMLButtonElement>('.versions button:not(:disabled)')?.focus();
  }

  #editor(message: ChatMessage): HTMLElement {
    const input = h('textarea', {
      class: 'edit-input',
      attrs: { 'data-testid': 'edit-input', 'aria-label': 'Edit your message', rows: '3' },
    });
    input.value = message.text;
    const finish = (send: boolean) => {
      this.#editingId = undefined;
      const text = input.value;
      this.render();
      this.focusComposer();
      if (send) void this.controller.edit(message.id, text);
    };
    const save = smallButton('Send', 'edit-send', 'Send edited message');
    save.classList.replace('ghost', 'primary');
    save.addEventListener('click', () => finish(true));
    const cancel = smallButton('Cancel', 'edit-cancel', 'Cancel editing');
    cancel.addEventListener('click', () => finish(false));
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        finish(true);
      } else if (event.key === 'Escape') {
        event.stopPropagation();
        finish(false);
      }
    });
    return h('div', { class: 'editor' }, [input, h('div', { class: 'editor-actions' }, [cancel, save])]);
  }

  #nearBottom(): boolean {
    const s = this.#scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < STICK_TO_BOTTOM_PX;
  }

  #scrollToBottom(): void {
    this.#scroller.scrollTop = this.#scroller.scrollHeight;
  }
}
