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

  it('shows raw HTML as the text the model wrote, never as markup', () => {
    const source = 'Hi <script>alert(1)</script><b onclick="alert(2)">bold</b><svg onload="alert(3)"></svg>';
    const html = render(source);
    expect(html.querySelector('script, b, svg, [onclick], [onload]')).toBeNull();
    expect(html.textContent!.trim()).toBe(source);
  });

  it('keeps the lines of a raw HTML block as text', () => {
    const html = render('<div>\n<script>x()</script>\n</div>');
    expect(html.querySelector('div, script')).toBeNull();
    expect(html.querySelectorAll('br')).toHaveLength(2);
    expect(html.textContent).toBe('<div><script>x()</script></div>\n');
  });

  it('renders tables', () => {
    const html = render('| a | b |\n|---|---|\n| 1 | 2 |');
    expect([...html.querySelectorAll('th, td')].map((cell) => cell.textContent)).toEqual(['a', 'b', '1', '2']);
  });

  it('removes javascript: links, and leaves raw HTML links as text', () => {
    const html = render('[click](javascript:alert(1)) <a href="JaVaScRiPt:alert(2)">raw</a> [data](data:text/html,x)');
    for (const link of html.querySelectorAll('a')) {
      expect(link.getAttribute('href') ?? '').not.toMatch(/^(javascript|data):/i);
    }
    expect(html.textContent).toContain('<a href="JaVaScRiPt:alert(2)">raw</a>');
  });

  it('drops images, iframes, forms and inline styles', () => {
    const html = render(
      '![x](https://evil.example/x.png)\n\n<iframe src="https://evil.example"></iframe>\n\n<form><input></form>\n\n<p style="color:red">kept</p>',
    );
    expect(html.querySelector('img, iframe, form, input, [style]')).toBeNull();
    expect(html.textContent).toContain('kept');
  });
});
