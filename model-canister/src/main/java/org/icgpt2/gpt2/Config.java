package org.icgpt2.gpt2;

import java.util.Map;

/**
 * GPT-2 hyperparameters from a Hugging Face config.json. Any GPT-2 size works; only the tanh GELU
 * ({@code gelu_new}) activation of the published checkpoints is supported.
 */
public record Config(int nLayer, int nHead, int nEmbd, int nInner, int nPositions, int vocabSize,
                     float layerNormEpsilon, int bosTokenId, int eosTokenId) {

    /** Bounds that reject corrupt values before anything is allocated (GPT-2 XL is 48 layers, 1600 wide). */
    static final int MAX_LAYERS = 256;
    static final int MAX_EMBD = 16384;
    static final int MAX_POSITIONS = 1 << 16;
    static final int MAX_VOCAB = 1 << 20;

    public Config {
        check(nLayer > 0 && nLayer <= MAX_LAYERS, "n_layer", nLayer);
        check(nHead > 0, "n_head", nHead);
        check(nEmbd > 0 && nEmbd <= MAX_EMBD, "n_embd", nEmbd);
        if (nEmbd % nHead != 0) {
            throw bad("n_embd", "n_embd " + nEmbd + " is not a multiple of n_head " + nHead);
        }
        check(nInner > 0 && nInner <= 8 * MAX_EMBD, "n_inner", nInner);
        check(nPositions > 0 && nPositions <= MAX_POSITIONS, "n_positions", nPositions);
        check(vocabSize > 0 && vocabSize <= MAX_VOCAB, "vocab_size", vocabSize);
        if (!(layerNormEpsilon > 0 && layerNormEpsilon < 1)) {
            throw bad("layer_norm_epsilon", "must be in (0, 1), got " + layerNormEpsilon);
        }
        check(bosTokenId >= 0 && bosTokenId < vocabSize, "bos_token_id", bosTokenId);
        check(eosTokenId >= 0 && eosTokenId < vocabSize, "eos_token_id", eosTokenId);
    }

    public int headDim() {
        return nEmbd / nHead;
    }

    /** Parses config.json text; absent optional keys take GPT-2's defaults. */
    public static Config parse(String json) {
        Map<String, Object> o = Json.parseObject(json, "config.json");
        Object activation = o.containsKey("activation_function") ? o.get("activation_function") : "gelu_new";
        if (!"gelu_new".equals(activation)) {
            throw bad("activation_function", "only gelu_new (tanh GELU) is supported, got " + activation);
        }
        if (Boolean.FALSE.equals(o.get("tie_word_embeddings"))) {
            throw bad("tie_word_embeddings", "an untied LM head is not supported");
        }
        int nEmbd = intValue(o, "n_embd", -1);
        Object inner = o.get("n_inner");
        return new Config(intValue(o, "n_layer", -1), intValue(o, "n_head", -1), nEmbd,
                inner == null ? 4 * nEmbd : intValue(o, "n_inner", -1),
                intValue(o, "n_positions", -1), intValue(o, "vocab_size", -1),
                o.containsKey("layer_norm_epsilon") ? (float) Json.asDouble(o.get("layer_norm_epsilon"), "layer_norm_epsilon") : 1e-5f,
                intValue(o, "bos_token_id", 50256), intValue(o, "eos_token_id", 50256));
    }

    /** Reads an integer key; {@code fallback < 0} marks it required. */
    private static int intValue(Map<String, Object> o, String key, int fallback) {
        Object v = o.get(key);
        if (v == null) {
            if (fallback < 0) {
                throw bad(key, "missing");
            }
            return fallback;
        }
        if (!(v instanceof Long) || (Long) v < Integer.MIN_VALUE || (Long) v > Integer.MAX_VALUE) {
            throw bad(key, "expected an integer, got " + v);
        }
        return (int) (long) (Long) v;
    }

    private static void check(boolean ok, String key, int value) {
        if (!ok) {
            throw bad(key, "out of range: " + value);
        }
    }

    private static ModelFormatException bad(String key, String detail) {
        return new ModelFormatException(ModelFormatException.Reason.BAD_CONFIG, key, detail);
    }
}
