import { describe, expect, it } from 'vitest';
import { replayPrompt } from '../src/prompt';

describe('replayPrompt', () => {
  it('replays a first message as itself', () => {
    expect(replayPrompt([], 'Hello')).toBe('Hello');
  });

  it('carries earlier exchanges as a plain-text transcript', () => {
    expect(
      replayPrompt(
        [
          { user: 'Hi', assistant: 'Hello!' },
          { user: 'Name?', assistant: 'GPT-2.' },
        ],
        'Why?',
      ),
    ).toBe('User: Hi\nAssistant: Hello!\n\nUser: Name?\nAssistant: GPT-2.\n\nUser: Why?');
  });

  it('keeps only the most recent part of a long conversation, cut at a line start', () => {
    const history = Array.from({ length: 100 }, (_, i) => ({
      user: `question ${i}`,
      assistant: `answer ${i} ${'x'.repeat(40)}`,
    }));
    const prompt = replayPrompt(history, 'Last one');
    expect(prompt.length).toBeLessThanOrEqual(2400 + '\n\nUser: Last one'.length);
    expect(prompt).toMatch(/^(User|Assistant): /);
    expect(prompt).toContain('answer 99');
    expect(prompt).not.toContain('question 0\n');
    expect(prompt.endsWith('\n\nUser: Last one')).toBe(true);
  });
});
