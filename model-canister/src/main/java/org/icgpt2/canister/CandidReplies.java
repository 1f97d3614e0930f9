package org.icgpt2.canister;

import java.nio.charset.StandardCharsets;

/** Hand-encoded Candid replies for the stub methods, until the Candid codec (org.icgpt2.ic.candid) lands. */
final class CandidReplies {
    private static final byte TYPE_TEXT = 0x71;

    private CandidReplies() {
    }

    /** {@code (text)}: "DIDL", no type table, one argument of type text, then LEB128 length and UTF-8. */
    static byte[] text(String value) {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        byte[] length = new byte[5];
        int lengthBytes = 0;
        int rest = utf8.length;
        do {
            int b = rest & 0x7F;
            rest >>>= 7;
            length[lengthBytes++] = (byte) (rest != 0 ? b | 0x80 : b);
        } while (rest != 0);
        byte[] message = new byte[7 + lengthBytes + utf8.length];
        message[0] = 'D';
        message[1] = 'I';
        message[2] = 'D';
        message[3] = 'L';
        message[4] = 0;
        message[5] = 1;
        message[6] = TYPE_TEXT;
        System.arraycopy(length, 0, message, 7, lengthBytes);
        System.arraycopy(utf8, 0, message, 7 + lengthBytes, utf8.length);
        return message;
    }
}
