package org.icgpt2.gpt2;

/**
 * Temperature sampling with optional top-k and top-p (nucleus) filtering, applied in that order as in Hugging Face.
 * Never sorts the whole vocabulary: top-k keeps a k-element heap, and top-p alone first drops every token whose
 * probability is below (1 - topP) / (n - 1), which cannot belong to the nucleus, then sorts only the rest.
 * Buffers are allocated once; random numbers come from a seeded xorshift64*.
 */
public final class RandomSampler implements Sampler {
    /** ln(1e9): a logit this far (times the temperature) below the top one has under 1e-9 of its probability. */
    private static final double LN_1E9 = Math.log(1e9);

    private final int vocabSize;
    private final float invTemperature;
    private final float exactLogitMargin;
    private final int topK;
    private final float topP;
    private final int[] candidates;
    /** Unnormalized probabilities: by token id while cutting for top-p, then by candidate position. */
    private final double[] weights;
    private long rngState;

    public RandomSampler(SamplerSettings s, int vocabSize) {
        if (s.greedy()) {
            throw new IllegalArgumentException("temperature " + s.temperature() + " is greedy decoding: use ArgmaxSampler");
        }
        this.vocabSize = vocabSize;
        this.invTemperature = 1 / s.temperature();
        this.exactLogitMargin = (float) (LN_1E9 * s.temperature());
        this.topK = s.topK() < vocabSize ? s.topK() : 0;
        this.topP = s.topP();
        this.candidates = new int[vocabSize];
        this.weights = new double[vocabSize];
        this.rngState = splitmix64(s.seed());
    }

    /**
     * Tokens whose logit is at least {@code temperature * ln(1e9)} below the top one may keep int8 estimates
     * ({@link ScreenedLmHead}), which are below that line too: each such token weighs under 1e-9 of the top token
     * before and after, so all of them together move the cumulative weights the draw is compared with by under
     * {@code vocabSize * 1e-9} of the total, and a draw can differ from the all-f32 one with probability of that
     * order (about 1e-4 for GPT-2's 50,260 tokens; top-k and top-p only reorder or cut tokens of that weight).
     */
    @Override
    public float exactLogitMargin() {
        return exactLogitMargin;
    }

    @Override
    public int sample(float[] logits) {
        int n = vocabSize;
        float max = logits[ArgmaxSampler.argmax(logits, n)];
        int count;
        if (topK > 0) {
            count = selectTopK(logits, n);
        } else if (topP < 1) {
            count = dropBelowNucleusBound(logits, n, max);
        } else {
            count = n;
            for (int i = 0; i < n; i++) {
                candidates[i] = i;
            }
        }
        if (topP < 1) {
            sortDescending(logits, count);
        }
        double total = 0;
        for (int c = 0; c < count; c++) {
            double w = Math.exp((logits[candidates[c]] - max) * invTemperature);
            weights[c] = w;
            total += w;
        }
        if (topP < 1) {
            // smallest prefix of the sorted candidates whose probability reaches topP
            double target = topP * total;
            double cumulative = 0;
            int keep = 0;
            while (keep < count && cumulative < target) {
                cumulative += weights[keep++];
            }
            count = keep;
            total = cumulative;
        }
        double r = nextDouble() * total;
        double cumulative = 0;
        for (int c = 0; c < count; c++) {
            cumulative += weights[c];
            if (r < cumulative) {
                return candidates[c];
            }
        }
        return candidates[count - 1]; // rounding left r at the very top
    }

    /** Puts the k highest logits' ids in candidates[0..k) using a min-heap on the logit. */
    private int selectTopK(float[] logits, int n) {
        int k = topK;
        for (int i = 0; i < k; i++) {
            candidates[i] = i;
        }
        for (int i = k / 2 - 1; i >= 0; i--) {
            siftDown(logits, i, k);
        }
        for (int i = k; i < n; i++) {
            if (logits[i] > logits[candidates[0]]) {
                candidates[0] = i;
                siftDown(logits, 0, k);
            }
        }
        return k;
    }

    /**
     * Keeps tokens with probability >= (1 - topP) / (n - 1); the dropped ones sum to less than 1 - topP. The most
     * likely token (weight 1) is always kept: with equal logits and a tiny topP the bound can exceed every weight.
     */
    private int dropBelowNucleusBound(float[] logits, int n, float max) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            double w = Math.exp((logits[i] - max) * invTemperature);
            weights[i] = w;
            total += w;
        }
        double cutoff = Math.min(1, (1 - topP) / (n - 1) * total);
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (weights[i] >= cutoff) {
                candidates[count++] = i;
            }
        }
        return count;
    }

    /** Heap sort of candidates[0..count) by logit, highest first (a min-heap pops the lowest to the end). */
    private void sortDescending(float[] logits, int count) {
        for (int i = count / 2 - 1; i >= 0; i--) {
            siftDown(logits, i, count);
        }
        for (int end = count - 1; end > 0; end--) {
            int top = candidates[0];
            candidates[0] = candidates[end];
            candidates[end] = top;
            siftDown(logits, 0, end);
        }
    }

    /** Min-heap on logits[candidates[i]], ties broken by the larger id so that lower ids sort first. */
    private void siftDown(float[] logits, int i, int size) {
        int item = candidates[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && less(logits, candidates[child + 1], candidates[child])) {
                child++;
            }
            if (!less(logits, candidates[child], item)) {
                break;
            }
            candidates[i] = candidates[child];
            i = child;
        }
        candidates[i] = item;
    }

    private static boolean less(float[] logits, int a, int b) {
        return logits[a] < logits[b] || (logits[a] == logits[b] && a > b);
    }

    /** xorshift64*: uniform in [0, 1) with 53 random bits. */
    private double nextDouble() {
        long x = rngState;
        x ^= x >>> 12;
        x ^= x << 25;
        x ^= x >>> 27;
        rngState = x;
        return ((x * 0x2545F4914F6CDD1DL) >>> 11) * 0x1.0p-53;
    }

    /** Spreads any seed (even 0) into a non-zero xorshift state. */
    private static long splitmix64(long seed) {
        long z = seed + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return z == 0 ? 0x9E3779B97F4A7C15L : z;
    }
}
