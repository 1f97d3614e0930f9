package org.icgpt2.canister;

import java.nio.ByteBuffer;

/**
 * Unguessable session ids: HMAC-SHA256 of a counter under a 32-byte secret, the secret kept in stable memory across
 * upgrades. Seeing any number of ids tells nothing about the next one without the secret (unlike splitmix64, whose
 * state two outputs reveal).
 *
 * <p>Where the secret's entropy comes from: on mainnet the management canister's {@code raw_rand} would be the source,
 * but it needs an inter-canister call, which the local replica does not have. So the secret is message data (time,
 * caller, arguments, canister id, cycle balance) through SHA-256 at install, and every id's message is mixed in again
 * ({@link #next}). That data is not secret from a patient attacker who knows the install time to the nanosecond, so
 * sessions do not rely on it alone: a session answers only to the principal that opened it, and anonymous callers
 * get none.
 */
final class SessionIds {
    static final int SECRET_BYTES = 32;
    private static final int BLOCK = 64;

    private byte[] secret;
    private long counter;

    private SessionIds(byte[] secret, long counter) {
        this.secret = secret;
        this.counter = counter;
    }

    /** A new secret from {@code seedMaterial} (the install message's data) through SHA-256. */
    static SessionIds seeded(byte[] seedMaterial) {
        return new SessionIds(sha256(seedMaterial), 0);
    }

    /**
     * The next id, a non-negative 63-bit number (Candid nat64 for every client, JavaScript included, as a BigInt).
     * {@code entropy} (the opening message's time and caller) is mixed into the secret first.
     */
    long next(byte[] entropy) {
        secret = sha256(concat(secret, entropy));
        counter++;
        byte[] mac = hmac(secret, ByteBuffer.allocate(8).putLong(counter).array());
        return ByteBuffer.wrap(mac).getLong() & Long.MAX_VALUE;
    }

    byte[] toBytes() {
        return ByteBuffer.allocate(SECRET_BYTES + 8).put(secret).putLong(counter).array();
    }

    /** @throws IllegalArgumentException if the bytes are not saved session-id state */
    static SessionIds fromBytes(byte[] bytes) {
        if (bytes.length != SECRET_BYTES + 8) {
            throw new IllegalArgumentException("not saved session-id state");
        }
        ByteBuffer in = ByteBuffer.wrap(bytes);
        byte[] secret = new byte[SECRET_BYTES];
        in.get(secret);
        return new SessionIds(secret, in.getLong());
    }

    /** HMAC-SHA256 (RFC 2104) with a key of at most one block. */
    static byte[] hmac(byte[] key, byte[] message) {
        byte[] inner = new byte[BLOCK];
        byte[] outer = new byte[BLOCK];
        for (int i = 0; i < BLOCK; i++) {
            byte k = i < key.length ? key[i] : 0;
            inner[i] = (byte) (k ^ 0x36);
            outer[i] = (byte) (k ^ 0x5c);
        }
        return sha256(concat(outer, sha256(concat(inner, message))));
    }

    private static byte[] sha256(byte[] data) {
        Sha256 digest = new Sha256();
        digest.update(data, 0, data.length);
        return digest.digest();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
