package org.icgpt2.gpt2;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Small random GPT-2 models built in memory (an F32 safetensors file read by the real loader), for property tests
 * over many models: quicker than scripts/make-random-model, and with a hook to shape the token embedding.
 */
final class RandomModels {
    private RandomModels() {
    }

    /** Edits the token embedding [vocab, embd] before it is written. */
    interface EmbeddingShaper {
        void shape(float[] wte, int vocab, int embd, Random random);
    }

    static Gpt2 build(int layers, int heads, int embd, int positions, int vocab, long seed, EmbeddingShaper shaper) {
        Random random = new Random(seed);
        int inner = 4 * embd;
        Map<String, float[]> tensors = new LinkedHashMap<>();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        float[] wte = normal(random, vocab * embd, 0.3f);
        shaper.shape(wte, vocab, embd, random);
        put(tensors, shapes, "wte.weight", wte, vocab, embd);
        put(tensors, shapes, "wpe.weight", normal(random, positions * embd, 0.3f), positions, embd);
        float projStd = (float) (1 / Math.sqrt(2 * layers));
        for (int l = 0; l < layers; l++) {
            String p = "h." + l + ".";
            put(tensors, shapes, p + "ln_1.weight", plusOne(normal(random, embd, 0.1f)), embd);
            put(tensors, shapes, p + "ln_1.bias", normal(random, embd, 0.05f), embd);
            put(tensors, shapes, p + "attn.c_attn.weight", normal(random, embd * 3 * embd, 0.3f), embd, 3 * embd);
            put(tensors, shapes, p + "attn.c_attn.bias", normal(random, 3 * embd, 0.02f), 3 * embd);
            put(tensors, shapes, p + "attn.c_proj.weight", normal(random, embd * embd, projStd), embd, embd);
            put(tensors, shapes, p + "attn.c_proj.bias", normal(random, embd, 0.02f), embd);
            put(tensors, shapes, p + "ln_2.weight", plusOne(normal(random, embd, 0.1f)), embd);
            put(tensors, shapes, p + "ln_2.bias", normal(random, embd, 0.05f), embd);
            put(tensors, shapes, p + "mlp.c_fc.weight", normal(random, embd * inner, 0.3f), embd, inner);
            put(tensors, shapes, p + "mlp.c_fc.bias", normal(random, inner, 0.02f), inner);
            put(tensors, shapes, p + "mlp.c_proj.weight", normal(random, inner * embd, projStd), inner, embd);
            put(tensors, shapes, p + "mlp.c_proj.bias", normal(random, embd, 0.02f), embd);
        }
        put(tensors, shapes, "ln_f.weight", plusOne(normal(random, embd, 0.1f)), embd);
        put(tensors, shapes, "ln_f.bias", normal(random, embd, 0.05f), embd);
        Config config = Config.parse("{\"n_layer\":" + layers + ",\"n_head\":" + heads + ",\"n_embd\":" + embd
                + ",\"n_positions\":" + positions + ",\"vocab_size\":" + vocab + ",\"bos_token_id\":0,\"eos_token_id\":0}");
        Safetensors file = Safetensors.open(new ByteArrayTensorSource(safetensors(tensors, shapes)));
        return new Gpt2(config, Weights.load(config, file, new JavaKernels()), new JavaKernels());
    }

    static float[] normal(Random random, int n, float std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextGaussian() * std;
        }
        return a;
    }

    private static float[] plusOne(float[] a) {
        for (int i = 0; i < a.length; i++) {
            a[i] += 1;
        }
        return a;
    }

    private static void put(Map<String, float[]> tensors, Map<String, int[]> shapes, String name, float[] data, int... shape) {
        tensors.put("transformer." + name, data);
        shapes.put("transformer." + name, shape);
    }

    private static byte[] safetensors(Map<String, float[]> tensors, Map<String, int[]> shapes) {
        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (Map.Entry<String, float[]> t : tensors.entrySet()) {
            long end = offset + 4L * t.getValue().length;
            StringBuilder shape = new StringBuilder();
            for (int d : shapes.get(t.getKey())) {
                shape.append(shape.length() == 0 ? "" : ",").append(d);
            }
            header.append(header.length() == 1 ? "" : ",").append('"').append(t.getKey())
                    .append("\":{\"dtype\":\"F32\",\"shape\":[").append(shape).append("],\"data_offsets\":[")
                    .append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        byte[] json = header.append('}').toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate((int) (8 + json.length + offset)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json);
        for (float[] data : tensors.values()) {
            for (float v : data) {
                out.putFloat(v);
            }
        }
        return out.array();
    }
}
