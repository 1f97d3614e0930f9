package org.icgpt2.canister;

/**
 * Streaming SHA-256 (FIPS 180-4) whose whole state fits in a few words, so an upload's running digest
 * can be saved to stable memory between chunks and survive upgrades. TeaVM has no MessageDigest.
 */
final class Sha256 {
    private static final int[] K = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

    /** Serialized size: 8 state words, the byte count, and the unprocessed tail of at most 63 bytes. */
    static final int STATE_BYTES = 8 * 4 + 8 + 64;

    private final int[] h = new int[8];
    private final byte[] tail = new byte[64];
    private final int[] w = new int[64];
    private long length;

    Sha256() {
        reset();
    }

    void reset() {
        h[0] = 0x6a09e667; h[1] = 0xbb67ae85; h[2] = 0x3c6ef372; h[3] = 0xa54ff53a;
        h[4] = 0x510e527f; h[5] = 0x9b05688c; h[6] = 0x1f83d9ab; h[7] = 0x5be0cd19;
        length = 0;
    }

    long length() {
        return length;
    }

    void update(byte[] data, int off, int len) {
        int used = (int) (length & 63);
        length += len;
        if (used > 0) {
            int take = Math.min(64 - used, len);
            System.arraycopy(data, off, tail, used, take);
            off += take;
            len -= take;
            if (used + take < 64) {
                return;
            }
            compress(tail, 0);
        }
        while (len >= 64) {
            compress(data, off);
            off += 64;
            len -= 64;
        }
        System.arraycopy(data, off, tail, 0, len);
    }

    /** The digest of everything so far; the running state is left unchanged. */
    byte[] digest() {
        int[] saved = h.clone();
        byte[] savedTail = tail.clone();
        long savedLength = length;
        byte[] pad = new byte[72];
        pad[0] = (byte) 0x80;
        int padLen = (int) ((55 - (length & 63)) & 63) + 1;
        long bits = length << 3;
        for (int i = 0; i < 8; i++) {
            pad[padLen + i] = (byte) (bits >>> (56 - 8 * i));
        }
        update(pad, 0, padLen + 8);
        byte[] out = new byte[32];
        for (int i = 0; i < 8; i++) {
            putInt(out, 4 * i, h[i]);
        }
        System.arraycopy(saved, 0, h, 0, 8);
        System.arraycopy(savedTail, 0, tail, 0, 64);
        length = savedLength;
        return out;
    }

    void saveTo(byte[] dst, int off) {
        for (int i = 0; i < 8; i++) {
            putInt(dst, off + 4 * i, h[i]);
        }
        putInt(dst, off + 32, (int) (length >>> 32));
        putInt(dst, off + 36, (int) length);
        System.arraycopy(tail, 0, dst, off + 40, 64);
    }

    void loadFrom(byte[] src, int off) {
        for (int i = 0; i < 8; i++) {
            h[i] = getInt(src, off + 4 * i);
        }
        length = ((long) getInt(src, off + 32) << 32) | (getInt(src, off + 36) & 0xffffffffL);
        System.arraycopy(src, off + 40, tail, 0, 64);
    }

    private void compress(byte[] block, int off) {
        int[] w = this.w;
        for (int i = 0; i < 16; i++) {
            w[i] = getInt(block, off + 4 * i);
        }
        for (int i = 16; i < 64; i++) {
            int s0 = Integer.rotateRight(w[i - 15], 7) ^ Integer.rotateRight(w[i - 15], 18) ^ (w[i - 15] >>> 3);
            int s1 = Integer.rotateRight(w[i - 2], 17) ^ Integer.rotateRight(w[i - 2], 19) ^ (w[i - 2] >>> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        int a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
        for (int i = 0; i < 64; i++) {
            int t1 = hh + (Integer.rotateRight(e, 6) ^ Integer.rotateRight(e, 11) ^ Integer.rotateRight(e, 25))
                    + ((e & f) ^ (~e & g)) + K[i] + w[i];
            int t2 = (Integer.rotateRight(a, 2) ^ Integer.rotateRight(a, 13) ^ Integer.rotateRight(a, 22))
                    + ((a & b) ^ (a & c) ^ (b & c));
            hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
        }
        h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
    }

    private static int getInt(byte[] b, int off) {
        return (b[off] << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
    }

    private static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }
}
