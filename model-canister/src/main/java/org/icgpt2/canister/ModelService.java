package org.icgpt2.canister;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.LongSupplier;
import org.icgpt2.gpt2.ChatFormat;
import org.icgpt2.gpt2.Config;
import org.icgpt2.gpt2.Gpt2;
import org.icgpt2.gpt2.Kernels;
import org.icgpt2.gpt2.KvCache;
import org.icgpt2.gpt2.ModelFormatException;
import org.icgpt2.gpt2.RunState;
import org.icgpt2.gpt2.Safetensors;
import org.icgpt2.gpt2.Sampler;
import org.icgpt2.gpt2.SamplerSettings;
import org.icgpt2.gpt2.Session;
import org.icgpt2.gpt2.Tokenizer;
import org.icgpt2.gpt2.TooManyTokensException;
import org.icgpt2.gpt2.Weights;
import org.icgpt2.ic.UserError;

/**
 * What the canister does, independent of Candid: set the model up from the uploaded files, and generate within an
 * instruction budget per call. User mistakes throw {@link UserError} before any state changes.
 */
final class ModelService {
    /**
     * Instructions one call may spend on generation: the IC stops an update at 40 B, and a call must leave room for
     * the step it is in when it checks the budget (at most one batch of prompt tokens) and for its reply.
     */
    static final long MAX_CALL_BUDGET = 36_000_000_000L;
    /** Prompt tokens fed per forward pass; batches share the weight loads in the SIMD kernels. */
    static final int PROMPT_BATCH = 16;
    /** Heap left to conversations' KV caches after the weights (TeaVM's heap ends near 1.9 GiB). */
    private static final long CACHE_HEAP_BYTES = 1100L << 20;
    /**
     * Bounds the bookkeeping of a small model's many cheap sessions; GPT-2 small's 75 MB caches stop at 13 first.
     * Sessions are evicted only when idle, so the bound must hold a busy hour's users, not a handful.
     */
    private static final int MAX_CONVERSATIONS = 256;
    /** Candid header, settings and the other arguments of a generating call, besides its prompt. */
    private static final long ARGUMENT_OVERHEAD_BYTES = 1024;
    /** Heap kept free for what a call allocates and drops (a 2 MiB prompt's text and code points, Candid buffers). */
    private static final long TRANSIENT_HEAP_BYTES = 64L << 20;
    /** "### End" and "<|endoftext|>" of the published model: inference needs no tokenizer to stop on them. */
    private static final int[] DEFAULT_STOP_TOKENS = {50257, 50256};
    /** The original canister's limits for generate and inference. */
    private static final double MAX_TEMPERATURE = 2;

    private final Kernels kernels;
    private final LongSupplier instructionCounter;
    private final LongSupplier clock;
    private final LongSupplier heapBytesLeft;

    private Gpt2 model;
    private RunState state;
    private Conversations conversations;
    /** Set by the canister before the model: ids of the sessions of every model set up later. */
    private SessionIds sessionIds;
    private UsageRules policy = UsageRules.DEFAULT;
    /** The KV cache of one-shot calls (generate, inference), which keep nothing between calls. */
    private KvCache oneShotCache;
    private Tokenizer tokenizer;
    private ChatFormat chat;
    private Weights.Precision precision;

    /** Measured cost of prompt batches and of one generated token, updated after every step. */
    private PromptCost promptCost;
    private long generatedTokenCost;

    private long setupInstructions;
    private long lastCallInstructions;
    private int lastCallTokens;
    /** Turns started since the canister started: orders them (the older of two turns under way gets longer calls). */
    private long turnsStarted;

    /** @param heapBytesLeft heap that allocations can still get (set-up checks a model against it first) */
    ModelService(Kernels kernels, LongSupplier instructionCounter, LongSupplier clock, LongSupplier heapBytesLeft) {
        this.kernels = kernels;
        this.instructionCounter = instructionCounter;
        this.clock = clock;
        this.heapBytesLeft = heapBytesLeft;
    }

