package org.icgpt2.ic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.teavm.interop.Import;

/** {@link Ic0}'s natives import exactly what platform/ic0-imports.json (the IC System API) lists. */
class Ic0ImportsTest {
    /** Tests run in model-canister/. */
    private static final Path TABLE = Path.of("").toAbsolutePath().getParent().resolve("platform/ic0-imports.json");

    @Test
    void ic0BindingsMatchTheTable() throws IOException {
        assertEquals(List.of(), problems(Ic0.class, table()));
    }

    /** Guards the check above against passing vacuously. */
    @Test
    void theCheckSeesIc0sNatives() {
        long natives = Arrays.stream(Ic0.class.getDeclaredMethods()).filter(m -> Modifier.isNative(m.getModifiers())).count();
        assertTrue(natives >= 10, "Ic0 declares " + natives + " natives");
    }

    @Test
    void reportsBindingsThatDisagreeWithTheTable() throws IOException {
        List<String> problems = problems(WrongBindings.class, table());
        assertEquals(4, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("msg_arg_data_size") && problems.get(0).contains("(->i64)"), problems.get(0));
        assertTrue(problems.get(1).contains("instruction_counter") && problems.get(1).contains("not in"), problems.get(1));
        assertTrue(problems.get(2).contains("kernels.dot"), problems.get(2));
        assertTrue(problems.get(3).contains("stable64Read") && problems.get(3).contains("(i32,i64,i64->)"), problems.get(3));
    }

    private static JsonNode table() throws IOException {
        return new ObjectMapper().readTree(TABLE.toFile()).get("imports");
    }

    /** Every native of {@code bindings} must be an {@code @Import} of a table entry with the table's Wasm signature. */
    private static List<String> problems(Class<?> bindings, JsonNode table) {
        List<String> problems = new ArrayList<>();
        Method[] methods = bindings.getDeclaredMethods();
        Arrays.sort(methods, (a, b) -> a.getName().compareTo(b.getName()));
        for (Method method : methods) {
            if (!Modifier.isNative(method.getModifiers())) {
                continue;
            }
            Import annotation = method.getAnnotation(Import.class);
            String signature = Arrays.stream(method.getParameterTypes()).map(Ic0ImportsTest::wasmType)
                    .collect(Collectors.joining(",")) + "->" + (method.getReturnType() == void.class ? "" : wasmType(method.getReturnType()));
            if (annotation == null || !annotation.module().equals("ic0")) {
                problems.add(method.getName() + " is not an ic0 import: "
                        + (annotation == null ? "no @Import" : annotation.module() + "." + annotation.name()));
            } else if (!table.has(annotation.name())) {
                problems.add(method.getName() + " imports ic0." + annotation.name() + ", which is not in " + TABLE.getFileName());
            } else {
                JsonNode entry = table.get(annotation.name());
                String expected = join(entry.get("params")) + "->" + join(entry.get("results"));
                if (!expected.equals(signature)) {
                    problems.add(method.getName() + " imports ic0." + annotation.name() + " as (" + signature
                            + "), the table says (" + expected + ")");
                }
            }
        }
        return problems;
    }

    private static String join(JsonNode types) {
        List<String> names = new ArrayList<>();
        types.forEach(t -> names.add(t.asText()));
        return String.join(",", names);
    }

    /** Java types of the wasm32 ABI TeaVM uses for imports (pointers are int addresses). */
    private static String wasmType(Class<?> type) {
        if (type == int.class) {
            return "i32";
        }
        if (type == long.class) {
            return "i64";
        }
        return type.getName();
    }

    /** One disagreement of each kind, in method-name order. */
    @SuppressWarnings("unused")
    private static final class WrongBindings {
        @Import(module = "ic0", name = "msg_arg_data_size")
        static native long a();

        @Import(module = "ic0", name = "instruction_counter")
        static native long b();

        @Import(module = "kernels", name = "dot")
        static native float c(int a, int b, int n);

        @Import(module = "ic0", name = "stable64_read")
        static native void stable64Read(int dst, long offset, long size);
    }
}
