package org.icgpt2.jvm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.icgpt2.gpt2.ChatFormat;
import org.icgpt2.gpt2.Config;
import org.icgpt2.gpt2.Gpt2;
import org.icgpt2.gpt2.JavaKernels;
import org.icgpt2.gpt2.KvCache;
import org.icgpt2.gpt2.RunState;
import org.icgpt2.gpt2.Safetensors;
import org.icgpt2.gpt2.Sampler;
import org.icgpt2.gpt2.SamplerSettings;
import org.icgpt2.gpt2.Session;
import org.icgpt2.gpt2.Tokenizer;
import org.icgpt2.gpt2.Weights;

/**
 * Runs the engine on the JVM (scripts/gpt2-jvm):
 * {@code --model DIR (--prompt TEXT | --prompt-ids I,J,...) --max-new-tokens N [--temperature T --top-k K --top-p P --seed S]
 * [--int8]}. With {@code --int8} the weight matrices are quantized at load ({@link Weights.Precision#INT8}).
 * Prints the generated text, then as its last line {@code {"ids":[generated ids],"top":[[id, logit], ...]}} with the
 * 10 highest logits of the first generated position (all of that position's logits are computed in f32, not screened).
 */
public final class Gpt2Cli {
    private static final int PROMPT_BATCH = 16;
    private static final int TOP_LOGITS = 10;

    public static void main(String[] args) throws IOException {
        Path modelDir = null;
        String prompt = null;
        String promptIds = null;
        int maxNewTokens = -1;
        float temperature = 0;
        int topK = 0;
        float topP = 1;
        long seed = 0;
        Weights.Precision precision = Weights.Precision.F32;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--model" -> modelDir = Path.of(required(args[i], value));
                case "--prompt" -> prompt = required(args[i], value);
                case "--prompt-ids" -> promptIds = required(args[i], value);
                case "--max-new-tokens" -> maxNewTokens = Integer.parseInt(required(args[i], value));
                case "--temperature" -> temperature = Float.parseFloat(required(args[i], value));
                case "--top-k" -> topK = Integer.parseInt(required(args[i], value));
                case "--top-p" -> topP = Float.parseFloat(required(args[i], value));
                case "--seed" -> seed = Long.parseLong(required(args[i], value));
                case "--int8" -> {
                    precision = Weights.Precision.INT8;
                    i--; // no value
                }
                default -> usage("unknown argument " + args[i]);
            }
            i++;
        }
        if (modelDir == null || (prompt == null) == (promptIds == null) || maxNewTokens < 0) {
            usage("need --model, one of --prompt / --prompt-ids, and --max-new-tokens");
        }

        Config config = Config.parse(Files.readString(modelDir.resolve("config.json")));
        Path tokenizerPath = modelDir.resolve("tokenizer.json");
        Tokenizer tokenizer = Files.exists(tokenizerPath) ? Tokenizer.parse(Files.readString(tokenizerPath)) : null;
        Weights weights;
        try (FileTensorSource source = new FileTensorSource(modelDir.resolve("model.safetensors"))) {
            weights = Weights.load(config, Safetensors.open(source), new JavaKernels(), precision);
        }
        Gpt2 model = new Gpt2(config, weights, new JavaKernels());

        int[] stopTokens;
        int[] promptTokens;
        if (prompt != null) {
            if (tokenizer == null) {
                usage("--prompt needs tokenizer.json in the model directory");
            }
            ChatFormat chat = new ChatFormat(tokenizer);
            promptTokens = chat.encodeInstruction(prompt);
            stopTokens = chat.stopTokens();
        } else {
            String[] parts = promptIds.split(",");
            promptTokens = new int[parts.length];
            for (int i = 0; i < parts.length; i++) {
                promptTokens[i] = Integer.parseInt(parts[i].trim());
            }
            stopTokens = tokenizer == null ? new int[0] : new ChatFormat(tokenizer).stopTokens();
        }

        Sampler sampler = new ExactFirstLogits(Sampler.create(new SamplerSettings(temperature, topK, topP, seed), config.vocabSize()));
        RunState state = new RunState(config, PROMPT_BATCH);
        Session session = new Session(model, new KvCache(config), sampler, stopTokens, promptTokens, maxNewTokens);
        while (session.promptTokensLeft() > 0) {
            session.ingest(state, PROMPT_BATCH);
        }
        StringBuilder top = new StringBuilder();
        var decoder = tokenizer == null ? null : tokenizer.newDecoder(true);
        while (!session.finished()) {
            int token = session.step(state);
            if (top.length() == 0) {
                appendTopLogits(top, state.logits(), config.vocabSize());
            }
            if (decoder != null) {
                String piece = decoder.append(token);
                System.out.print(piece);
                System.out.flush();
            }
        }
        if (decoder != null) {
            System.out.println(decoder.finish());
        }
        StringBuilder json = new StringBuilder("{\"ids\":[");
        int[] generated = session.generated();
        for (int i = 0; i < generated.length; i++) {
            json.append(i == 0 ? "" : ",").append(generated[i]);
        }
        System.out.println(json.append("],\"top\":[").append(top).append("]}"));
        System.out.flush();
    }

    /** The same tokens as {@code sampler}, with every logit of the first step exact f32, for the printed top logits. */
    private static final class ExactFirstLogits implements Sampler {
        private final Sampler sampler;
        private boolean first = true;

        ExactFirstLogits(Sampler sampler) {
            this.sampler = sampler;
        }

        @Override
        public int sample(float[] logits) {
            first = false;
            return sampler.sample(logits);
        }

        @Override
        public float exactLogitMargin() {
            return first ? Float.POSITIVE_INFINITY : sampler.exactLogitMargin();
        }
    }

    /** {@code [id,logit],...} for the highest logits, highest first. */
    private static void appendTopLogits(StringBuilder out, float[] logits, int n) {
        boolean[] taken = new boolean[n];
        for (int k = 0; k < TOP_LOGITS && k < n; k++) {
            int best = -1;
            for (int i = 0; i < n; i++) {
                if (!taken[i] && (best < 0 || logits[i] > logits[best])) {
                    best = i;
                }
            }
            taken[best] = true;
            out.append(k == 0 ? "" : ",").append('[').append(best).append(',').append(logits[best]).append(']');
        }
    }

    private static String required(String flag, String value) {
        if (value == null) {
            usage(flag + " needs a value");
        }
        return value;
    }

    private static void usage(String problem) {
        System.err.println("gpt2-jvm: " + problem);
        System.err.println("usage: gpt2-jvm --model DIR (--prompt TEXT | --prompt-ids I,J,...) --max-new-tokens N"
                + " [--temperature T --top-k K --top-p P --seed S]");
        System.exit(2);
    }
}
