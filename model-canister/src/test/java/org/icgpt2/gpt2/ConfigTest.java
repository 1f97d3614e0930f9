package org.icgpt2.gpt2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigTest {

    /** A small valid config.json with one key set to a raw JSON value (null removes the key). */
    private static String config(String key, String rawValue) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("n_layer", "2");
        values.put("n_head", "4");
        values.put("n_embd", "64");
        values.put("n_positions", "32");
        values.put("vocab_size", "100");
        values.put("bos_token_id", "99");
        values.put("eos_token_id", "99");
        if (rawValue == null) {
            values.remove(key);
        } else if (key != null) {
            values.put(key, rawValue);
        }
        StringBuilder sb = new StringBuilder("{");
        values.forEach((k, v) -> sb.append(sb.length() > 1 ? ", " : "").append('"').append(k).append("\": ").append(v));
        return sb.append('}').toString();
    }

    @Test
    void readsThePublishedConfig() throws Exception {
        Config c = Config.parse(Files.readString(TestFiles.ROOT.resolve("lib/model/config.json")));
        assertEquals(new Config(12, 12, 768, 3072, 1024, 50260, 1e-5f, 50256, 50256), c);
        assertEquals(64, c.headDim());
        assertEquals(908, Files.size(TestFiles.ROOT.resolve("lib/model/config.json")));
    }

    @Test
    void appliesDefaultsAndExplicitInnerSize() {
        Config c = Config.parse(config(null, ""));
        assertEquals(256, c.nInner());
        assertEquals(1e-5f, c.layerNormEpsilon());
        assertEquals(256, Config.parse(config("n_inner", "null")).nInner());
        assertEquals(100, Config.parse(config("n_inner", "100")).nInner());
        // absent ids default to GPT-2's 50256, which this 100-token vocabulary cannot hold
        assertEquals("bos_token_id", assertThrows(ModelFormatException.class, () -> Config.parse(config("bos_token_id", null))).subject());
    }

    @Test
    void rejectsWhatTheEngineCannotRun() {
        String[][] bad = {
                {"activation_function", "\"relu\"", "activation_function"},
                {"tie_word_embeddings", "false", "tie_word_embeddings"},
                {"n_head", "3", "n_embd"},
                {"n_layer", "0", "n_layer"},
                {"n_embd", "-64", "n_embd"},
                {"n_positions", "1e9", "n_positions"},
                {"vocab_size", "99999999", "vocab_size"},
                {"layer_norm_epsilon", "-1", "layer_norm_epsilon"},
                {"n_inner", "\"big\"", "n_inner"},
                {"eos_token_id", "100", "eos_token_id"},
                {"n_layer", null, "n_layer"},
        };
        for (String[] b : bad) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> Config.parse(config(b[0], b[1])), b[0] + "=" + b[1]);
            assertEquals(ModelFormatException.Reason.BAD_CONFIG, e.reason(), e.getMessage());
            assertEquals(b[2], e.subject(), e.getMessage());
        }
        assertEquals(ModelFormatException.Reason.BAD_JSON,
                assertThrows(ModelFormatException.class, () -> Config.parse("{\"n_layer\": }")).reason());
        assertEquals(ModelFormatException.Reason.DUPLICATE_NAME,
                assertThrows(ModelFormatException.class, () -> Config.parse("{\"n_layer\": 1, \"n_layer\": 2}")).reason());
    }

    @Test
    void deepNestingIsAnErrorNotAStackOverflow() {
        String deep = "{\"x\": " + "[".repeat(400_000) + "]".repeat(400_000) + "}";
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Config.parse(deep));
        assertEquals(ModelFormatException.Reason.BAD_JSON, e.reason());
        String fine = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        Json.parse(fine);
        assertThrows(ModelFormatException.class, () -> Json.parse("[" + fine + "]"));
    }

    @Test
    void setUpRefusesAModelLargerThanTheHeapLeftBeforeAllocating() {
        // n_embd 8192: 3.2 GB for one attention matrix, more than a wasm32 heap can ever hold
        Config huge = Config.parse(config("n_embd", "8192").replace("\"n_head\": 4", "\"n_head\": 64"));
        long heap = 1900L << 20;
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> Weights.requireHeap(huge, Weights.Precision.F32, 0, heap));
        assertEquals(ModelFormatException.Reason.TOO_LARGE, e.reason());
        assertTrue(e.getMessage().contains("1900 MiB are left"), e.getMessage());
        // GPT-2 small: 475 MiB of f32 weights + a 9 MiB scratch (the MLP matrix) fit next to 1 GiB of other buffers, not in 400 MiB
        Config gpt2 = new Config(12, 12, 768, 3072, 1024, 50260, 1e-5f, 50256, 50256);
        // the screen: 50,260 int8 rows of 768 with two f32 scales each = 39,001,760 bytes, as status reports it
        assertEquals(497_768_448L + 50_260L * (768 + 8) + 4L * 3072 * 768, Weights.loadBytes(gpt2, Weights.Precision.F32));
        assertEquals(127_698_256L + 8L * 3072 * 768, Weights.loadBytes(gpt2, Weights.Precision.INT8));
        Weights.requireHeap(gpt2, Weights.Precision.F32, 1L << 30, heap);
        assertThrows(ModelFormatException.class, () -> Weights.requireHeap(gpt2, Weights.Precision.F32, 0, 400L << 20));
        Weights.requireHeap(gpt2, Weights.Precision.INT8, 0, 400L << 20);
    }
}
