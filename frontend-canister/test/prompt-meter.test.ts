import { describe, expect, it } from 'vitest';
import { PromptMeter, promptFit, refusal } from '../src/prompt-meter';
import { FakeModel } from './fake-model';

describe('PromptMeter', () => {
  it("counts with the canister's tokenizer and remembers recent texts", async () => {
    const model = new FakeModel();
    const meter = new PromptMeter(model.tokenize);
    expect(await meter.count('one two three', 1024)).toBe(3);
    expect(await meter.count('one two three', 1024)).toBe(3);
    expect(model.method('tokenize')).toEqual(['one two three']);
  });

  it('does not send a text too long to fit whatever its tokens', async () => {
    const model = new FakeModel();
    const meter = new PromptMeter(model.tokenize);
    expect(await meter.count('x'.repeat(1024 * 128 + 1), 1024)).toBe(Infinity);
    expect(await meter.count('x'.repeat(1024 * 128), 1024)).toBe(1);
    expect(model.method('tokenize')).toHaveLength(1);
  });

  it('gives no count when the canister cannot count', async () => {
    const model = new FakeModel();
    model.reachable = false;
    expect(await new PromptMeter(model.tokenize).count('hi', 1024)).toBeUndefined();
    const refusing = new PromptMeter(async () => ({ Err: 'tokenizer not loaded' }));
    expect(await refusing.count('hi', 1024)).toBeUndefined();
  });
});

describe('promptFit and refusal', () => {
  it("applies the canister's rule: session so far, framing and prompt within the context", () => {
    const plan = { text: '', contextTokens: 900, framingTokens: 6 };
    expect(promptFit(plan, 118, 1024)).toEqual({ needed: 1024, contextLength: 1024, fits: true });
    const over = promptFit(plan, 119, 1024);
    expect(over).toEqual({ needed: 1025, contextLength: 1024, fits: false });
    expect(refusal(over, true)).toBe(
      "This message would bring the conversation to 1,025 tokens; the model's context holds 1,024. Shorten it, or start a new chat.",
    );
    const first = promptFit({ text: '', contextTokens: 0, framingTokens: 5 }, 4444, 1024);
    expect(refusal(first, false)).toBe(
      "This message is too long for the model: 4,449 tokens; the model's context holds 1,024. Shorten it.",
    );
    expect(refusal(promptFit(plan, Infinity, 1024), false)).toMatch(/more than 1,024 tokens/);
  });
});
