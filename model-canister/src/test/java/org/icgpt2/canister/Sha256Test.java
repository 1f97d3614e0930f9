package org.icgpt2.canister;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Sha256Test {
    @Test
    void matchesJdkDigestForRandomChunkingAndSavedState() throws Exception {
        Random random = new Random(7);
        for (int trial = 0; trial < 200; trial++) {
            byte[] data = new byte[random.nextInt(3000)];
            random.nextBytes(data);
            Sha256 ours = new Sha256();
            int pos = 0;
            while (pos < data.length) {
                int len = Math.min(data.length - pos, random.nextInt(200));
                ours.update(data, pos, len);
                pos += len;
                if (random.nextInt(4) == 0) {
                    // Round-trip through the serialized form, as an upload does between chunks.
                    byte[] state = new byte[Sha256.STATE_BYTES];
                    ours.saveTo(state, 0);
                    ours = new Sha256();
                    ours.loadFrom(state, 0);
                }
            }
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(data), ours.digest(), "length " + data.length);
        }
    }

    @Test
    void digestDoesNotDisturbTheRunningState() throws Exception {
        byte[] data = "abcdefghijklmnopqrstuvwxyz".repeat(10).getBytes();
        Sha256 ours = new Sha256();
        ours.update(data, 0, 100);
        ours.digest();
        ours.update(data, 100, data.length - 100);
        assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(data), ours.digest());
    }
}
