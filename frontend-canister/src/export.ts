import { type Conversation, visiblePath } from './conversations';

/** The conversation as shown (the selected versions), as Markdown. */
export function conversationMarkdown(conversation: Conversation): string {
  const parts = [`# ${conversation.title}`];
  for (const message of visiblePath(conversation)) {
    parts.push(`## ${message.role === 'user' ? 'You' : 'GPT-2'}`, message.text || '_(no text)_');
  }
  return `${parts.join('\n\n')}\n`;
}

/** Everything stored about the conversation, every version included. */
export function conversationJson(conversation: Conversation): string {
  return `${JSON.stringify(conversation, null, 2)}\n`;
}

/** A file name from the title: letters, digits and dashes. */
export function exportFileName(conversation: Conversation, extension: 'md' | 'json'): string {
  const stem = conversation.title
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return `${stem || 'conversation'}.${extension}`;
}

/** Conversations whose title or any message contains every word of `query` (case-insensitive). */
export function searchConversations(conversations: Conversation[], query: string): Conversation[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return conversations;
  return conversations.filter((c) => {
    const haystack = [c.title, ...c.messages.map((m) => m.text)].join('\n').toLowerCase();
    return words.every((word) => haystack.includes(word));
  });
}
