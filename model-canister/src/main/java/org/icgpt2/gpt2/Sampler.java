package org.icgpt2.gpt2;

/** Picks the next token from logits. Implementations keep their random state, so a session resumes deterministically. */
public interface Sampler {
    /** @param logits the model's logits (not modified) */
    int sample(float[] logits);

    /** A sampler for the settings over a vocabulary of {@code vocabSize} logits. */
    static Sampler create(SamplerSettings settings, int vocabSize) {
        return settings.greedy() ? new ArgmaxSampler(vocabSize) : new RandomSampler(settings, vocabSize);
    }
}
