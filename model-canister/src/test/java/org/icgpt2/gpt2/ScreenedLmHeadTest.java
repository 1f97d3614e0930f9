package org.icgpt2.gpt2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The int8-screened LM head against the full f32 product (the path before screening): its error bound, attacked with
 * rows built so that the int8 logits err as much as they can and in opposite directions; greedy tokens and logits
 * over many random heads with near-ties; and whole generations (greedy and seeded sampling) over random models.
 */
class ScreenedLmHeadTest {
    private static final Kernels KERNELS = new JavaKernels();
    private static final float LN_1E9 = (float) Math.log(1e9);

    /** The f32 logits of the path without screening. */
    private static float[] fullLogits(float[] w, int rows, int cols, float[] x) {
        float[] out = new float[rows];
        KERNELS.matmul(out, 0, 1, w, 0, cols, x, 0, cols, rows, cols, 1);
        return out;
    }

    /** The screened logits; {@code exact[0]} receives how many rows were recomputed in f32. */
    private static float[] screenedLogits(ScreenedLmHead head, int rows, float[] x, float margin, int[] exact) {
        float[] out = new float[rows];
        exact[0] = head.apply(KERNELS, out, x, 0, margin, new QuantizedActivations(), new int[ScreenedLmHead.maxExactRows(rows)]);
        return out;
    }

    /**
     * A row whose every weight but the second (the absmax, 1) sits a hair from a half step, so each rounds by nearly
     * s/2: with {@code sign[c]} = sign(x_c) the int8 logit is too low by nearly s/2 * X1, with -sign(x_c) too high.
     * {@code up[c]} rounds that weight up (magnitude k + 0.5 + delta) instead of down (k + 0.5 - delta).
     */
    private static void adversarialRow(float[] w, int row, int cols, float[] x, int[] k, boolean[] up, boolean againstX) {
        float s = 1f / QuantizedMatrix.Q_MAX;
        for (int c = 0; c < cols; c++) {
            float sign = (x[c] >= 0) != againstX ? 1 : -1;
            float magnitude = c == 1 ? 1 : s * (k[c] + (up[c] ? 0.5f + 1e-3f : 0.5f - 1e-3f));
            w[row * cols + c] = sign * magnitude;
        }
    }

    /**
     * An input whose every value but the first (the absmax, {@code absMax}) sits near a half step of its int16
     * rounding, so each rounds by about sigma/2 (0.48 sigma), away from zero: small values ({@code small}) make that
     * rounding the larger part of the bound, large ones the weights' rounding.
     */
    private static float[] adversarialInput(Random random, int cols, float absMax, boolean small) {
        float sigma = absMax / QuantizedActivations.limit(cols);
        float[] x = new float[cols];
        x[0] = absMax;
        for (int c = 1; c < cols; c++) {
            int steps = small ? random.nextInt(4) : QuantizedActivations.limit(cols) / 8 + random.nextInt(QuantizedActivations.limit(cols) / 2);
            x[c] = (random.nextBoolean() ? 1 : -1) * sigma * (steps + 0.48f);
        }
        return x;
    }

    @Test
    void theBoundHoldsOnEveryRowAndIsNearlyReachedByAdversarialRowsAndInputs() {
        Random random = new Random(7);
        int cols = 768;
        int rows = 256;
        for (int trial = 0; trial < 12; trial++) {
            float scale = (float) Math.pow(10, trial % 6 - 3);
            boolean outliers = trial >= 10;
            float[] x = outliers ? RandomModels.normal(random, cols, scale) : adversarialInput(random, cols, scale, trial % 2 == 0);
            if (outliers) {
                x[random.nextInt(cols)] *= 40; // an outlier dimension, as GPT-2's final hidden states have
            }
            float[] w = RandomModels.normal(random, rows * cols, 0.3f);
            int[] k = IntStream.range(0, cols).map(c -> 100 + random.nextInt(26)).toArray();
            boolean[] down = new boolean[cols];
            for (int r = 0; r < rows / 2; r++) {
                adversarialRow(w, r, cols, x, k, down, r % 2 == 1);
            }
            ScreenedLmHead head = ScreenedLmHead.build(w, rows, cols, KERNELS);
            float c = head.boundFactor(x, 0, new QuantizedActivations());
            float[] int8 = int8Logits(head, x, rows);
            float[] f32 = fullLogits(w, rows, cols, x);
            double worst = 0;
            for (int r = 0; r < rows; r++) {
                double error = Math.abs((double) f32[r] - int8[r]);
                double bound = (double) head.boundScale(r) * c;
                assertTrue(error <= bound, "trial " + trial + " row " + r + ": |f32 - int8| = " + error + " > bound " + bound);
                if (r < rows / 2) {
                    worst = Math.max(worst, error / bound);
                }
            }
            // the bound is tight: 15% smaller and these rows would break it
            assertTrue(outliers || worst > 0.85, "trial " + trial + ": adversarial rows reach only " + worst + " of the bound");
        }
    }

