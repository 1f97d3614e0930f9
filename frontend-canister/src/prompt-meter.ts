import type { PromptPlan } from './chat-controller';
import { formatInteger } from './format';
import type { ModelMethods } from './model-client';

/** The longest token of GPT-2's byte-level vocabulary is 128 bytes, so a token never covers more characters. */
const MAX_CHARS_PER_TOKEN = 128;
const CACHE_SIZE = 32;

export interface PromptFit {
  /** Tokens the context would hold once the prompt is read. */
  needed: number;
  contextLength: number;
  fits: boolean;
}

/** Whether the context holds the session so far, the framing and the prompt (the canister's own rule). */
export function promptFit(plan: PromptPlan, promptTokens: number, contextLength: number): PromptFit {
  const needed = plan.contextTokens + plan.framingTokens + promptTokens;
  return { needed, contextLength, fits: needed <= contextLength };
}

/** Why Send refuses, in words. */
export function refusal(fit: PromptFit, followUp: boolean): string {
  const needed = Number.isFinite(fit.needed)
    ? formatInteger(fit.needed)
    : `more than ${formatInteger(fit.contextLength)}`;
  const over = `${needed} tokens; the model's context holds ${formatInteger(fit.contextLength)}`;
  return followUp
    ? `This message would bring the conversation to ${over}. Shorten it, or start a new chat.`
    : `This message is too long for the model: ${over}. Shorten it.`;
}

/**
 * Counts a prompt's tokens with the canister's `tokenize` query (the tokenizer the canister uses), caching recent
 * texts. Text longer than any prompt that could fit is not sent: its count is only known to be too large.
 */
export class PromptMeter {
  readonly #cache = new Map<string, number>();

  constructor(private readonly tokenize: ModelMethods<'tokenize'>['tokenize']) {}

  /**
   * Tokens of `text`, `Infinity` when it cannot fit `contextLength` whatever its tokens, or undefined when the
   * canister could not count (no tokenizer yet, unreachable).
   */
  async count(text: string, contextLength: number): Promise<number | undefined> {
    if (text.length > contextLength * MAX_CHARS_PER_TOKEN) return Infinity;
    const cached = this.#cache.get(text);
    if (cached !== undefined) return cached;
    try {
      const result = await this.tokenize(text);
      if (!('Ok' in result)) return undefined;
      const tokens = result.Ok.token_ids.length;
      if (this.#cache.size >= CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(text, tokens);
      return tokens;
    } catch {
      return undefined;
    }
  }
}
