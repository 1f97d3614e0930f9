import DOMPurify from 'dompurify';
import { Marked } from 'marked';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[c]};`);

// Raw HTML in an answer is text the model wrote, shown as written: never markup (a "<script>" answer would render
// empty, and inline handlers would trip the CSP).
const markdown = new Marked({
  gfm: true,
  breaks: true,
  renderer: {
    html: ({ text, block }) =>
      block ? `<p>${escapeHtml(text.trimEnd()).replaceAll('\n', '<br>')}</p>\n` : escapeHtml(text),
  },
});

// Model output is untrusted: links open in a new tab without access to this page.
DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A' && node.hasAttribute('href')) {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer nofollow');
  }
});

/** Markdown to HTML that is safe to assign to innerHTML. */
export function renderMarkdown(text: string): string {
  const html = markdown.parse(text, { async: false });
  return DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    // Remote images would be blocked by the CSP anyway; forms and styles have no place in an answer.
    FORBID_TAGS: ['img', 'style', 'form', 'input', 'button', 'textarea', 'select'],
    FORBID_ATTR: ['style'],
  });
}
