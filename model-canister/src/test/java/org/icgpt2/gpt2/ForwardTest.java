package org.icgpt2.gpt2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The forward pass against the independent float64 numpy reference, and the KV cache / batching / resumption invariants. */
class ForwardTest {
    /** make-random-model arguments: several shapes and dtypes, the last with the real vocabulary and tokenizer. */
    static final String[][] SHAPES = {
            {"--layers", "2", "--heads", "4", "--embd", "64", "--positions", "64", "--vocab", "512", "--seed", "1"},
            {"--layers", "3", "--heads", "2", "--embd", "48", "--positions", "32", "--vocab", "300", "--seed", "2", "--dtype", "F16", "--with-attn-bias"},
            {"--layers", "1", "--heads", "3", "--embd", "96", "--positions", "40", "--vocab", "257", "--seed", "3", "--dtype", "BF16"},
            {"--layers", "2", "--heads", "4", "--embd", "64", "--positions", "64", "--vocab", "50260", "--seed", "4", "--with-attn-bias"},
    };
    private static final int GENERATE = 10;

    record Loaded(Path dir, Config config, Gpt2 model) {
    }

    static Loaded load(String... makeArgs) throws IOException, InterruptedException {
        Path dir = TestFiles.randomModel(makeArgs);
        Config config = Config.parse(Files.readString(dir.resolve("config.json")));
        Safetensors file = Safetensors.open(new ByteArrayTensorSource(Files.readAllBytes(dir.resolve("model.safetensors"))));
        return new Loaded(dir, config, new Gpt2(config, Weights.load(config, file, new JavaKernels()), new JavaKernels()));
    }

