package org.icgpt2.gpt2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.stream.StreamSupport;
import org.icgpt2.jvm.Gpt2Cli;
import org.junit.jupiter.api.Test;

/** The main class of scripts/gpt2-jvm: the text, then the {"ids", "top"} JSON object as the last line. */
class JvmCommandTest {

    private static JsonNode lastLine(String... args) throws Exception {
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            Gpt2Cli.main(args);
        } finally {
            System.setOut(saved);
        }
        String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
        return new ObjectMapper().readTree(lines[lines.length - 1]);
    }

    private static int[] ids(JsonNode result) {
        return StreamSupport.stream(result.get("ids").spliterator(), false).mapToInt(JsonNode::asInt).toArray();
    }

    @Test
    void printsIdsAndTopLogitsOfTheFirstGeneratedPosition() throws Exception {
        String model = TestFiles.randomModel(ForwardTest.SHAPES[3]).toString();
        JsonNode greedy = lastLine("--model", model, "--prompt", "Hello there", "--max-new-tokens", "6");
        int[] ids = ids(greedy);
        assertTrue(ids.length >= 1 && ids.length <= 6);
        assertEquals(10, greedy.get("top").size());
        assertEquals(ids[0], greedy.get("top").get(0).get(0).asInt(), "greedy picks the top logit");
        double previous = Double.POSITIVE_INFINITY;
        for (JsonNode pair : greedy.get("top")) {
            assertTrue(pair.get(1).asDouble() <= previous, "top logits are sorted");
            previous = pair.get(1).asDouble();
        }
        // --prompt frames the text with the chat format: the same as these ids
        assertEquals(greedy, lastLine("--model", model, "--prompt-ids", "50258,198,15496,612,628,50259,198", "--max-new-tokens", "6"));

        String[] sampling = {"--model", model, "--prompt", "Hello there", "--max-new-tokens", "8",
                "--temperature", "0.9", "--top-k", "50", "--top-p", "0.9", "--seed", "3"};
        assertArrayEquals(ids(lastLine(sampling)), ids(lastLine(sampling)));
    }
}
