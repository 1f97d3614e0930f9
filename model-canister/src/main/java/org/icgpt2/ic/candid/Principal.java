package org.icgpt2.ic.candid;

import java.util.Arrays;

/** An IC principal: up to 29 raw bytes; text form is base32(crc32 big-endian ++ bytes) in dash-separated groups of 5. */
public final class Principal {
    public static final int MAX_LENGTH = 29;
    private static final String BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

    private final byte[] bytes;

    /** Takes ownership of {@code bytes}, at most {@link #MAX_LENGTH} long. */
    Principal(byte[] bytes) {
        this.bytes = bytes;
    }

    public static Principal of(byte[] bytes) {
        if (bytes.length > MAX_LENGTH) {
            throw new CandidException("principal is " + bytes.length + " bytes, at most " + MAX_LENGTH + " allowed");
        }
        return new Principal(bytes.clone());
    }

    /** The management canister {@code aaaaa-aa}. */
    public static Principal managementCanister() {
        return new Principal(new byte[0]);
    }

    public static Principal fromText(String text) {
        byte[] decoded = new byte[text.length() * 5 / 8];
        int n = 0;
        int acc = 0;
        int bits = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '-') {
                continue;
            }
            int v = BASE32.indexOf(c);
            if (v < 0) {
                throw new CandidException("invalid character '" + c + "' in principal " + text);
            }
            acc = (acc << 5) | v;
            bits += 5;
            if (bits >= 8) {
                bits -= 8;
                decoded[n++] = (byte) (acc >> bits);
            }
        }
        if (n < 4 || n - 4 > MAX_LENGTH) {
            throw new CandidException("principal text has a wrong length: " + text);
        }
        Principal p = new Principal(Arrays.copyOfRange(decoded, 4, n));
        if (!p.toString().equals(text)) {
            throw new CandidException("principal text is not canonical or fails its checksum: " + text);
        }
        return p;
    }

    public byte[] bytes() {
        return bytes.clone();
    }

    byte[] rawBytes() {
        return bytes;
    }

    @Override
    public String toString() {
        int crc = crc32(bytes);
        byte[] data = new byte[bytes.length + 4];
        data[0] = (byte) (crc >>> 24);
        data[1] = (byte) (crc >>> 16);
        data[2] = (byte) (crc >>> 8);
        data[3] = (byte) crc;
        System.arraycopy(bytes, 0, data, 4, bytes.length);
        StringBuilder s = new StringBuilder();
        int acc = 0;
        int bits = 0;
        int digits = 0;
        for (byte b : data) {
            acc = (acc << 8) | (b & 0xFF);
            bits += 8;
            while (bits >= 5) {
                bits -= 5;
                digits = appendDigit(s, (acc >> bits) & 31, digits);
            }
        }
        if (bits > 0) {
            appendDigit(s, (acc << (5 - bits)) & 31, digits);
        }
        return s.toString();
    }

    private static int appendDigit(StringBuilder s, int digit, int digits) {
        if (digits > 0 && digits % 5 == 0) {
            s.append('-');
        }
        s.append(BASE32.charAt(digit));
        return digits + 1;
    }

    /** CRC-32 (IEEE, reflected); bitwise because principals are at most 29 bytes. */
    private static int crc32(byte[] data) {
        int crc = 0xFFFFFFFF;
        for (byte b : data) {
            crc ^= b & 0xFF;
            for (int k = 0; k < 8; k++) {
                crc = (crc >>> 1) ^ (0xEDB88320 & -(crc & 1));
            }
        }
        return ~crc;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Principal && Arrays.equals(bytes, ((Principal) o).bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }
}
