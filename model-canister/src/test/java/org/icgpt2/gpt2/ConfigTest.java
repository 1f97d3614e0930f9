package org.icgpt2.gpt2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
}
