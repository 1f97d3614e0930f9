package org.icgpt2.ic.candid;

import static org.icgpt2.ic.candid.CandidCodecTest.hex;
import static org.icgpt2.ic.candid.CandidType.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class CandidSubtypingTest {
    static byte[] encode(CandidType t, Object v) {
        return Candid.encode(new CandidType[] {t}, v);
    }

    static Object decodeAs(byte[] message, CandidType expected) {
        return Candid.decode(message, expected)[0];
    }

    static String errorOf(byte[] message, CandidType... expected) {
        return assertThrows(CandidException.class, () -> Candid.decode(message, expected)).getMessage();
    }

    @Test
    void extraRecordFieldsAreSkipped() {
        byte[] m = encode(record(field("a", NAT), field("b", TEXT), field("c", vec(BOOL))),
                new Record().put("a", 1L).put("b", "skip").put("c", List.of(true)));
        assertEquals(new Record().put("a", 1L), decodeAs(m, record(field("a", NAT))));
    }

    @Test
    void missingOptFieldsReadAsNullAndOthersFail() {
        byte[] m = encode(record(field("a", NAT)), new Record().put("a", 1L));
        Record r = (Record) decodeAs(m, record(field("a", NAT), field("z", opt(TEXT)), field("n", NULL), field("r", RESERVED)));
        assertEquals(Opt.NONE, r.get("z"));
        assertNull(r.get("n"));
        assertTrue(errorOf(m, record(field("a", NAT), field("z", TEXT))).contains("lacks field z"));
    }

    @Test
    void optCoercion() {
        assertEquals(Opt.some(5L), decodeAs(encode(NAT, 5L), opt(NAT)));
        assertEquals(Opt.some(5L), decodeAs(encode(NAT, 5L), opt(INT)));
        assertEquals(Opt.NONE, decodeAs(encode(TEXT, "x"), opt(NAT)));
        assertEquals(Opt.NONE, decodeAs(encode(opt(TEXT), Opt.some("x")), opt(NAT)));
        assertEquals(Opt.NONE, decodeAs(encode(NULL, null), opt(NAT)));
        assertEquals(Opt.NONE, decodeAs(encode(RESERVED, null), opt(NAT)));
        assertEquals(Opt.some(Opt.some(1L)), decodeAs(encode(NAT, 1L), opt(opt(NAT))));
        CandidType wide = variant(field("A", NULL), field("B", NULL));
        assertEquals(Opt.NONE, decodeAs(encode(wide, Variant.of("A", null)), opt(variant(field("A", NULL)))));
        assertEquals(Opt.some(List.of(Opt.some((byte) 1))), decodeAs(encode(vec(NAT8), new byte[] {1}), opt(vec(opt(NAT8)))));
    }

    @Test
    void natWidensToIntAndReservedTakesAnything() {
        assertEquals(-1L >>> 1, decodeAs(encode(NAT, Long.MAX_VALUE), INT));
        assertTrue(errorOf(encode(NAT, -1L), INT).contains("does not fit int64"));
        assertNull(decodeAs(encode(vec(TEXT), List.of("a")), RESERVED));
        assertTrue(errorOf(encode(INT, 1L), NAT).contains("expected nat"));
    }

    @Test
    void variantTagsMustBeExpected() {
        CandidType wide = variant(field("A", NULL), field("B", NAT));
        assertEquals(Variant.of("A", null), decodeAs(encode(wide, Variant.of("A", null)), variant(field("A", NULL))));
        assertTrue(errorOf(encode(wide, Variant.of("B", 1L)), variant(field("A", NULL))).contains("variant tag 66"));
    }

    @Test
    void argumentsExtraAndMissing() {
        byte[] m = Candid.encode(new CandidType[] {TEXT, NAT8}, "a", (byte) 1);
        assertArrayEquals(new Object[] {"a"}, Candid.decode(m, TEXT));
        assertArrayEquals(new Object[] {"a", (byte) 1, Opt.NONE, null}, Candid.decode(m, TEXT, NAT8, opt(TEXT), NULL));
        assertTrue(errorOf(m, TEXT, NAT8, TEXT).contains("missing argument 2"));
    }

    @Test
    void anyTypeTableLayout() {
        // Entry 0 (vec nat8) is shared by both fields, entry 1 is unused, the argument uses entry 2.
        byte[] m = hex("4449444c03 6d7b 6c00 6c02 0000 0100 01 02 01aa 00");
        Record r = (Record) decodeAs(m, tuple(BLOB, vec(NAT8)));
        assertArrayEquals(new byte[] {(byte) 0xaa}, (byte[]) r.get(0));
        assertArrayEquals(new byte[0], (byte[]) r.get(1));
        CandidReader reader = new CandidReader(hex("4449444c02 6d7b 6d01 01 00 02 0102 00"));
        assertArrayEquals(new byte[] {1, 2}, reader.blob());
        reader = new CandidReader(hex("4449444c01 6d7b 01 00 02 0102"));
        assertEquals(List.of(Opt.some((byte) 1), Opt.some((byte) 2)), reader.value(vec(opt(NAT8))));
    }

    @Test
    void recursiveWireTypeInAnyOrder() {
        // Entry 0: record {head: nat; tail: 1}, entry 1: opt 0; the list [1, 2] as opt record.
        CandidType list = recursive(self -> opt(record(field("head", NAT), field("tail", self))));
        int head = hash("head");
        int tail = hash("tail");
        assertTrue(Integer.compareUnsigned(head, tail) < 0);
        byte[] m = Candid.encode(new CandidType[] {list},
                Opt.some(new Record().put("head", 1L).put("tail", Opt.some(new Record().put("head", 2L).put("tail", Opt.NONE)))));
        String headLeb = lebHex(head);
        String tailLeb = lebHex(tail);
        byte[] reordered = hex("4449444c02 6c02" + headLeb + "7d" + tailLeb + "01 6e00 01 01 01 01 01 02 00");
        assertEquals(decodeAs(m, list), decodeAs(reordered, list));
    }

    static String lebHex(long v) {
        StringBuilder s = new StringBuilder();
        do {
            int b = (int) (v & 0x7f);
            v >>>= 7;
            s.append(String.format("%02x", v != 0 ? b | 0x80 : b));
        } while (v != 0);
        return s.toString();
    }

    @Test
    void malformedMessagesAreRejectedWithOffsets() {
        assertTrue(errorOf(hex("4449444d0000")).contains("DIDL"));
        assertTrue(errorOf(hex("4449444c016d7b0100 8080808080808080 10"), BLOB).contains("exceeds the remaining bytes"));
        assertTrue(errorOf(hex("4449444c016d7f0100 8080808080808080 10"), vec(NULL)).contains("decoding quota"));
        assertTrue(errorOf(hex("4449444c016d7f0100 ffffffffffffffffff7f"), vec(NULL)).contains("64 bits"));
        assertTrue(errorOf(hex("4449444c016d050100 00"), BLOB).contains("type reference 5"));
        assertTrue(errorOf(hex("4449444c00017e02"), BOOL).contains("bool byte 2"));
        assertTrue(errorOf(hex("4449444c016e7e010002"), opt(BOOL)).contains("opt tag 2"));
        assertTrue(errorOf(hex("4449444c000168011e" + "00".repeat(30)), PRINCIPAL).contains("at most 29"));
        assertTrue(errorOf(hex("4449444c00017102c328"), TEXT).contains("invalid UTF-8 in text (at byte 8)"));
        assertTrue(errorOf(hex("4449444c0001710141" + "00"), TEXT).contains("1 trailing bytes"));
        assertTrue(errorOf(hex("4449444c00017102eda0"), TEXT).contains("UTF-8"));
        assertTrue(errorOf(hex("4449444c017d0000"), NAT).contains("cannot head a type table entry"));
        assertTrue(errorOf(hex("4449444c016c01000001 00"), RESERVED).contains("nested deeper"));
        assertTrue(errorOf(hex("4449444c000171"), TEXT).contains("unexpected end"));
        assertTrue(errorOf(hex("4449444c016c020071007101 00 0161 0162"), RESERVED).contains("field id 0 is not"));
        // A chain of 300 opts, each referring to the next, holding a value 300 levels deep.
        StringBuilder table = new StringBuilder("4449444c" + lebHex(300));
        for (int i = 0; i < 300; i++) {
            table.append("6e").append(i == 299 ? "7f" : slebHex(i + 1));
        }
        table.append("0100").append("01".repeat(300));
        assertTrue(errorOf(hex(table.toString())).contains("nested deeper"));
    }

    static String slebHex(long v) {
        StringBuilder s = new StringBuilder();
        while (true) {
            int b = (int) (v & 0x7f);
            v >>= 7;
            if (v == 0 && (b & 0x40) == 0) {
                return s.append(String.format("%02x", b)).toString();
            }
            s.append(String.format("%02x", b | 0x80));
        }
    }

    @Test
    void futureTypesAreSkipped() {
        // Entry 0 is an unknown opcode -25 (0x67) with a 2-byte body; its value: 1 byte, 0 references.
        byte[] m = hex("4449444c01 67 02 abcd 02 00 7e 01 00 ff 01");
        Object[] v = Candid.decode(m, RESERVED, BOOL);
        assertEquals(true, v[1]);
        assertEquals(Opt.NONE, Candid.decode(m, opt(NAT), BOOL)[0]);
        assertTrue(errorOf(m, NAT).contains("expected nat"));
    }
}
