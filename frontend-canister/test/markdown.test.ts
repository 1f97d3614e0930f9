import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../src/markdown';

function render(markdown: string): HTMLElement {
  const container = document.createElement('div');
  container.innerHTML = renderMarkdown(markdown);
  return container;
}

describe('renderMarkdown', () => {
  it('renders ordinary Markdown', () => {
    const html = render(
      '**Paris** is the capital.\n\n- one\n- two\n\n```\ncode\n```\n\n[docs](https://internetcomputer.org)',
    );
    expect(html.querySelector('strong')?.textContent).toBe('Paris');
    expect(html.querySelectorAll('li')).toHaveLength(2);
    expect(html.querySelector('pre code')?.textContent).toBe('code\n');
    const link = html.querySelector('a')!;
    expect(link.getAttribute('href')).toBe('https://internetcomputer.org');
    expect(link.getAttribute('target')).toBe('_blank');
    expect(link.getAttribute('rel')).toContain('noopener');
  });

  it('keeps single newlines as line breaks, as the model writes them', () => {
    expect(render('line one\nline two').querySelector('br')).not.toBeNull();
  });

  it('removes script tags and event handlers', () => {
    const html = render('Hi <script>alert(1)</script><b onclick="alert(2)">bold</b><svg onload="alert(3)"></svg>');
    expect(html.querySelector('script')).toBeNull();
    expect(html.innerHTML).not.toMatch(/alert|onclick|onload/);
    expect(html.querySelector('b')?.textContent).toBe('bold');
  });

  it('removes javascript: links, in Markdown and in raw HTML', () => {
    const html = render(
      '[click](javascript:alert(1)) <a href="JaVaScRiPt:alert(2)">raw</a> <a href="data:text/html,x">data</a>',
    );
    for (const link of html.querySelectorAll('a')) {
      expect(link.getAttribute('href') ?? '').not.toMatch(/^(javascript|data):/i);
    }
    expect(html.innerHTML).not.toMatch(/javascript:/i);
  });

  it('drops images, iframes, forms and inline styles', () => {
    const html = render(
      '![x](https://evil.example/x.png)\n\n<iframe src="https://evil.example"></iframe>\n\n<form><input></form>\n\n<p style="color:red">kept</p>',
    );
    expect(html.querySelector('img, iframe, form, input, [style]')).toBeNull();
    expect(html.textContent).toContain('kept');
  });
});
