package org.icgpt2.gpt2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;
import org.icgpt2.gpt2.ModelFormatException.Reason;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Each kind of broken file, built by mutating a valid generated one, fails with its own reason naming the tensor. */
class SafetensorsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Config config;
    private static byte[] valid;

    @BeforeAll
    static void generate() throws Exception {
        Path dir = TestFiles.randomModel("--layers", "2", "--heads", "2", "--embd", "16", "--positions", "8", "--vocab", "40",
                "--seed", "7", "--with-attn-bias");
        config = Config.parse(Files.readString(dir.resolve("config.json")));
        valid = Files.readAllBytes(dir.resolve("model.safetensors"));
    }

    private static Weights load(byte[] file) {
        return Weights.load(config, Safetensors.open(new ByteArrayTensorSource(file)), new JavaKernels());
    }

    private static void assertFails(Reason reason, String subject, Executable action) {
        ModelFormatException e = assertThrows(ModelFormatException.class, action);
        assertEquals(reason, e.reason(), e.getMessage());
        assertEquals(subject, e.subject(), e.getMessage());
        assertTrue(e.getMessage().contains(subject), e.getMessage());
    }

    private static long headerLength(byte[] file) {
        return ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** The file with its header rewritten by {@code edit} (the data section is unchanged). */
    private static byte[] withHeader(byte[] file, Consumer<ObjectNode> edit) throws Exception {
        int n = (int) headerLength(file);
        ObjectNode header = (ObjectNode) JSON.readTree(new String(file, 8, n, StandardCharsets.UTF_8));
        edit.accept(header);
        return withHeaderText(file, JSON.writeValueAsString(header));
    }

    private static byte[] withHeaderText(byte[] file, String headerText) {
        int n = (int) headerLength(file);
        byte[] header = headerText.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + header.length + file.length - 8 - n).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(header.length).put(header).put(file, 8 + n, file.length - 8 - n);
        return out.array();
    }

    private static ArrayNode offsets(ObjectNode header, String name) {
        return (ArrayNode) header.get(name).get("data_offsets");
    }

    @Test
    void loadsTheValidFileAndSkipsByteBuffers() throws Exception {
        Weights w = load(valid);
        assertEquals(config.vocabSize() * config.nEmbd(), w.tokenEmbedding.length);
        Safetensors file = Safetensors.open(new ByteArrayTensorSource(valid));
        assertEquals("U8", file.tensor("h.0.attn.bias").dtype());
        assertArrayEquals(new long[]{1, 1, 8, 8}, file.tensor("h.0.attn.bias").shape());
        assertArrayEquals(new long[0], file.tensor("h.0.attn.masked_bias").shape());
    }

    @Test
    void acceptsNamesWithoutThePrefix() throws Exception {
        byte[] stripped = withHeader(valid, h -> {
            ObjectNode copy = h.deepCopy();
            h.removeAll();
            copy.fields().forEachRemaining(e -> h.set(e.getKey().replace("transformer.", ""), e.getValue()));
        });
        assertTrue(Arrays.equals(load(valid).layers[1].fcProjWeight, load(stripped).layers[1].fcProjWeight));
        assertTrue(Arrays.equals(load(valid).finalNormBias, load(stripped).finalNormBias));
    }

    @Test
    void transposesConv1dWeightsAtLoad() throws Exception {
        // c_attn is stored [in, out]; the engine keeps [out, in]
        Safetensors file = Safetensors.open(new ByteArrayTensorSource(valid));
        int e = config.nEmbd();
        float[] stored = new float[e * 3 * e];
        file.readF32("h.0.attn.c_attn.weight", new long[]{e, 3L * e}, stored, 0);
        float[] loaded = load(valid).layers[0].qkvWeight;
        for (int in = 0; in < e; in++) {
            for (int out = 0; out < 3 * e; out++) {
                assertEquals(stored[in * 3 * e + out], loaded[out * e + in]);
            }
        }
    }

    @Test
    void truncatedFile() {
        assertFails(Reason.TRUNCATED, "transformer.ln_f.bias", () -> load(Arrays.copyOf(valid, valid.length - 10)));
        assertFails(Reason.TRUNCATED, "header", () -> load(Arrays.copyOf(valid, 100)));
        assertFails(Reason.TRUNCATED, "header", () -> load(Arrays.copyOf(valid, 5)));
    }

    @Test
    void badHeaderLength() {
        for (long length : new long[]{0, 1, Safetensors.MAX_HEADER_BYTES + 1, -1L}) {
            byte[] file = valid.clone();
            ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).putLong(0, length);
            assertFails(Reason.BAD_HEADER_LENGTH, "header", () -> load(file));
        }
    }

    @Test
    void badJson() {
        int n = (int) headerLength(valid);
        String header = new String(valid, 8, n, StandardCharsets.UTF_8);
        for (String broken : new String[]{header.replaceFirst("\\{", "["), header.replace("\"dtype\":", "\"dtype\""),
                header.substring(0, header.length() / 2), header.replaceFirst("\\}", "}}"), "{\"a\": tru}"}) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> load(withHeaderText(valid, broken)));
            assertEquals(Reason.BAD_JSON, e.reason(), e.getMessage());
        }
    }

    @Test
    void duplicateNames() throws Exception {
        int n = (int) headerLength(valid);
        String header = new String(valid, 8, n, StandardCharsets.UTF_8).trim();
        String entry = JSON.writeValueAsString(JSON.readTree(header).get("transformer.ln_f.bias"));
        String twice = header.substring(0, header.length() - 1) + ",\"transformer.ln_f.bias\":" + entry + "}";
        assertFails(Reason.DUPLICATE_NAME, "transformer.ln_f.bias", () -> load(withHeaderText(valid, twice)));
        byte[] prefixed = withHeader(valid, h -> h.set("ln_f.bias", h.get("transformer.ln_f.bias").deepCopy()));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> load(prefixed));
        assertEquals(Reason.DUPLICATE_NAME, e.reason());
        assertTrue(e.subject().endsWith("ln_f.bias"), e.getMessage());
    }

    @Test
    void overlappingOffsets() throws Exception {
        byte[] file = withHeader(valid, h -> h.set("transformer.h.0.ln_1.bias", h.get("transformer.h.0.ln_1.weight").deepCopy()));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> load(file));
        assertEquals(Reason.OVERLAPPING_OFFSETS, e.reason());
        assertTrue(e.subject().startsWith("transformer.h.0.ln_1."), e.getMessage());
    }

    @Test
    void offsetsOutOfRange() throws Exception {
        long dataLength = valid.length - 8 - headerLength(valid);
        byte[] file = withHeader(valid, h -> {
            ArrayNode o = offsets(h, "transformer.h.1.ln_2.bias");
            o.removeAll();
            o.add(dataLength + 1000).add(dataLength + 1000 + 4L * config.nEmbd());
        });
        assertFails(Reason.OFFSET_OUT_OF_RANGE, "transformer.h.1.ln_2.bias", () -> load(file));
    }

    @Test
    void beginAfterEnd() throws Exception {
        byte[] file = withHeader(valid, h -> {
            ArrayNode o = offsets(h, "transformer.wpe.weight");
            long begin = o.get(0).asLong();
            long end = o.get(1).asLong();
            o.removeAll();
            o.add(end).add(begin);
        });
        assertFails(Reason.BAD_OFFSETS, "transformer.wpe.weight", () -> load(file));
    }

    @Test
    void sizeDoesNotMatchShape() throws Exception {
        byte[] file = withHeader(valid, h -> ((ArrayNode) h.get("transformer.h.0.mlp.c_fc.bias").get("shape")).set(0, 3));
        assertFails(Reason.SIZE_MISMATCH, "transformer.h.0.mlp.c_fc.bias", () -> load(file));
    }

    @Test
    void missingTensor() throws Exception {
        byte[] file = withHeader(valid, h -> h.remove("transformer.h.1.mlp.c_proj.weight"));
        assertFails(Reason.MISSING_TENSOR, "h.1.mlp.c_proj.weight", () -> load(file));
    }

    @Test
    void wrongShapeForTheConfig() throws Exception {
        // same byte count, other shape
        byte[] file = withHeader(valid, h -> {
            ArrayNode shape = (ArrayNode) h.get("transformer.wpe.weight").get("shape");
            shape.removeAll();
            shape.add(4).add(2 * config.nEmbd());
        });
        assertFails(Reason.WRONG_SHAPE, "transformer.wpe.weight", () -> load(file));
        Config wider = new Config(config.nLayer(), config.nHead(), config.nEmbd(), config.nInner(), 2 * config.nPositions(),
                config.vocabSize(), config.layerNormEpsilon(), 0, 0);
        assertFails(Reason.WRONG_SHAPE, "transformer.wpe.weight",
                () -> Weights.load(wider, Safetensors.open(new ByteArrayTensorSource(valid)), new JavaKernels()));
    }

    @Test
    void unsupportedDtype() throws Exception {
        byte[] integers = withHeader(valid, h -> ((ObjectNode) h.get("transformer.h.0.attn.c_proj.bias")).put("dtype", "I32"));
        assertFails(Reason.UNSUPPORTED_DTYPE, "transformer.h.0.attn.c_proj.bias", () -> load(integers));
        byte[] unknown = withHeader(valid, h -> ((ObjectNode) h.get("transformer.ln_f.weight")).put("dtype", "F7"));
        assertFails(Reason.UNSUPPORTED_DTYPE, "transformer.ln_f.weight", () -> load(unknown));
    }

    @Test
    void badEntries() throws Exception {
        byte[] noDtype = withHeader(valid, h -> ((ObjectNode) h.get("transformer.ln_f.weight")).remove("dtype"));
        assertFails(Reason.BAD_HEADER, "transformer.ln_f.weight", () -> load(noDtype));
        byte[] negative = withHeader(valid, h -> ((ArrayNode) h.get("transformer.ln_f.weight").get("shape")).set(0, -16));
        assertFails(Reason.BAD_HEADER, "transformer.ln_f.weight", () -> load(negative));
        byte[] metadata = withHeader(valid, h -> h.putObject("__metadata__").put("anything", "goes"));
        load(metadata);
    }

    @Test
    void halfPrecisionConversion() {
        assertEquals(1f, Safetensors.halfToFloat(0x3C00));
        assertEquals(-2f, Safetensors.halfToFloat(0xC000));
        assertEquals(65504f, Safetensors.halfToFloat(0x7BFF));
        assertEquals(0x1p-24f, Safetensors.halfToFloat(0x0001));
        assertEquals(-0x1.ff8p-15f, Safetensors.halfToFloat(0x83FF));
        assertEquals(Float.POSITIVE_INFINITY, Safetensors.halfToFloat(0x7C00));
        assertTrue(Float.isNaN(Safetensors.halfToFloat(0x7E00)));
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(Safetensors.halfToFloat(0x8000)));
    }
}
