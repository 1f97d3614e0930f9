package org.icgpt2.gpt2;

import java.nio.charset.StandardCharsets;

/**
 * Decodes tokens as they are generated. Byte-level tokens can end in the middle of a UTF-8 character; the bytes of an
 * incomplete character are held back until the rest arrives, so every returned piece is whole characters and the
 * pieces concatenate to {@link Tokenizer#decode} of all tokens.
 */
public final class TokenDecoder {
    private final Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    /** Bytes not yet returned: at most the 3 leading bytes of an incomplete character between calls. */
    private byte[] pending = new byte[64];
    private int pendingLength;

    TokenDecoder(Tokenizer tokenizer, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /** Adds a token; returns the text completed by it (possibly empty). */
    public String append(int id) {
        if (skipSpecialTokens && tokenizer.isSpecial(id)) {
            return "";
        }
        byte[] bytes = tokenizer.tokenBytes(id);
        if (pendingLength + bytes.length > pending.length) {
            byte[] grown = new byte[2 * (pendingLength + bytes.length)];
            System.arraycopy(pending, 0, grown, 0, pendingLength);
            pending = grown;
        }
        System.arraycopy(bytes, 0, pending, pendingLength, bytes.length);
        pendingLength += bytes.length;
        int complete = completePrefix(pending, pendingLength);
        String text = new String(pending, 0, complete, StandardCharsets.UTF_8);
        System.arraycopy(pending, complete, pending, 0, pendingLength - complete);
        pendingLength -= complete;
        return text;
    }

    /** Returns what is still held back (an incomplete character becomes U+FFFD) and resets. */
    public String finish() {
        String text = new String(pending, 0, pendingLength, StandardCharsets.UTF_8);
        pendingLength = 0;
        return text;
    }

    /**
     * Length of the prefix that can be decoded now: everything except a trailing lead byte plus fewer continuation
     * bytes than it announces. Invalid bytes are not held (they decode to U+FFFD either way).
     */
    static int completePrefix(byte[] b, int n) {
        for (int back = 1; back <= 3 && back <= n; back++) {
            int v = b[n - back] & 0xFF;
            if ((v & 0xC0) == 0x80) {
                continue; // continuation byte: look further back for the lead byte
            }
            int needed = v >= 0xF0 && v <= 0xF4 ? 4 : v >= 0xE0 && v < 0xF0 ? 3 : v >= 0xC2 && v < 0xE0 ? 2 : 1;
            return needed > back ? n - back : n;
        }
        return n;
    }
}