    /** Row a has the higher f32 logit, row b the higher int8 logit; greedy must still pick a. */
    @Test
    void greedyPicksTheF32ArgmaxWhenTheInt8OrderIsReversed() {
        Random random = new Random(11);
        int cols = 768;
        int rows = 1000;
        for (int trial = 0; trial < 10; trial++) {
            float[] x = RandomModels.normal(random, cols, 1);
            float[] w = RandomModels.normal(random, rows * cols, 0.05f);
            int[] k = IntStream.range(0, cols).map(c -> 60 + random.nextInt(60)).toArray();
            boolean[] down = new boolean[cols];
            boolean[] up = new boolean[cols];
            java.util.Arrays.fill(up, true);
            int a = random.nextInt(rows);
            int b = (a + 1 + random.nextInt(rows - 1)) % rows;
            adversarialRow(w, a, cols, x, k, down, false); // weights k + 0.5 - delta, rounded down to k
            // b: the even weights k + 0.5 + delta (rounded up to k + 1), the odd ones k - 0.5 + delta (rounded up to
            // k): a lower f32 logit than a (by about s/2 * X1), a higher int8 logit (by s * the even half of X1)
            adversarialRow(w, b, cols, x, k, up, false);
            for (int c = 3; c < cols; c += 2) { // column 1 holds the absmax
                w[b * cols + c] -= Math.signum(w[b * cols + c]) / QuantizedMatrix.Q_MAX;
            }
            ScreenedLmHead head = ScreenedLmHead.build(w, rows, cols, KERNELS);
            float[] f32 = fullLogits(w, rows, cols, x);
            float[] int8 = int8Logits(head, x, rows);
            assertEquals(a, ArgmaxSampler.argmax(f32, rows));
            assertEquals(b, ArgmaxSampler.argmax(int8, rows), "the int8 order is not reversed: the test is too weak");
            int[] exact = new int[1];
            float[] screened = screenedLogits(head, rows, x, 0, exact);
            assertEquals(a, ArgmaxSampler.argmax(screened, rows));
            assertEquals(Float.floatToRawIntBits(f32[a]), Float.floatToRawIntBits(screened[a]));
            assertTrue(exact[0] >= 2 && exact[0] < rows / 10, "exact rows: " + exact[0]);
        }
    }

