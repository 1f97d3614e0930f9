package org.icgpt2.gpt2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SamplerTest {
    private static final int VOCAB = 1000;

    private static float[] randomLogits(long seed, int n) {
        Random random = new Random(seed);
        float[] logits = new float[n];
        for (int i = 0; i < n; i++) {
            logits[i] = (float) (random.nextGaussian() * 3);
        }
        return logits;
    }

    private static int[] draw(Sampler sampler, float[] logits, int count) {
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = sampler.sample(logits);
        }
        return out;
    }

    /** Token ids by descending probability (ties: lower id first). */
    private static Integer[] ranking(float[] logits) {
        Integer[] ids = IntStream.range(0, logits.length).boxed().toArray(Integer[]::new);
        Arrays.sort(ids, Comparator.comparingDouble((Integer i) -> -logits[i]).thenComparingInt(i -> i));
        return ids;
    }

    @Test
    void validatesSettings() {
        assertThrows(IllegalArgumentException.class, () -> new SamplerSettings(Float.NaN, 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplerSettings(-0.1f, 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplerSettings(Float.POSITIVE_INFINITY, 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplerSettings(1, -1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplerSettings(1, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplerSettings(1, 0, 1.01f, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplerSettings(1, 0, Float.NaN, 0));
        new SamplerSettings(1, 0, 1, 0);
    }

    @Test
    void callerValuesAreCheckedAsFloats() {
        // positive as f64, 0 as f32: would pass a check on the double and then fail (trap) in the constructor
        assertThrows(IllegalArgumentException.class, () -> SamplerSettings.of(1, 0, 1e-46, 0));
        assertThrows(IllegalArgumentException.class, () -> SamplerSettings.of(1e39, 0, 1, 0)); // Infinity as f32
        assertThrows(IllegalArgumentException.class, () -> SamplerSettings.of(Double.NaN, 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> SamplerSettings.of(1, 0, -0.0, 0));
        assertEquals(new SamplerSettings(0.7f, 3, 0.9f, 5), SamplerSettings.of(0.7, 3, 0.9, 5));
    }

    @Test
    void temperaturesBelowEpsilonAreGreedy() {
        float[] logits = randomLogits(3, VOCAB);
        int best = ranking(logits)[0];
        // 1e-44 as f32 is a denormal whose inverse is Infinity: sampled, every weight would be NaN
        for (double t : new double[]{1e-44, 1e-30, SamplerSettings.MIN_TEMPERATURE / 2}) {
            SamplerSettings settings = SamplerSettings.of(t, 0, 1, 11);
            assertTrue(settings.greedy(), "temperature " + t);
            assertTrue(Sampler.create(settings, VOCAB) instanceof ArgmaxSampler);
            assertArrayEquals(new int[]{best, best, best}, draw(Sampler.create(settings, VOCAB), logits, 3));
        }
        assertFalse(SamplerSettings.of(SamplerSettings.MIN_TEMPERATURE, 0, 1, 0).greedy());
        assertThrows(IllegalArgumentException.class, () -> new RandomSampler(new SamplerSettings(1e-44f, 0, 1, 0), VOCAB));
    }

    @Test
    void tinyTopPKeepsTheMostLikelyToken() {
        // equal logits: the nucleus bound (1 - p) / (n - 1) of the total exceeds every weight, which left no candidate
        float[] flat = new float[VOCAB];
        Sampler flatSampler = Sampler.create(SamplerSettings.of(1, 0, Float.MIN_VALUE, 1), VOCAB);
        assertArrayEquals(new int[]{0, 0, 0}, draw(flatSampler, flat, 3));
        float[] logits = randomLogits(8, VOCAB);
        int best = ranking(logits)[0];
        Sampler sampler = Sampler.create(SamplerSettings.of(1.5, 0, 1e-40, 2), VOCAB);
        assertArrayEquals(new int[]{best, best, best}, draw(sampler, logits, 3));
        // a vocabulary of one token: (1 - p) / (n - 1) divides by zero
        assertArrayEquals(new int[]{0, 0}, draw(Sampler.create(SamplerSettings.of(1, 0, 0.5, 3), 1), new float[]{2f}, 2));
    }

    @Test
    void temperatureZeroIsArgmax() {
        for (long seed = 0; seed < 50; seed++) {
            float[] logits = randomLogits(seed, VOCAB);
            Sampler sampler = Sampler.create(new SamplerSettings(0, 5, 0.5f, seed), VOCAB);
            assertTrue(sampler instanceof ArgmaxSampler);
            assertEquals((int) ranking(logits)[0], sampler.sample(logits));
        }
        assertEquals(1, new ArgmaxSampler(3).sample(new float[]{1, 2, 2}), "ties go to the lowest id");
    }

    @Test
    void sameSeedSameTokensOtherSeedOtherTokens() {
        float[] logits = randomLogits(1, VOCAB);
        for (SamplerSettings s : new SamplerSettings[]{new SamplerSettings(1, 0, 1, 42), new SamplerSettings(0.7f, 50, 1, 42),
                new SamplerSettings(1.3f, 0, 0.9f, 42), new SamplerSettings(0.8f, 40, 0.95f, 42)}) {
            int[] a = draw(Sampler.create(s, VOCAB), logits, 500);
            assertArrayEquals(a, draw(Sampler.create(s, VOCAB), logits, 500), s.toString());
            SamplerSettings other = new SamplerSettings(s.temperature(), s.topK(), s.topP(), 43);
            assertFalse(Arrays.equals(a, draw(Sampler.create(other, VOCAB), logits, 500)), s.toString());
        }
        // pinned values: the PRNG and the sampling order are part of the IC's determinism contract
        assertArrayEquals(new int[]{0, 2, 2, 2, 0, 0, 0, 0},
                draw(Sampler.create(new SamplerSettings(1, 0, 1, 0), 3), new float[]{1, 0, 0.5f}, 8));
    }

    @Test
    void topKNeverEmitsTokensOutsideTheKHighest() {
        for (long seed = 0; seed < 200; seed++) {
            float[] logits = randomLogits(seed, VOCAB);
            int k = 1 + (int) (seed % 20);
            Set<Integer> allowed = new HashSet<>(Arrays.asList(ranking(logits)).subList(0, k));
            Sampler sampler = Sampler.create(new SamplerSettings(2.0f, k, 1, seed), VOCAB);
            for (int token : draw(sampler, logits, 50)) {
                assertTrue(allowed.contains(token), "seed " + seed + " k " + k + " token " + token);
            }
        }
    }

    @Test
    void topPNeverEmitsTokensOutsideTheNucleus() {
        for (long seed = 0; seed < 200; seed++) {
            float[] logits = randomLogits(seed, VOCAB);
            float topP = 0.05f + (seed % 19) * 0.05f;
            float temperature = 0.5f + (seed % 3) * 0.5f;
            int topK = seed % 2 == 0 ? 0 : 30;
            Set<Integer> nucleus = nucleus(logits, temperature, topK, topP);
            Sampler sampler = Sampler.create(new SamplerSettings(temperature, topK, topP, seed), VOCAB);
            for (int token : draw(sampler, logits, 50)) {
                assertTrue(nucleus.contains(token), "seed " + seed + " top_p " + topP + " token " + token);
            }
        }
    }

    /** The nucleus computed the slow way: full sort, optional top-k, then the smallest prefix reaching topP. */
    private static Set<Integer> nucleus(float[] logits, float temperature, int topK, float topP) {
        Integer[] ids = ranking(logits);
        int n = topK > 0 ? topK : ids.length;
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += Math.exp((logits[ids[i]] - logits[ids[0]]) / temperature);
        }
        Set<Integer> out = new HashSet<>();
        double cumulative = 0;
        for (int i = 0; i < n && cumulative < topP * total * (1 - 1e-6); i++) {
            cumulative += Math.exp((logits[ids[i]] - logits[ids[0]]) / temperature);
            out.add(ids[i]);
        }
        // allow the next token when float rounding puts the cut exactly at the boundary
        if (out.size() < n) {
            out.add(ids[out.size()]);
        }
        return out;
    }

    @Test
    void knownNucleus() {
        // probabilities 0.5, 0.3, 0.1, 0.1: top_p 0.75 keeps exactly the first two
        float[] logits = {(float) Math.log(0.1), (float) Math.log(0.5), (float) Math.log(0.1), (float) Math.log(0.3)};
        Sampler sampler = Sampler.create(new SamplerSettings(1, 0, 0.75f, 3), 4);
        int[] counts = new int[4];
        for (int t : draw(sampler, logits, 4000)) {
            counts[t]++;
        }
        assertEquals(0, counts[0] + counts[2]);
        assertEquals(0.625, counts[1] / 4000.0, 0.03); // 0.5 / 0.8 after renormalization
    }

    @Test
    void frequenciesFollowTheDistribution() {
        float[] logits = {0.0f, 1.0f, -0.5f, 2.0f, 0.3f};
        for (float temperature : new float[]{1.0f, 0.5f, 2.0f}) {
            int topK = temperature == 0.5f ? 3 : 0;
            double[] p = new double[logits.length];
            Integer[] ids = ranking(logits);
            Set<Integer> kept = topK > 0 ? new HashSet<>(Arrays.asList(ids).subList(0, topK)) : null;
            double total = 0;
            for (int i = 0; i < logits.length; i++) {
                p[i] = kept == null || kept.contains(i) ? Math.exp(logits[i] / temperature) : 0;
                total += p[i];
            }
            int draws = 20000;
            int[] counts = new int[logits.length];
            for (int t : draw(Sampler.create(new SamplerSettings(temperature, topK, 1, 11), logits.length), logits, draws)) {
                counts[t]++;
            }
            double chiSquare = 0;
            int cells = 0;
            for (int i = 0; i < logits.length; i++) {
                double expected = draws * p[i] / total;
                if (expected == 0) {
                    assertEquals(0, counts[i], "token " + i + " is outside the top-k");
                } else {
                    chiSquare += (counts[i] - expected) * (counts[i] - expected) / expected;
                    cells++;
                }
            }
            // 99.9% quantile of chi-square with cells-1 <= 4 degrees of freedom is at most 18.47
            assertTrue(chiSquare < 18.47, "temperature " + temperature + ": chi-square " + chiSquare + " over " + cells + " cells");
        }
    }
}
