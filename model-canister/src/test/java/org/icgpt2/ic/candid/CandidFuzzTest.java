package org.icgpt2.ic.candid;

import static org.icgpt2.ic.candid.CandidType.*;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Malformed input either decodes or throws CandidException: never another exception, a hang or an OutOfMemoryError. */
class CandidFuzzTest {
    static final CandidType LIST = recursive(self -> opt(record(field("head", NAT), field("tail", self))));
    static final CandidType[][] SIGNATURES = {
        {TEXT, NAT8, FLOAT64},
        {vec(NAT32), NAT8, FLOAT64},
        {BLOB},
        {variant(field("Ok", record(field("result", variant(field("Ok", vec(NAT32)), field("Err", TEXT))))), field("Err", TEXT))},
        {LIST, opt(vec(opt(INT))), PRINCIPAL},
        {record(field("a", vec(NULL)), field("b", opt(TEXT)), field("c", RESERVED))},
    };

    static byte[] validMessage(Random random, int signature) {
        CandidType[] types = SIGNATURES[signature];
        switch (signature) {
            case 0: return Candid.encode(types, "hello", (byte) 3, 0.5);
            case 1: return Candid.encode(types, new int[] {1, 2, 3}, (byte) 1, 0.2);
            case 2: return Candid.encode(types, (Object) new byte[] {1, 2, 3, 4});
            case 3: return Candid.encode(types, Variant.of("Ok", new Record().put("result", Variant.of("Err", "x"))));
            case 4: return Candid.encode(types, Opt.some(new Record().put("head", 1L).put("tail", Opt.NONE)),
                    Opt.some(List.of(Opt.some(-5L), Opt.NONE)), Principal.fromText("aaaaa-aa"));
            default: return Candid.encode(types, new Record().put("a", Arrays.asList(null, null)).put("b", Opt.some("t")));
        }
    }

    static byte[] mutate(Random random, byte[] m) {
        byte[] b = m.clone();
        switch (random.nextInt(5)) {
            case 0:
                for (int k = 1 + random.nextInt(3); k > 0; k--) {
                    b[random.nextInt(b.length)] ^= (byte) (1 << random.nextInt(8));
                }
                return b;
            case 1:
                return Arrays.copyOf(b, random.nextInt(b.length));
            case 2: {
                // A huge LEB128 (2^60 or so) spliced in where a length or count may be.
                int at = 4 + random.nextInt(b.length - 4);
                byte[] huge = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80,
                    (byte) 0x80, (byte) (0x10 + random.nextInt(0x60))};
                byte[] out = new byte[b.length + huge.length];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(huge, 0, out, at, huge.length);
                System.arraycopy(b, at, out, at + huge.length, b.length - at);
                return out;
            }
            case 3:
                b[4 + random.nextInt(b.length - 4)] = (byte) random.nextInt();
                return b;
            default: {
                byte[] out = Arrays.copyOf(b, b.length + 1 + random.nextInt(4));
                for (int i = b.length; i < out.length; i++) {
                    out[i] = (byte) random.nextInt();
                }
                return out;
            }
        }
    }

    static void decodeOrReject(byte[] m, CandidType[] types) {
        try {
            Candid.decode(m, types);
        } catch (CandidException expected) {
            assertNotNull(expected.getMessage());
        }
        try {
            Candid.decode(m);
        } catch (CandidException expected) {
            assertNotNull(expected.getMessage());
        }
    }

    @Test
    void randomAndMutatedMessages() {
        Random random = new Random(42);
        List<byte[]> inputs = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            byte[] b = new byte[random.nextInt(40)];
            random.nextBytes(b);
            if (random.nextBoolean() && b.length >= 4) {
                b[0] = 'D';
                b[1] = 'I';
                b[2] = 'D';
                b[3] = 'L';
            }
            inputs.add(b);
        }
        for (int i = 0; i < 6000; i++) {
            inputs.add(mutate(random, validMessage(random, i % SIGNATURES.length)));
        }
        assertTimeoutPreemptively(Duration.ofSeconds(15), () -> {
            for (int i = 0; i < inputs.size(); i++) {
                long start = System.nanoTime();
                decodeOrReject(inputs.get(i), SIGNATURES[i % SIGNATURES.length]);
                assertTrue(System.nanoTime() - start < 2_000_000_000L, "input " + i + " took over 2 s");
            }
        });
    }

    @Test
    void hugeLengthsDoNotAllocate() {
        byte[] vecNull = CandidCodecTest.hex("4449444c016d7f0100 ffffffffffffffff0f");
        assertThrows(CandidException.class, () -> Candid.decode(vecNull, vec(NULL)));
        assertThrows(CandidException.class, () -> Candid.decode(vecNull, RESERVED));
        byte[] vecReserved = CandidCodecTest.hex("4449444c016d700100 80808080808080808001");
        assertThrows(CandidException.class, () -> Candid.decode(vecReserved));
        // Within the quota, a vec null of a million elements is fine when skipped.
        byte[] million = CandidCodecTest.hex("4449444c016d7f0100 c0843d");
        assertArrayEquals(new Object[] {null}, Candid.decode(million, RESERVED));
    }
}