    /**
     * Many random heads, inputs aligned with one row, near-duplicates of that row (mostly the same int8 row, f32
     * logits a little apart), zero rows and rows of other scales: the greedy token is the f32 path's, and with a
     * margin every row within it holds the f32 path's bits.
     */
    @Test
    void greedyTokenAndLogitsNearTheTopMatchTheF32PathOverManyRandomHeadsWithNearTies() {
        Random random = new Random(3);
        int screenedTrials = 0;
        int int8Disagreed = 0;
        int trials = 300;
        for (int trial = 0; trial < trials; trial++) {
            int cols = new int[]{16, 64, 96, 768}[trial % 4];
            int rows = 200 + random.nextInt(1500);
            float[] w = RandomModels.normal(random, rows * cols, 0.3f);
            for (int r = 0; r < rows; r++) {
                int kind = random.nextInt(20);
                for (int c = 0; c < cols && kind < 3; c++) {
                    w[r * cols + c] *= new float[]{0, 0.1f, 2}[kind]; // zero rows and rows of other scales
                }
            }
            int top = random.nextInt(rows);
            for (int d = 0; d < 6; d++) {
                int dup = random.nextInt(rows);
                if (dup == top) {
                    continue;
                }
                // a thousandth of a quantization step per weight: mostly the same int8 row, a different f32 logit
                for (int c = 0; c < cols; c++) {
                    w[dup * cols + c] = w[top * cols + c] * (1 + (random.nextFloat() - 0.5f) * 1e-5f);
                }
            }
            float[] x = RandomModels.normal(random, cols, 0.2f);
            float align = (float) Math.pow(10, random.nextInt(3));
            for (int c = 0; c < cols; c++) {
                x[c] += align * w[top * cols + c];
            }
            ScreenedLmHead head = ScreenedLmHead.build(w, rows, cols, KERNELS);
            float[] f32 = fullLogits(w, rows, cols, x);
            int[] exact = new int[1];
            float[] greedy = screenedLogits(head, rows, x, 0, exact);
            int best = ArgmaxSampler.argmax(f32, rows);
            assertEquals(best, ArgmaxSampler.argmax(greedy, rows), "trial " + trial);
            if (exact[0] < rows / 4) {
                screenedTrials++;
            }
            for (int r = 0; r < rows; r++) {
                if (Float.floatToRawIntBits(greedy[r]) != Float.floatToRawIntBits(f32[r])) {
                    assertTrue(f32[r] < f32[best], "trial " + trial + ": an inexact row " + r + " could be the top");
                }
            }
            if (ArgmaxSampler.argmax(int8Logits(head, x, rows), rows) != best) {
                int8Disagreed++;
            }
            for (float temperature : new float[]{0.01f, 0.1f, 1f}) {
                float margin = temperature * LN_1E9;
                float[] sampled = screenedLogits(head, rows, x, margin, exact);
                for (int r = 0; r < rows; r++) {
                    if (f32[r] >= f32[best] - margin) {
                        assertEquals(Float.floatToRawIntBits(f32[r]), Float.floatToRawIntBits(sampled[r]),
                                "trial " + trial + " T " + temperature + " row " + r);
                    }
                }
            }
        }
        assertTrue(screenedTrials > trials * 3 / 4, "screening recomputed few rows in only " + screenedTrials + " trials");
        assertTrue(int8Disagreed > trials / 10, "the int8 argmax differed in only " + int8Disagreed + " trials: too few near-ties");
    }

    /** The int8 logits alone (no recomputed rows). */
    private static float[] int8Logits(ScreenedLmHead head, float[] x, int rows) {
        QuantizedActivations scratch = new QuantizedActivations();
        head.boundFactor(x, 0, scratch);
        float[] int8 = new float[rows];
        QuantizedMatrix q = head.quantized();
        int cols = x.length;
        KERNELS.matmulQ8(int8, 0, rows, q.q, 0, cols, q.scales, 0, scratch.values(), 0, cols, scratch.scales(), 0, rows, cols, 1);
        return int8;
    }

    @Test
    void nonFiniteRowsAreAlwaysRecomputedAndNonFiniteInputsFallBackToTheFullProduct() {
        Random random = new Random(5);
        int rows = 300;
        int cols = 64;
        float[] w = RandomModels.normal(random, rows * cols, 0.3f);
        w[17 * cols + 3] = Float.NaN;
        w[40 * cols + 9] = Float.POSITIVE_INFINITY;
        w[41 * cols] = 1e-30f; // a row too small for the bound's range: also always recomputed
        for (int c = 1; c < cols; c++) {
            w[41 * cols + c] = 0;
        }
        ScreenedLmHead head = ScreenedLmHead.build(w, rows, cols, KERNELS);
        assertEquals(Float.POSITIVE_INFINITY, head.boundScale(17));
        assertEquals(Float.POSITIVE_INFINITY, head.boundScale(40));
        assertEquals(Float.POSITIVE_INFINITY, head.boundScale(41));
        float[] x = RandomModels.normal(random, cols, 1);
        float[] f32 = fullLogits(w, rows, cols, x);
        int[] exact = new int[1];
        float[] screened = screenedLogits(head, rows, x, 0, exact);
        assertTrue(Float.isNaN(screened[17]));
        assertEquals(Float.floatToRawIntBits(f32[40]), Float.floatToRawIntBits(screened[40]));
        assertEquals(Float.floatToRawIntBits(f32[41]), Float.floatToRawIntBits(screened[41]));
        assertTrue(exact[0] < rows / 4, "exact rows: " + exact[0]);

        x[5] = Float.POSITIVE_INFINITY;
        assertArrayEquals(fullLogits(w, rows, cols, x), screenedLogits(head, rows, x, 0, exact));
        assertEquals(rows, exact[0]);
        float[] zero = new float[cols];
        assertArrayEquals(fullLogits(w, rows, cols, zero), screenedLogits(head, rows, zero, 0, exact));
    }

