package org.icgpt2.ic.candid;

import static org.icgpt2.ic.candid.CandidType.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class CandidCodecTest {
    static final HexFormat HEX = HexFormat.of();
    static final CandidType RESULT_UNIT = variant(field("Ok", NULL), field("Err", TEXT));
    static final CandidType RESULT_TEXT = variant(field("Ok", TEXT), field("Err", TEXT));

    static byte[] hex(String s) {
        return HEX.parseHex(s.replace(" ", ""));
    }

    static void assertHex(String expected, byte[] actual) {
        assertEquals(expected.replace(" ", ""), HEX.formatHex(actual));
    }

    static void roundTrip(CandidType t, Object v) {
        byte[] bytes = Candid.encode(new CandidType[] {t}, v);
        Object atExpected = Candid.decode(bytes, t)[0];
        assertTrue(Values.equal(v, atExpected), t + ": " + Values.toString(v) + " came back as " + Values.toString(atExpected));
        Object atWire = Candid.decode(bytes)[0];
        assertTrue(Values.equal(v, atWire), t + ": " + Values.toString(v) + " came back as " + Values.toString(atWire));
    }

    @Test
    void hashesMatchTheReference() {
        assertEquals(17724, hash("Ok"));
        assertEquals(3456837, hash("Err"));
        assertEquals(142895325, hash("result"));
        assertEquals(3136699570L, hash("token_ids") & 0xFFFFFFFFL);
        assertEquals(2447841114L, hash("tokens") & 0xFFFFFFFFL);
    }

    @Test
    void workedEncodingsOfTheReference() {
        assertHex("4449444c0000", new CandidWriter().toBytes());
        assertHex("4449444c016d7b010003010203", new CandidWriter(BLOB).blob(new byte[] {1, 2, 3}).toBytes());
        assertHex("4449444c016d7903007b72 02 01000000 02000000 01 9a9999999999c93f",
                new CandidWriter(vec(NAT32), NAT8, FLOAT64).fixed32Vector(new int[] {1, 2}).fixed8(1).float64(0.2).toBytes());
        assertHex("4449444c0003717b72 02 6869 0a 9a9999999999c93f",
                new CandidWriter(TEXT, NAT8, FLOAT64).text("hi").fixed8(10).float64(0.2).toBytes());
        assertHex("4449444c016b02bc8a0171c5fed2017101000003616263",
                new CandidWriter(RESULT_TEXT).variantTag(RESULT_TEXT, "Ok").text("abc").toBytes());
        assertHex("4449444c016b02bc8a017fc5fed20171010000",
                Candid.encode(new CandidType[] {RESULT_UNIT}, Variant.of("Ok", null)));
        assertHex("4449444c0001780500000000000000", Candid.encode(new CandidType[] {NAT64}, 5L));
        CandidType inner = variant(field("Ok", vec(NAT32)), field("Err", TEXT));
        CandidType inferenceResult = variant(field("Ok", record(field("result", inner))), field("Err", TEXT));
        Object value = Variant.of("Ok", new Record().put("result", Variant.of("Ok", List.of(7))));
        byte[] bytes = Candid.encode(new CandidType[] {inferenceResult}, value);
        assertHex("4449444c04 6b02bc8a0101c5fed20171 6c01ddd1914402 6b02bc8a0103c5fed20171 6d79 0100 00 00 01 07000000", bytes);
        Record decoded = (Record) ((Variant) Candid.decode(bytes, inferenceResult)[0]).value();
        assertEquals(List.of(7), ((Variant) decoded.get("result")).value());
    }

    @Test
    void decodesTheSeedArgumentsWithTheFastReader() {
        CandidReader r = new CandidReader(hex("4449444c0003717b72 02 6869 0a 9a9999999999c93f"));
        assertEquals("hi", r.text());
        assertEquals(10, r.nat8());
        assertEquals(0.2, r.float64());
        r.end();
        r = new CandidReader(hex("4449444c016d7903007b72 02 01000000 02000000 01 9a9999999999c93f"));
        assertArrayEquals(new int[] {1, 2}, r.fixed32Vector(false));
        assertEquals(1, r.nat8());
        assertEquals(0.2, r.float64());
        r.end();
        r = new CandidReader(hex("4449444c016d7b010003010203"));
        assertArrayEquals(new byte[] {1, 2, 3}, r.blob());
        r.end();
    }

    @Test
    void roundTripsEveryType() {
        roundTrip(NULL, null);
        roundTrip(BOOL, true);
        roundTrip(BOOL, false);
        roundTrip(NAT, 0L);
        roundTrip(NAT, -1L); // 2^64 - 1
        roundTrip(INT, Long.MIN_VALUE);
        roundTrip(INT, Long.MAX_VALUE);
        roundTrip(INT, -64L);
        roundTrip(INT, 64L);
        roundTrip(NAT8, (byte) 255);
        roundTrip(NAT16, (short) 65535);
        roundTrip(NAT32, -1);
        roundTrip(NAT64, Long.MIN_VALUE);
        roundTrip(INT8, (byte) -128);
        roundTrip(INT16, (short) -32768);
        roundTrip(INT32, Integer.MIN_VALUE);
        roundTrip(INT64, -5L);
        roundTrip(FLOAT32, 1.5f);
        roundTrip(FLOAT64, Double.NEGATIVE_INFINITY);
        roundTrip(TEXT, "");
        roundTrip(TEXT, "héllo \u4e16\u754c \ud83d\ude00");
        roundTrip(RESERVED, null);
        roundTrip(PRINCIPAL, Principal.fromText("ryjl3-tyaaa-aaaaa-aaaba-cai"));
        roundTrip(PRINCIPAL, Principal.managementCanister());
        roundTrip(opt(NAT8), Opt.some((byte) 3));
        roundTrip(opt(NAT8), Opt.NONE);
        roundTrip(opt(opt(NULL)), Opt.some(Opt.NONE));
        roundTrip(BLOB, new byte[] {0, (byte) 200});
        roundTrip(vec(TEXT), List.of("a", "b"));
        roundTrip(vec(vec(BLOB)), List.of(List.of(new byte[] {1}), List.of()));
        roundTrip(record(field("a", NAT), field(5, TEXT)), new Record().put("a", 1L).put(5, "x"));
        roundTrip(tuple(INT, BOOL), Record.tuple(3L, true));
        roundTrip(variant(field("A", NULL), field("B", INT32)), Variant.of("B", 7));
        CandidType list = recursive(self -> opt(record(field("head", NAT), field("tail", self))));
        Object l = Opt.some(new Record().put("head", 1L).put("tail", Opt.some(new Record().put("head", 2L).put("tail", Opt.NONE))));
        roundTrip(list, l);
        byte[] listBytes = Candid.encode(new CandidType[] {list}, l);
        assertEquals(2, listBytes[4], "a recursive list needs two table entries: opt and record");
    }

    @Test
    void principalTextForm() {
        assertEquals("aaaaa-aa", Principal.managementCanister().toString());
        assertEquals("2vxsx-fae", Principal.of(new byte[] {4}).toString());
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 0, 2, 1, 1}, Principal.fromText("ryjl3-tyaaa-aaaaa-aaaba-cai").bytes());
        assertThrows(CandidException.class, () -> Principal.fromText("ryjl3-tyaaa-aaaaa-aaaba-caj"));
    }

    @Test
    void deduplicatesIdenticalTypesAndUsesPreOrder() {
        CandidType a = record(field("x", vec(NAT32)));
        CandidType b = record(field("x", vec(NAT32)));
        byte[] bytes = new CandidWriter(a, b, vec(NAT32)).vecLength(0).vecLength(0).vecLength(0).toBytes();
        // hash("x") = 120; the record (index 0) precedes its vec (index 1); b and the third argument reuse them.
        assertHex("4449444c02 6c01 78 01 6d79 03 00 00 01 000000", bytes);
    }
}