    // ---- set-up ----

    /**
     * Builds the model from config.json and model.safetensors (the staged files, or after an upgrade the set-up ones);
     * the old model stays on any error.
     */
    void setupModel(UploadStore.Files store, Weights.Precision precision) {
        long start = instructionCounter.getAsLong();
        if (store.length(UploadStore.File.CONFIG) == 0) {
            throw new UserError("no config.json uploaded (append_config_bytes)");
        }
        if (store.length(UploadStore.File.SAFETENSORS) == 0) {
            throw new UserError("no model.safetensors uploaded (append_safetensors_bytes)");
        }
        Config config;
        Weights.Loader loader;
        try {
            config = Config.parse(new String(store.readAll(UploadStore.File.CONFIG), StandardCharsets.UTF_8));
            if (tokenizer != null) {
                tokenizer.requireCovers(config.vocabSize());
            }
            // the weights, the forward pass's buffers and the one-shot calls' KV cache, next to the old model
            Weights.requireHeap(config, precision, RunState.bytes(config, PROMPT_BATCH)
                    + KvCache.bytes(config, config.nPositions()), heapBytesLeft.getAsLong());
            Safetensors file = Safetensors.open(new StableTensorSource(store, UploadStore.File.SAFETENSORS));
            // Allocates the new weights and validates every tensor; the old model serves until the new one is read.
            loader = new Weights.Loader(config, file, kernels, precision);
        } catch (ModelFormatException | IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        while (!loader.done()) {
            loader.loadNext();
        }
        oneShotCache = null;
        conversations = null;
        model = new Gpt2(config, loader.weights(), kernels);
        state = new RunState(config, PROMPT_BATCH);
        long cacheBytes = KvCache.bytes(config, config.nPositions());
        // sessions get what is left after the one-shot cache and a margin for calls' transient buffers, so that
        // opening one never runs out of heap ("busy" instead)
        long forSessions = Math.min(CACHE_HEAP_BYTES, heapBytesLeft.getAsLong() - TRANSIENT_HEAP_BYTES) - cacheBytes;
        int capacity = (int) Math.max(0, Math.min(MAX_CONVERSATIONS, forSessions / cacheBytes));
        conversations = new Conversations(capacity, () -> new KvCache(config), sessionIds);
        this.precision = precision;
        long parameters = loader.weights().parameterCount();
        promptCost = new PromptCost(PROMPT_BATCH, 3 * parameters);
        generatedTokenCost = 4 * parameters;
        setupInstructions = instructionCounter.getAsLong() - start;
    }

    void setupTokenizer(UploadStore.Files store) {
        if (store.length(UploadStore.File.TOKENIZER) == 0) {
            throw new UserError("no tokenizer.json uploaded (append_tokenizer_bytes)");
        }
        try {
            Tokenizer parsed = Tokenizer.parse(new String(store.readAll(UploadStore.File.TOKENIZER), StandardCharsets.UTF_8));
            if (model != null) {
                parsed.requireCovers(model.config().vocabSize());
            }
            ChatFormat format = new ChatFormat(parsed);
            tokenizer = parsed;
            chat = format;
        } catch (ModelFormatException | IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    void useSessionIds(SessionIds ids) {
        sessionIds = ids;
    }

    void usePolicy(UsageRules policy) {
        this.policy = policy;
    }

    boolean modelLoaded() {
        return model != null;
    }

    boolean tokenizerLoaded() {
        return tokenizer != null;
    }

    Weights.Precision precision() {
        return precision;
    }

    Gpt2 model() {
        return model;
    }

    /** Instructions of the last set-up of the model. */
    long setupInstructions() {
        return setupInstructions;
    }

    /** Instructions and tokens of the last generating call. */
    long lastCallInstructions() {
        return lastCallInstructions;
    }

    int lastCallTokens() {
        return lastCallTokens;
    }

    int conversationCount() {
        return conversations == null ? 0 : conversations.size();
    }

    int conversationCapacity() {
        return conversations == null ? 0 : conversations.capacity();
    }

    int activeTurns() {
        return conversations == null ? 0 : conversations.activeTurns(clock.getAsLong());
    }

    int conversationsInUse() {
        return conversations == null ? 0 : conversations.inUse(clock.getAsLong());
    }

    // ---- tokenizer ----

    int[] tokenize(String text) {
        return requireTokenizer().encode(text);
    }

    String tokenString(int id) {
        return tokenizer.tokenString(id);
    }

    String decode(int[] ids) {
        Tokenizer t = requireTokenizer();
        for (int id : ids) {
            if (id < 0 || id >= t.size()) {
                throw new UserError("token id " + Integer.toUnsignedString(id) + " is outside the vocabulary of " + t.size());
            }
        }
        return t.decode(ids, true);
    }

    // ---- one-shot generation: the original canister's generate and inference ----

    /**
     * Generates up to {@code maxNewTokens} after {@code prompt}, as many as fit in {@code budget} instructions (at
     * most one call's); stop tokens excluded.
     */
    int[] inference(int[] prompt, int maxNewTokens, double temperature, long budget) {
        Gpt2 m = requireModel();
        if (prompt.length == 0) {
            throw new UserError("the prompt is empty");
        }
        if (maxNewTokens <= 0) {
            throw new UserError("the number of tokens to generate must be at least 1");
        }
        SamplerSettings sampling = samplerSettings(temperature, 0, 1, clock.getAsLong());
        checkPrompt(m, prompt, 0);
        if (oneShotCache == null) {
            oneShotCache = new KvCache(m.config());
        }
        Session session = new Session(m, oneShotCache, Sampler.create(sampling, m.config().vocabSize()),
                stopTokens(), prompt, 0, maxNewTokens);
        Progress progress = run(session, null, budget);
        return progress.tokens();
    }

    String generate(String text, int maxNewTokens, double temperature, long budget) {
        ChatFormat format = requireChat();
        if (text.isEmpty()) {
            throw new UserError("the prompt is empty");
        }
        int positions = requireModel().config().nPositions();
        int[] prompt;
        try {
            prompt = format.encodeInstruction(text, positions);
        } catch (TooManyTokensException e) {
            throw promptTooLong(e, positions);
        }
        return requireTokenizer().decode(inference(prompt, maxNewTokens, temperature, budget), true);
    }

    // ---- generation across calls ----

    record TurnSettings(int maxNewTokens, double temperature, int topK, double topP, long seed, long callBudget) {
    }

    /** The result of one call's work on a turn. */
    record Progress(long sessionId, int[] tokens, String text, int promptTokensRemaining, int generatedTokens,
                    int contextTokens, Session.FinishReason finish, long instructions) {
    }

    /**
     * Starts a turn, in a new conversation ({@code sessionId == null}) or a follow-up, and works on it, this call for
     * at most {@code limit} instructions (what the caller's usage allows).
     */
    Progress startTurn(byte[] caller, Long sessionId, String prompt, int[] promptIds, TurnSettings settings, long limit) {
        Gpt2 m = requireModel();
        if (promptIds == null) {
            requireChat();
            if (prompt.isEmpty()) {
                throw new UserError("the prompt is empty");
            }
        } else if (promptIds.length == 0) {
            throw new UserError("prompt_ids is empty");
        }
        SamplerSettings sampling = samplerSettings(settings.temperature(), settings.topK(), settings.topP(), settings.seed());
        if (settings.maxNewTokens() <= 0) {
            throw new UserError("max_new_tokens must be at least 1");
        }
        Conversation existing = null;
        int[] history = new int[0];
        int cached = 0;
        if (sessionId != null) {
            existing = conversations.find(sessionId, caller, clock.getAsLong());
            if (existing == null) {
                throw new UserError("unknown session " + Long.toUnsignedString(sessionId)
                        + " (it was ended, evicted by newer ones, or lost in an upgrade): start a new one");
            }
            history = existing.turn.context();
            cached = existing.turn.position();
        }
        int[] message;
        try {
            message = promptIds != null ? promptIds
                    : chat.encodeFollowUp(history, prompt, m.config().nPositions() - history.length);
        } catch (TooManyTokensException e) {
            int positions = m.config().nPositions();
            throw history.length == 0 ? promptTooLong(e, positions) : new UserError("the conversation would reach "
                    + (positions + 1) + " tokens or more, more than the context of " + positions + " allows: start a new one");
        }
        int[] context = concat(history, message);
        checkPrompt(m, context, history.length);

        Conversation c = existing != null ? existing : conversations.open(caller, clock.getAsLong(), policy.maxSessionsPerCaller());
        c.turnOrder = ++turnsStarted;
        c.turn = new Session(m, c.cache, Sampler.create(sampling, m.config().vocabSize()), stopTokens(), context, cached,
                settings.maxNewTokens());
        c.decoder = tokenizer != null ? tokenizer.newDecoder(true) : null;
        c.returnedTokens = 0;
        c.callBudget = settings.callBudget();
        c.calls = 0;
        return run(c.turn, c, Math.min(limit, nextCallBudget(c)));
    }

    Progress continueTurn(byte[] caller, long sessionId, long callBudget) {
        requireModel();
        Conversation c = conversations.find(sessionId, caller, clock.getAsLong());
        if (c == null) {
            throw new UserError("unknown session " + Long.toUnsignedString(sessionId)
                    + " (it was ended, evicted by newer ones, or lost in an upgrade)");
        }
        return run(c.turn, c, Math.min(callBudget, nextCallBudget(c)));
    }

    /** The turn's explicit call_budget, or the streaming schedule's budget for its next call. */
    private long nextCallBudget(Conversation c) {
        int call = c.calls++;
        if (c.callBudget != CallBudgetSchedule.ADAPTIVE) {
            return c.callBudget;
        }
        long now = clock.getAsLong();
        return CallBudgetSchedule.budget(call, promptCost.ofPrompt(c.turn.promptTokensLeft()), generatedTokenCost,
                conversations.underWayBesides(c, now), conversations.olderUnderWay(c, now), MAX_CALL_BUDGET);
    }

    void endSession(byte[] caller, long sessionId) {
        if (conversations == null || !conversations.close(sessionId, caller, clock.getAsLong())) {
            throw new UserError("unknown session " + Long.toUnsignedString(sessionId));
        }
    }

    /**
     * Feeds prompt tokens, then generates, while the next step fits in {@code budget} instructions (counted from the
     * start of the message). Always makes progress: at least one step runs, so a tiny budget still advances the turn.
     */
    private Progress run(Session session, Conversation conversation, long budget) {
        long limit = budget < MAX_CALL_BUDGET ? budget : MAX_CALL_BUDGET;
        long start = instructionCounter.getAsLong();
        boolean progressed = false;
        while (session.promptTokensLeft() > 0) {
            int batch = promptCost.largestBatchWithin(session.promptTokensLeft(), limit - instructionCounter.getAsLong());
            if (batch == 0) {
                if (progressed) {
                    break;
                }
                batch = 1;
            }
            long before = instructionCounter.getAsLong();
            session.ingest(state, batch);
            promptCost.learn(batch, nextEstimate(instructionCounter.getAsLong() - before));
            progressed = true;
        }
        int[] newTokens = new int[16];
        int count = 0;
        StringBuilder text = new StringBuilder();
        while (session.promptTokensLeft() == 0 && !session.finished()) {
            if (progressed && instructionCounter.getAsLong() + generatedTokenCost > limit) {
                break;
            }
            long before = instructionCounter.getAsLong();
            int token = session.step(state);
            generatedTokenCost = nextEstimate(instructionCounter.getAsLong() - before);
            progressed = true;
            if (session.finishReason() == Session.FinishReason.STOP_TOKEN) {
                break;
            }
            if (count == newTokens.length) {
                newTokens = Arrays.copyOf(newTokens, 2 * count);
            }
            newTokens[count++] = token;
            if (conversation != null && conversation.decoder != null) {
                text.append(conversation.decoder.append(token));
            }
        }
        if (session.finished() && conversation != null && conversation.decoder != null) {
            text.append(conversation.decoder.finish());
        }
        int[] tokens = Arrays.copyOf(newTokens, count);
        int generated = count;
        if (conversation != null) {
            conversation.returnedTokens += count;
            generated = conversation.returnedTokens;
        }
        lastCallInstructions = instructionCounter.getAsLong() - start;
        lastCallTokens = count;
        return new Progress(conversation == null ? 0 : conversation.id, tokens, text.toString(),
                session.promptTokensLeft() > 0 ? session.promptTokensLeft() + 1 : 0, generated,
                session.position(), session.finishReason(), lastCallInstructions);
    }

    /**
     * The longest argument a generating call can need: a prompt of the whole context (its UTF-8 bound for text, 4
     * bytes per id), plus room for the other arguments. Longer ones are refused before they are read.
     */
    long maxArgumentBytes() {
        if (model == null) {
            return ARGUMENT_OVERHEAD_BYTES;
        }
        int positions = model.config().nPositions();
        long text = tokenizer == null ? 0 : tokenizer.maxTextBytes(positions);
        return ARGUMENT_OVERHEAD_BYTES + Math.max(text, 4L * positions);
    }

    /** Instructions the smallest step (one generated token) is expected to cost: what a call needs at least. */
    long minimumCallInstructions() {
        return model == null ? 0 : generatedTokenCost;
    }

    /** The next step's cost estimate: the last one measured plus a margin (attention grows with the context). */
    private static long nextEstimate(long measured) {
        return measured + measured / 16 + 1_000_000;
    }

    // ---- checks ----

    private SamplerSettings samplerSettings(double temperature, int topK, double topP, long seed) {
        if (!(temperature >= 0 && temperature <= MAX_TEMPERATURE)) {
            throw new UserError("temperature must be between 0 and " + (int) MAX_TEMPERATURE + ", got " + temperature);
        }
        if (topK < 0) {
            throw new UserError("top_k is too large");
        }
        try {
            return SamplerSettings.of(temperature, topK, topP, seed);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    /**
     * Checks prompt ids from {@code from} on, and that the context fits: a prompt may fill every position, as the
     * last position's logits still give one generated token.
     */
    private static void checkPrompt(Gpt2 m, int[] context, int from) {
        Config c = m.config();
        for (int i = from; i < context.length; i++) {
            if (context[i] < 0 || context[i] >= c.vocabSize()) {
                throw new UserError("token id " + Integer.toUnsignedString(context[i]) + " is outside the vocabulary of "
                        + c.vocabSize());
            }
        }
        if (context.length > c.nPositions()) {
            throw new UserError(from == 0
                    ? "the prompt has " + context.length + " tokens; the context holds " + c.nPositions()
                    : "the conversation would reach " + context.length + " tokens, more than the context of "
                    + c.nPositions() + " allows: start a new one");
        }
    }

    private static UserError promptTooLong(TooManyTokensException e, int positions) {
        return new UserError("the prompt is too long (" + e.getMessage() + "); the context holds " + positions);
    }

    private int[] stopTokens() {
        return chat != null ? chat.stopTokens() : DEFAULT_STOP_TOKENS;
    }

    private Gpt2 requireModel() {
        if (model == null) {
            throw new UserError("the model is not loaded: upload it and call setup_model");
        }
        return model;
    }

    private Tokenizer requireTokenizer() {
        if (tokenizer == null) {
            throw new UserError("the tokenizer is not loaded: upload tokenizer.json and call setup_tokenizer");
        }
        return tokenizer;
    }

    private ChatFormat requireChat() {
        requireTokenizer();
        return chat;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
