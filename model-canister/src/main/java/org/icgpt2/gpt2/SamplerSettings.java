package org.icgpt2.gpt2;

/**
 * How to pick tokens: {@code temperature == 0} is greedy (argmax); otherwise softmax(logits / temperature), restricted
 * to the {@code topK} most likely tokens ({@code 0} = no limit), then to the smallest set whose probability reaches
 * {@code topP} ({@code 1} = no limit). The same seed gives the same tokens.
 */
public record SamplerSettings(float temperature, int topK, float topP, long seed) {
    public static final SamplerSettings GREEDY = new SamplerSettings(0, 0, 1, 0);

    public SamplerSettings {
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top_k must be >= 0 (0 = no limit), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        }
    }
}
