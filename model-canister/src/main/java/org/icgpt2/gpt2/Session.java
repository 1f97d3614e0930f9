package org.icgpt2.gpt2;

import java.util.Arrays;

/**
 * One generation: a prompt, its KV cache, the token history and the sampler's random state. All work is done in small
 * resumable steps, so a canister can run "as many steps as fit in the instruction budget", return, and continue in a
 * later call with exactly the tokens an uninterrupted run would give:
 * <pre>
 *   while (session.promptTokensLeft() > 0 &amp;&amp; budgetLeft()) session.ingest(state, 16);
 *   while (!session.finished() &amp;&amp; budgetLeft()) emit(session.step(state));
 * </pre>
 * The last prompt token is fed by the first {@link #step}, which needs its logits; the others skip the LM head.
 */
public final class Session {

    public enum FinishReason { NOT_FINISHED, STOP_TOKEN, MAX_NEW_TOKENS, CONTEXT_FULL }

    /**
     * Steps that skip the LM head's int8 screen after it had to recompute the whole head (sampling on nearly flat
     * logits): its int8 pass would likely be wasted again. Then it is tried again.
     */
    static final int UNSCREENED_STEPS = 8;

    private final Gpt2 model;
    private final KvCache cache;
    private final Sampler sampler;
    private final int[] stopTokens;
    /** Prompt then generated tokens; one more than the cache holds, for the last generated token. */
    private final int[] tokens;
    private final int promptLength;
    private final int maxNewTokens;
    private int tokenCount;
    /** Tokens whose keys and values are in the cache (they fill positions 0..cached-1). */
    private int cached;
    /**
     * Steps left that compute every logit in f32 ({@link #UNSCREENED_STEPS}). Session state, so the tokens do not
     * depend on how the work is split across calls.
     */
    private int unscreenedSteps;
    private FinishReason finishReason = FinishReason.NOT_FINISHED;

    public Session(Gpt2 model, KvCache cache, Sampler sampler, int[] stopTokens, int[] prompt, int maxNewTokens) {
        this(model, cache, sampler, stopTokens, prompt, 0, maxNewTokens);
    }

    /**
     * A session continuing a conversation: {@code context} is every token so far plus the new prompt, and the cache
     * already holds the keys and values of its first {@code cachedPrefix} tokens (a follow-up turn re-reads nothing).
     */
    public Session(Gpt2 model, KvCache cache, Sampler sampler, int[] stopTokens, int[] context, int cachedPrefix,
                   int maxNewTokens) {
        int vocab = model.config().vocabSize();
        if (context.length == 0) {
            throw new IllegalArgumentException("the context is empty");
        }
        if (context.length > cache.capacity()) {
            throw new IllegalArgumentException("the context has " + context.length + " tokens, more than the context of " + cache.capacity());
        }
        for (int i = 0; i < context.length; i++) {
            if (context[i] < 0 || context[i] >= vocab) {
                throw new IllegalArgumentException("context token " + i + " is " + context[i] + ", outside [0, " + vocab + ")");
            }
        }
        if (maxNewTokens <= 0) {
            throw new IllegalArgumentException("max_new_tokens must be positive, got " + maxNewTokens);
        }
        this.model = model;
        this.cache = cache;
        this.sampler = sampler;
        this.stopTokens = stopTokens.clone();
        this.tokens = new int[cache.capacity() + 1];
        System.arraycopy(context, 0, tokens, 0, context.length);
        if (cachedPrefix < 0 || cachedPrefix >= context.length) {
            throw new IllegalArgumentException("cached prefix " + cachedPrefix + " outside [0, " + context.length + ")");
        }
        this.tokenCount = context.length;
        this.promptLength = context.length;
        this.cached = cachedPrefix;
        this.maxNewTokens = maxNewTokens;
    }

    /** Prompt tokens still to be fed by {@link #ingest} (the last prompt token is fed by the first step). */
    public int promptTokensLeft() {
        return promptLength - 1 - cached > 0 ? promptLength - 1 - cached : 0;
    }

    /**
     * Feeds up to {@code maxTokens} prompt tokens into the cache, in batches of at most {@code state.maxBatch()}.
     * @return how many were fed
     */
    public int ingest(RunState state, int maxTokens) {
        if (maxTokens <= 0) {
            throw new IllegalArgumentException("maxTokens must be positive, got " + maxTokens);
        }
        int todo = promptTokensLeft() < maxTokens ? promptTokensLeft() : maxTokens;
        int done = 0;
        while (done < todo) {
            int batch = todo - done < state.maxBatch() ? todo - done : state.maxBatch();
            model.forward(state, cache, tokens, cached, batch, cached, false);
            cached += batch;
            done += batch;
        }
        return done;
    }

    /**
     * Generates one token: feeds the last token, samples from its logits (left in {@code state.logits()}).
     * @return the token; the session may then be {@link #finished()}
     */
    public int step(RunState state) {
        if (finished()) {
            throw new IllegalStateException("the session has finished: " + finishReason);
        }
        if (promptTokensLeft() > 0) {
            throw new IllegalStateException(promptTokensLeft() + " prompt tokens are not ingested yet");
        }
        float margin = unscreenedSteps > 0 ? Float.POSITIVE_INFINITY : sampler.exactLogitMargin();
        float[] logits = model.forward(state, cache, tokens, cached, 1, cached, margin);
        if (unscreenedSteps > 0) {
            unscreenedSteps--;
        } else if (margin < Float.POSITIVE_INFINITY && state.exactLogits() == model.config().vocabSize()) {
            unscreenedSteps = UNSCREENED_STEPS;
        }
        cached++;
        int next = sampler.sample(logits);
        tokens[tokenCount++] = next;
        if (isStopToken(next)) {
            finishReason = FinishReason.STOP_TOKEN;
        } else if (tokenCount - promptLength == maxNewTokens) {
            finishReason = FinishReason.MAX_NEW_TOKENS;
        } else if (cached == cache.capacity()) {
            finishReason = FinishReason.CONTEXT_FULL; // the new token has no position left to be fed at
        }
        return next;
    }

    private boolean isStopToken(int id) {
        for (int s : stopTokens) {
            if (s == id) {
                return true;
            }
        }
        return false;
    }

    public boolean finished() {
        return finishReason != FinishReason.NOT_FINISHED;
    }

    public FinishReason finishReason() {
        return finishReason;
    }

    /** Generated tokens so far, including a final stop token. */
    public int[] generated() {
        return Arrays.copyOfRange(tokens, promptLength, tokenCount);
    }

    /** Every token so far: the context, then the generated tokens (the last of which is not in the cache yet). */
    public int[] context() {
        return Arrays.copyOf(tokens, tokenCount);
    }

    /** Positions filled in the KV cache. */
    public int position() {
        return cached;
    }
}