    private static int[] promptFor(Loaded m, int length) throws IOException {
        if (m.config.vocabSize() >= 50257) {
            Tokenizer tokenizer = Tokenizer.parse(Files.readString(m.dir.resolve("tokenizer.json")));
            return new ChatFormat(tokenizer).encodeInstruction("Write a haiku about the sea.");
        }
        Random random = new Random(length);
        return IntStream.range(0, length).map(i -> random.nextInt(m.config.vocabSize())).toArray();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3})
    void logitsAndGreedyGenerationMatchTheFloat64Reference(int shape) throws Exception {
        Loaded m = load(SHAPES[shape]);
        int[] prompt = promptFor(m, 9);
        Path logitsFile = Files.createTempFile("logits", ".f64");
        try {
            String json = TestFiles.run(List.of(TestFiles.python(),
                    TestFiles.ROOT.resolve("model-canister/src/test/python/gpt2_reference.py").toString(),
                    "--model", m.dir.toString(), "--ids", join(prompt), "--generate", String.valueOf(GENERATE),
                    "--logits-out", logitsFile.toString()));
            JsonNode reference = new ObjectMapper().readTree(json);
            ByteBuffer refLogits = ByteBuffer.wrap(Files.readAllBytes(logitsFile)).order(ByteOrder.LITTLE_ENDIAN);
            int vocab = m.config.vocabSize();

            RunState state = new RunState(m.config, 1);
            KvCache cache = new KvCache(m.config);
            for (int t = 0; t < prompt.length; t++) {
                float[] logits = m.model.forward(state, cache, prompt, t, 1, t, true);
                double maxDiff = 0;
                double maxRef = 0;
                for (int v = 0; v < vocab; v++) {
                    double ref = refLogits.getDouble((t * vocab + v) * 8);
                    maxDiff = Math.max(maxDiff, Math.abs(logits[v] - ref));
                    maxRef = Math.max(maxRef, Math.abs(ref));
                }
                assertTrue(maxDiff <= 1e-4 * maxRef, "position " + t + ": max |diff| " + maxDiff + " vs max |logit| " + maxRef);
                assertEquals(reference.get("argmax").get(t).asInt(), ArgmaxSampler.argmax(logits, vocab), "argmax at " + t);
            }

            Session session = new Session(m.model, new KvCache(m.config), new ArgmaxSampler(vocab), new int[0], prompt, GENERATE);
            runToEnd(session, new RunState(m.config, 4), 4);
            int[] expected = new int[GENERATE];
            for (int i = 0; i < GENERATE; i++) {
                expected[i] = reference.get("generated").get(i).asInt();
            }
            assertArrayEquals(expected, session.generated());
            assertTrue(IntStream.of(expected).distinct().count() > 1, "degenerate test model: greedy repeats one token");
        } finally {
            Files.deleteIfExists(logitsFile);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void kvCachePathEqualsRecomputingTheWholeSequence(int shape) throws Exception {
        Loaded m = load(SHAPES[shape]);
        int[] tokens = promptFor(m, 20);
        RunState one = new RunState(m.config, 1);
        KvCache cache = new KvCache(m.config);
        for (int t = 0; t < tokens.length; t++) {
            float[] incremental = m.model.forward(one, cache, tokens, t, 1, t, true).clone();
            RunState all = new RunState(m.config, t + 1);
            float[] recomputed = m.model.forward(all, new KvCache(m.config), tokens, 0, t + 1, 0, true);
            assertArrayEquals(recomputed, incremental, "prefix of " + (t + 1));
        }
    }

    @Test
    void batchedPromptIngestionEqualsOneAtATime() throws Exception {
        Loaded m = load(SHAPES[0]);
        int[] prompt = promptFor(m, 23);
        float[] reference = null;
        int[] referenceTokens = null;
        for (int batch : new int[]{1, 2, 5, 16, 32}) {
            RunState state = new RunState(m.config, batch);
            Session session = new Session(m.model, new KvCache(m.config), new ArgmaxSampler(m.config.vocabSize()), new int[0], prompt, 6);
            while (session.promptTokensLeft() > 0) {
                assertTrue(session.ingest(state, 7) > 0);
            }
            session.step(state);
            float[] firstLogits = state.logits().clone();
            runToEnd(session, state, 7);
            if (reference == null) {
                reference = firstLogits;
                referenceTokens = session.generated();
            } else {
                assertArrayEquals(reference, firstLogits, "batch " + batch);
                assertArrayEquals(referenceTokens, session.generated(), "batch " + batch);
            }
        }
    }

    @Test
    void splittingTheWorkAcrossCallsGivesIdenticalTokens() throws Exception {
        Loaded m = load(SHAPES[3]);
        int[] prompt = promptFor(m, 0);
        SamplerSettings settings = new SamplerSettings(0.9f, 40, 0.95f, 1234);
        int vocab = m.config.vocabSize();
        Session whole = new Session(m.model, new KvCache(m.config), Sampler.create(settings, vocab), new int[0], prompt, 25);
        runToEnd(whole, new RunState(m.config, 16), 16);

        Random random = new Random(5);
        RunState shared = new RunState(m.config, 3);
        Session split = new Session(m.model, new KvCache(m.config), Sampler.create(settings, vocab), new int[0], prompt, 25);
        Session other = new Session(m.model, new KvCache(m.config), Sampler.create(new SamplerSettings(1, 0, 1, 9), vocab), new int[0], prompt, 25);
        List<Integer> tokens = new ArrayList<>();
        while (!split.finished()) {
            // one "call": a few bounded steps, then another session uses the shared scratch state in between
            int steps = 1 + random.nextInt(4);
            for (int i = 0; i < steps && !split.finished(); i++) {
                if (split.promptTokensLeft() > 0) {
                    split.ingest(shared, 1 + random.nextInt(4));
                } else {
                    tokens.add(split.step(shared));
                }
            }
            if (other.promptTokensLeft() > 0) {
                other.ingest(shared, 5);
            } else if (!other.finished()) {
                other.step(shared);
            }
        }
        assertArrayEquals(whole.generated(), tokens.stream().mapToInt(Integer::intValue).toArray());
        assertArrayEquals(whole.generated(), split.generated());
        assertEquals(Session.FinishReason.MAX_NEW_TOKENS, split.finishReason());
        Session differentSeed = new Session(m.model, new KvCache(m.config),
                Sampler.create(new SamplerSettings(0.9f, 40, 0.95f, 4321), vocab), new int[0], prompt, 25);
        runToEnd(differentSeed, shared, 3);
        assertNotEquals(List.of(whole.generated()), List.of(differentSeed.generated()));
    }

    @Test
    void aFollowUpTurnOnTheSameCacheEqualsReadingTheWholeConversationAgain() throws Exception {
        Loaded m = load(SHAPES[3]);
        ChatFormat chat = new ChatFormat(Tokenizer.parse(Files.readString(m.dir.resolve("tokenizer.json"))));
        int vocab = m.config.vocabSize();
        RunState state = new RunState(m.config, 4);
        KvCache cache = new KvCache(m.config);
        Session first = new Session(m.model, cache, new ArgmaxSampler(vocab), chat.stopTokens(),
                chat.encodeInstruction("Name a colour."), 6);
        runToEnd(first, state, 3);
        int[] history = first.context();
        int[] followUp = chat.encodeFollowUp(history, "And another one?");
        assertEquals(628, followUp[0], "an answer cut short is separated from the next instruction by a blank line");
        int[] context = IntStream.concat(IntStream.of(history), IntStream.of(followUp)).toArray();

        SamplerSettings sampling = new SamplerSettings(0.8f, 20, 0.9f, 77);
        Session continued = new Session(m.model, cache, Sampler.create(sampling, vocab), chat.stopTokens(), context,
                first.position(), 8);
        assertEquals(followUp.length, continued.promptTokensLeft(), "only the new tokens (and the unfed last answer token) are read");
        runToEnd(continued, state, 3);
        Session fresh = new Session(m.model, new KvCache(m.config), Sampler.create(sampling, vocab), chat.stopTokens(),
                context, 8);
        runToEnd(fresh, state, 16);
        assertArrayEquals(fresh.generated(), continued.generated());
        int[] afterEnd = chat.encodeFollowUp(new int[]{1, 2, chat.stopTokens()[0]}, "Hi");
        assertArrayEquals(chat.encodeInstruction("Hi"), afterEnd, "an answer that ended with ### End needs no separator");
    }

    @Test
    void sessionsStopOnStopTokensAndAtTheEndOfTheContext() throws Exception {
        Loaded m = load(SHAPES[0]);
        int vocab = m.config.vocabSize();
        int[] prompt = promptFor(m, 5);
        RunState state = new RunState(m.config, 4);
        Session free = new Session(m.model, new KvCache(m.config), new ArgmaxSampler(vocab), new int[0], prompt, 5);
        runToEnd(free, state, 4);
        int stop = free.generated()[2];
        Session stopped = new Session(m.model, new KvCache(m.config), new ArgmaxSampler(vocab), new int[]{stop}, prompt, 5);
        runToEnd(stopped, state, 4);
        assertEquals(Session.FinishReason.STOP_TOKEN, stopped.finishReason());
        assertEquals(stop, stopped.generated()[stopped.generated().length - 1]);
        assertTrue(stopped.generated().length <= 3);

        KvCache small = new KvCache(m.config, 8);
        Session full = new Session(m.model, small, new ArgmaxSampler(vocab), new int[0], prompt, 100);
        runToEnd(full, state, 4);
        assertEquals(Session.FinishReason.CONTEXT_FULL, full.finishReason());
        assertEquals(8 - prompt.length + 1, full.generated().length);
        assertThrows(IllegalStateException.class, () -> full.step(state));
    }

    @Test
    void sessionsRejectBadInputs() throws Exception {
        Loaded m = load(SHAPES[0]);
        int vocab = m.config.vocabSize();
        Sampler greedy = new ArgmaxSampler(vocab);
        KvCache cache = new KvCache(m.config);
        assertThrows(IllegalArgumentException.class, () -> new Session(m.model, cache, greedy, new int[0], new int[0], 5));
        assertThrows(IllegalArgumentException.class, () -> new Session(m.model, cache, greedy, new int[0], new int[]{1, vocab}, 5));
        assertThrows(IllegalArgumentException.class, () -> new Session(m.model, cache, greedy, new int[0], new int[]{-1}, 5));
        assertThrows(IllegalArgumentException.class, () -> new Session(m.model, cache, greedy, new int[0], new int[65], 5));
        assertThrows(IllegalArgumentException.class, () -> new Session(m.model, cache, greedy, new int[0], new int[]{1}, 0));
        assertThrows(IllegalArgumentException.class, () -> new KvCache(m.config, 65));
        RunState state = new RunState(m.config, 2);
        Session session = new Session(m.model, cache, greedy, new int[0], new int[]{1, 2, 3, 4}, 3);
        assertThrows(IllegalStateException.class, () -> session.step(state));
        assertThrows(IllegalArgumentException.class, () -> m.model.forward(state, cache, new int[]{1, 2, 3}, 0, 3, 0, false));
        assertThrows(IllegalArgumentException.class, () -> m.model.forward(state, cache, new int[]{1}, 0, 1, 64, false));
    }

    @Test
    void reportsParameterCountAndMemory() throws Exception {
        Loaded m = load(SHAPES[3]);
        Config c = m.config;
        long expected = (long) c.vocabSize() * c.nEmbd() + (long) c.nPositions() * c.nEmbd() + 2L * c.nEmbd()
                + c.nLayer() * (12L * c.nEmbd() * c.nEmbd() + 13L * c.nEmbd());
        assertEquals(expected, m.model.weights().parameterCount());
        assertEquals(4 * expected, m.model.weights().bytes());
        assertEquals(2L * 4 * c.nLayer() * c.nPositions() * c.nEmbd(), new KvCache(c).bytes());
        // GPT-2 small with the fine-tune's 50260 tokens: the published 124,439,808 (50257 tokens) + 3 × 768
        Config gpt2 = Config.parse(Files.readString(TestFiles.ROOT.resolve("lib/model/config.json")));
        long perLayer = 12L * 768 * 768 + 13L * 768;
        assertEquals(124_442_112L, 50260L * 768 + 1024L * 768 + 2 * 768 + 12 * perLayer);
        assertEquals(3072, gpt2.nInner());
    }

    static void runToEnd(Session session, RunState state, int ingestChunk) {
        while (session.promptTokensLeft() > 0) {
            session.ingest(state, ingestChunk);
        }
        while (!session.finished()) {
            session.step(state);
        }
    }

    private static String join(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(sb.length() == 0 ? "" : ",").append(id);
        }
        return sb.toString();
    }
}
