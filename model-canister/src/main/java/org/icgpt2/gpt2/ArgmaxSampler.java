package org.icgpt2.gpt2;

/** Greedy decoding: the highest logit, the lowest id on ties. */
public final class ArgmaxSampler implements Sampler {
    private final int vocabSize;

    public ArgmaxSampler(int vocabSize) {
        this.vocabSize = vocabSize;
    }

    @Override
    public int sample(float[] logits) {
        return argmax(logits, vocabSize);
    }

    /** Only the highest logit matters; the screened head makes every row that could hold it exact. */
    @Override
    public float exactLogitMargin() {
        return 0;
    }

    static int argmax(float[] a, int n) {
        int best = 0;
        float max = a[0];
        for (int i = 1; i < n; i++) {
            if (a[i] > max) {
                max = a[i];
                best = i;
            }
        }
        return best;
    }
}