    // ---- whole generations ----

    /** The same sampler with every logit computed in f32: the path before screening. */
    private record AllExact(Sampler sampler) implements Sampler {
        @Override
        public int sample(float[] logits) {
            return sampler.sample(logits);
        }

        @Override
        public float exactLogitMargin() {
            return Float.POSITIVE_INFINITY;
        }
    }

    /** Generates with a fresh state; {@code exactLogits[0]} receives the f32 rows of the last step. */
    private static int[] generate(Gpt2 model, int[] prompt, Sampler sampler, int tokens, int ingestChunk, int... exactLogits) {
        RunState state = new RunState(model.config(), 4);
        Session session = new Session(model, new KvCache(model.config()), sampler, new int[0], prompt, tokens);
        while (session.promptTokensLeft() > 0) {
            session.ingest(state, ingestChunk);
        }
        while (!session.finished()) {
            session.step(state);
        }
        if (exactLogits.length > 0) {
            exactLogits[0] = state.exactLogits();
        }
        return session.generated();
    }

    /** Near-duplicate token rows (a few ulps apart) so that greedy decoding meets near-ties. */
    private static void nearDuplicates(float[] wte, int vocab, int embd, Random random) {
        for (int d = 0; d < vocab / 4; d++) {
            int from = random.nextInt(vocab);
            int to = random.nextInt(vocab);
            System.arraycopy(wte, from * embd, wte, to * embd, embd);
            int c = random.nextInt(embd);
            wte[to * embd + c] = Float.intBitsToFloat(Float.floatToRawIntBits(wte[to * embd + c]) + random.nextInt(5) - 2);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
    void greedyAndSeededSamplingGiveTheF32PathsTokensOverRandomModels(int seed) {
        Random random = new Random(seed);
        int embd = new int[]{32, 48, 64}[seed % 3];
        int vocab = 300 + random.nextInt(3000);
        Gpt2 model = RandomModels.build(1 + seed % 2, 4, embd, 48, vocab, seed, ScreenedLmHeadTest::nearDuplicates);
        for (int p = 0; p < 3; p++) {
            int[] prompt = IntStream.range(0, 1 + random.nextInt(12)).map(i -> random.nextInt(vocab)).toArray();
            int[] exactRows = new int[1];
            int[] greedy = generate(model, prompt, new ArgmaxSampler(vocab), 16, 3, exactRows);
            assertTrue(exactRows[0] < vocab / 4, "greedy recomputed " + exactRows[0] + " of " + vocab + " rows");
            assertArrayEquals(generate(model, prompt, new AllExact(new ArgmaxSampler(vocab)), 16, 5), greedy);
            for (SamplerSettings s : new SamplerSettings[]{
                    new SamplerSettings(0.05f, 0, 1, seed), new SamplerSettings(0.3f, 40, 0.95f, seed + 1),
                    new SamplerSettings(1f, 0, 1, seed + 2), new SamplerSettings(0.7f, 0, 0.5f, seed + 3)}) {
                int[] sampled = generate(model, prompt, Sampler.create(s, vocab), 16, 2);
                assertArrayEquals(generate(model, prompt, new AllExact(Sampler.create(s, vocab)), 16, 4), sampled, s.toString());
            }
        }
    }

    /** Counts the int8 passes of the screened head. */
    private static final class CountingKernels implements Kernels {
        private final Kernels kernels = new JavaKernels();
        int int8Passes;

        @Override
        public void matmul(float[] out, int outOff, int outStride, float[] m, int mOff, int mStride, float[] x, int xOff,
                           int xStride, int rows, int n, int batch) {
            kernels.matmul(out, outOff, outStride, m, mOff, mStride, x, xOff, xStride, rows, n, batch);
        }

        @Override
        public void matmulQ8(float[] out, int outOff, int outStride, byte[] q, int qOff, int qStride, float[] scales,
                             int scalesOff, short[] x, int xOff, int xStride, float[] xScales, int xScalesOff, int rows,
                             int n, int batch) {
            int8Passes++;
            kernels.matmulQ8(out, outOff, outStride, q, qOff, qStride, scales, scalesOff, x, xOff, xStride, xScales,
                    xScalesOff, rows, n, batch);
        }

        @Override
        public void weightedRowSum(float[] out, int outOff, float[] p, int pOff, float[] m, int mOff, int mStride, int rows, int n) {
            kernels.weightedRowSum(out, outOff, p, pOff, m, mOff, mStride, rows, n);
        }

        @Override
        public void transpose(float[] dst, int dstOff, float[] src, int srcOff, int rows, int cols) {
            kernels.transpose(dst, dstOff, src, srcOff, rows, cols);
        }

        @Override
        public float maxLowerBound(float[] values, float[] scales, float c, int rows) {
            return kernels.maxLowerBound(values, scales, c, rows);
        }

        @Override
        public int rowsReaching(int[] ids, float[] values, float[] scales, float c, float threshold, int rows) {
            return kernels.rowsReaching(ids, values, scales, c, threshold, rows);
        }
    }

    /**
     * Sampling at a high temperature on nearly flat logits: the screen must recompute the whole head, so the session
     * skips its int8 pass for the next steps (and tries again after them); the tokens stay the f32 path's, and a
     * greedy session keeps screening every step.
     */
    @Test
    void aSessionSkipsTheScreenWhileItRecomputesTheWholeHead() {
        Gpt2 loaded = RandomModels.build(1, 4, 32, 64, 500, 9, (wte, vocab, embd, random) -> {
            for (int i = 0; i < wte.length; i++) {
                wte[i] *= 0.01f; // logits within a few hundredths of each other
            }
        });
        CountingKernels kernels = new CountingKernels();
        Gpt2 model = new Gpt2(loaded.config(), loaded.weights(), kernels);
        int steps = 2 * (Session.UNSCREENED_STEPS + 1) + 1;
        int[] prompt = {1, 2, 3};
        SamplerSettings hot = new SamplerSettings(1, 0, 1, 5);
        int[] sampled = generate(model, prompt, Sampler.create(hot, 500), steps, 2);
        assertEquals(3, kernels.int8Passes, "int8 passes in " + steps + " steps");
        assertArrayEquals(generate(model, prompt, new AllExact(Sampler.create(hot, 500)), steps, 2), sampled);
        kernels.int8Passes = 0;
        generate(model, prompt, new ArgmaxSampler(500), steps, 2);
        assertEquals(steps, kernels.int8Passes);
    }

    /** The Python-made test models of ForwardTest (F16, BF16, the real vocabulary) give the same tokens too. */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3})
    void theForwardTestModelsGiveTheF32PathsTokens(int shape) throws Exception {
        Gpt2 model = ForwardTest.load(ForwardTest.SHAPES[shape]).model();
        int vocab = model.config().vocabSize();
        Random random = new Random(shape);
        int[] prompt = IntStream.range(0, 7).map(i -> random.nextInt(vocab)).toArray();
        assertArrayEquals(generate(model, prompt, new AllExact(new ArgmaxSampler(vocab)), 20, 16),
                generate(model, prompt, new ArgmaxSampler(vocab), 20, 16));
        for (long seed = 0; seed < 4; seed++) {
            SamplerSettings s = new SamplerSettings(seed == 0 ? 0.1f : 0.9f, seed == 2 ? 40 : 0, seed == 3 ? 0.95f : 1, seed);
            assertArrayEquals(generate(model, prompt, new AllExact(Sampler.create(s, vocab)), 20, 16),
                    generate(model, prompt, Sampler.create(s, vocab), 20, 16), s.toString());
        }
        assertNotEquals(null, model.weights().screenedLmHead());
    }
}
