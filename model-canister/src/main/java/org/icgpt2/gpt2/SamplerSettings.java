package org.icgpt2.gpt2;

/**
 * How to pick tokens: a {@code temperature} below {@link #MIN_TEMPERATURE} (0 included) is greedy (argmax); otherwise
 * softmax(logits / temperature), restricted to the {@code topK} most likely tokens ({@code 0} = no limit), then to the
 * smallest set whose probability reaches {@code topP} ({@code 1} = no limit). The same seed gives the same tokens.
 */
public record SamplerSettings(float temperature, int topK, float topP, long seed) {
    public static final SamplerSettings GREEDY = new SamplerSettings(0, 0, 1, 0);
    /**
     * Temperatures below this sample greedily: 1 / temperature must stay finite (1e-44 would make it Infinity and
     * every weight NaN), and this close to 0 the softmax is an argmax anyway.
     */
    public static final float MIN_TEMPERATURE = 1e-4f;

    public SamplerSettings {
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top_k must be >= 0 (0 = no limit), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1] as a 32-bit float, got " + topP);
        }
    }

    /**
     * Settings from a caller's f64 values, checked after their conversion to f32 (a top_p of 1e-46 is 0 as f32, and
     * 1e39 is Infinity).
     *
     * @throws IllegalArgumentException naming the parameter that is out of range
     */
    public static SamplerSettings of(double temperature, int topK, double topP, long seed) {
        return new SamplerSettings((float) temperature, topK, (float) topP, seed);
    }

    /** Whether tokens are picked by argmax. */
    public boolean greedy() {
        return temperature < MIN_TEMPERATURE;
    }
}
