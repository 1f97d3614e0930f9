package org.icgpt2.gpt2;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Utf8Test {
    /** The Unicode standard's own example (chapter 3, "U+FFFD Substitution of Maximal Subparts", table 3-8). */
    @Test
    void replacesMaximalSubpartsAsTheUnicodeStandardShows() {
        byte[] bytes = {0x61, (byte) 0xF1, (byte) 0x80, (byte) 0x80, (byte) 0xE1, (byte) 0x80, (byte) 0xC2, 0x62,
            (byte) 0x80, 0x63, (byte) 0x80, (byte) 0xBF, 0x64};
        assertEquals("a\uFFFD\uFFFD\uFFFDb\uFFFDc\uFFFD\uFFFDd", Utf8.decode(bytes, 0, bytes.length));
        // An encoded surrogate (ED A0..BF) is no valid prefix: each byte is replaced on its own (as in Rust).
        byte[] surrogate = {(byte) 0xED, (byte) 0xA0, (byte) 0x80, 0x7A};
        assertEquals("\uFFFD\uFFFD\uFFFDz", Utf8.decode(surrogate, 0, surrogate.length));
    }

    /**
     * The JDK decoder follows the same practice except for encoded surrogates (it replaces ED A0..BF xx as one unit),
     * so the two must agree on every input without them.
     */
    @Test
    void agreesWithTheJdkOnRandomAndTruncatedBytes() {
        Random random = new Random(11);
        byte[] interesting = {(byte) 0xC0, (byte) 0xC2, (byte) 0xDF, (byte) 0xE0, (byte) 0xED, (byte) 0xEF, (byte) 0xF0,
            (byte) 0xF4, (byte) 0xF5, (byte) 0x80, (byte) 0x8F, (byte) 0x90, (byte) 0x9F, (byte) 0xA0, (byte) 0xBF, 'a'};
        for (int trial = 0; trial < 20000; trial++) {
            byte[] bytes = new byte[random.nextInt(12)];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = random.nextBoolean() ? interesting[random.nextInt(interesting.length)] : (byte) random.nextInt(256);
            }
            if (!hasEncodedSurrogate(bytes)) {
                assertEquals(new String(bytes, StandardCharsets.UTF_8), Utf8.decode(bytes, 0, bytes.length), () -> hex(bytes));
            }
        }
        byte[] text = "Grüße 東京 🦀 ok".getBytes(StandardCharsets.UTF_8);
        for (int cut = 0; cut <= text.length; cut++) {
            assertEquals(new String(text, 0, cut, StandardCharsets.UTF_8), Utf8.decode(text, 0, cut));
        }
    }

    private static boolean hasEncodedSurrogate(byte[] bytes) {
        for (int i = 0; i + 1 < bytes.length; i++) {
            if (bytes[i] == (byte) 0xED && (bytes[i + 1] & 0xff) >= 0xA0 && (bytes[i + 1] & 0xff) <= 0xBF) {
                return true;
            }
        }
        return false;
    }

    private static String hex(byte[] bytes) {
        StringBuilder s = new StringBuilder();
        for (byte b : bytes) {
            s.append(String.format("%02x ", b));
        }
        return s.toString();
    }
}
