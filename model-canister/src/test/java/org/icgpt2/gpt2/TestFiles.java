package org.icgpt2.gpt2;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Paths of the repository and helpers to run its Python scripts from tests. */
public final class TestFiles {
    private TestFiles() {
    }

    /** The repository root (tests run in model-canister/). */
    public static final Path ROOT = findRoot();
    static final Path TOKENIZER_JSON = ROOT.resolve("lib/model/tokenizer.json");
    private static final Map<String, Path> MODELS = new HashMap<>();

    private static Path findRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("scripts/make-random-model"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("repository root with scripts/make-random-model not found");
        }
        return p;
    }

    static String python() {
        String p = System.getenv("PYTHON");
        return p == null || p.isEmpty() ? "python3" : p;
    }

    /** Runs a command, failing with its output if it fails; returns stdout. */
    static String run(List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("gpt2-test", ".out");
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(false)
                    .redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            int rc = process.waitFor();
            String stdout = Files.readString(out);
            if (rc != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed with " + rc + ":\n" + stdout);
            }
            return stdout;
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** A random model from scripts/make-random-model, generated once per test run and shared by the test classes. */
    public static synchronized Path randomModel(String... args) throws IOException, InterruptedException {
        String key = String.join(" ", args);
        Path dir = MODELS.get(key);
        if (dir == null) {
            dir = Files.createTempDirectory("gpt2-model");
            List<String> cmd = new ArrayList<>(List.of(python(), ROOT.resolve("scripts/make-random-model").toString(), "--out", dir.toString()));
            cmd.addAll(List.of(args));
            run(cmd);
            dir.toFile().deleteOnExit();
            for (String f : new String[]{"model.safetensors", "config.json", "tokenizer.json"}) {
                dir.resolve(f).toFile().deleteOnExit();
            }
            MODELS.put(key, dir);
        }
        return dir;
    }
}
