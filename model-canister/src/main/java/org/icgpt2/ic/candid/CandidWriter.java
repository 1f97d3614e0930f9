package org.icgpt2.ic.candid;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes one Candid message: the constructor writes the header ({@code DIDL}, type table, argument types),
 * then the argument values follow in order, through the typed methods (no boxing, for replies the canister
 * sends often) or {@link #value} (any value of the value model). The writer trusts the typed calls to match
 * the declared types; {@link #value} checks each value against its type.
 */
public final class CandidWriter {
    private static final int MAX_TYPE_DEPTH = 1000;

    private byte[] buf = new byte[64];
    private int size;

    public CandidWriter(CandidType... argTypes) {
        List<CandidType> table = new ArrayList<>();
        for (CandidType t : argTypes) {
            collect(table, t, 0);
        }
        write((byte) 'D');
        write((byte) 'I');
        write((byte) 'D');
        write((byte) 'L');
        leb(table.size());
        for (CandidType t : table) {
            sleb(t.opcode);
            if (t.opcode == CandidType.OPT_OP || t.opcode == CandidType.VEC_OP) {
                typeRef(table, t.element);
            } else {
                leb(t.fieldIds.length);
                for (int i = 0; i < t.fieldIds.length; i++) {
                    leb(t.fieldIds[i] & 0xFFFFFFFFL);
                    typeRef(table, t.fieldTypes[i]);
                }
            }
        }
        leb(argTypes.length);
        for (CandidType t : argTypes) {
            typeRef(table, t);
        }
    }

    /** Adds composite types in pre-order (parent before children), once per structurally distinct type. */
    private static void collect(List<CandidType> table, CandidType t, int depth) {
        if (t.isPrimitive() || indexOf(table, t) >= 0) {
            return;
        }
        if (t.opcode < CandidType.VARIANT_OP || t.opcode > CandidType.OPT_OP) {
            throw new CandidException("cannot encode a value of type " + t);
        }
        if (depth > MAX_TYPE_DEPTH) {
            throw new CandidException("type nesting deeper than " + MAX_TYPE_DEPTH);
        }
        table.add(t);
        if (t.element != null) {
            collect(table, t.element, depth + 1);
        }
        for (CandidType f : t.fieldTypes) {
            collect(table, f, depth + 1);
        }
    }

    private static int indexOf(List<CandidType> table, CandidType t) {
        for (int i = 0; i < table.size(); i++) {
            if (sameType(table.get(i), t, new ArrayList<>())) {
                return i;
            }
        }
        return -1;
    }

    /** Structural equality that terminates on recursive types: a pair under comparison is assumed equal. */
    private static boolean sameType(CandidType a, CandidType b, List<CandidType> assumed) {
        if (a == b) {
            return true;
        }
        if (a.opcode != b.opcode || a.isPrimitive() || !java.util.Arrays.equals(a.fieldIds, b.fieldIds)) {
            return false;
        }
        for (int i = 0; i < assumed.size(); i += 2) {
            if (assumed.get(i) == a && assumed.get(i + 1) == b) {
                return true;
            }
        }
        assumed.add(a);
        assumed.add(b);
        if (a.element != null && !sameType(a.element, b.element, assumed)) {
            return false;
        }
        for (int i = 0; i < a.fieldTypes.length; i++) {
            if (!sameType(a.fieldTypes[i], b.fieldTypes[i], assumed)) {
                return false;
            }
        }
        return true;
    }

    private void typeRef(List<CandidType> table, CandidType t) {
        sleb(t.isPrimitive() ? t.opcode : indexOf(table, t));
    }

    public byte[] toBytes() {
        return java.util.Arrays.copyOf(buf, size);
    }

    public int size() {
        return size;
    }

    // ---- typed values ----

    public CandidWriter bool(boolean v) {
        return write((byte) (v ? 1 : 0));
    }

    /** A {@code nat} below 2^64; v is read as unsigned. */
    public CandidWriter nat(long v) {
        leb(v);
        return this;
    }

    public CandidWriter integer(long v) {
        sleb(v);
        return this;
    }

    /** nat8 or int8 (the low 8 bits of v). */
    public CandidWriter fixed8(int v) {
        return write((byte) v);
    }

    /** nat16 or int16 (the low 16 bits of v). */
    public CandidWriter fixed16(int v) {
        ensure(2);
        buf[size++] = (byte) v;
        buf[size++] = (byte) (v >> 8);
        return this;
    }

    /** nat32 or int32. */
    public CandidWriter fixed32(int v) {
        ensure(4);
        putInt(v);
        return this;
    }

    /** nat64 or int64. */
    public CandidWriter fixed64(long v) {
        ensure(8);
        putInt((int) v);
        putInt((int) (v >>> 32));
        return this;
    }

    public CandidWriter float32(float v) {
        return fixed32(Float.floatToRawIntBits(v));
    }

    public CandidWriter float64(double v) {
        return fixed64(Double.doubleToRawLongBits(v));
    }

    public CandidWriter text(String v) {
        return blob(v.getBytes(StandardCharsets.UTF_8));
    }

    /** A {@code blob} ({@code vec nat8}): length, then the bytes in one copy. */
    public CandidWriter blob(byte[] v) {
        return blob(v, 0, v.length);
    }

    public CandidWriter blob(byte[] v, int offset, int length) {
        leb(length);
        ensure(length);
        System.arraycopy(v, offset, buf, size, length);
        size += length;
        return this;
    }

    /** A {@code vec nat32} or {@code vec int32}. */
    public CandidWriter fixed32Vector(int[] v) {
        leb(v.length);
        ensure(4 * v.length);
        for (int x : v) {
            putInt(x);
        }
        return this;
    }

    public CandidWriter principal(Principal p) {
        write((byte) 1);
        return blob(p.rawBytes());
    }

    /** The opt tag: false for {@code null}, true when the content value follows. */
    public CandidWriter optTag(boolean present) {
        return write((byte) (present ? 1 : 0));
    }

    /** The length of a vec; the elements follow. */
    public CandidWriter vecLength(int length) {
        leb(length);
        return this;
    }

    /** Selects the tag {@code tagName} of {@code variantType}; the tag's value follows. */
    public CandidWriter variantTag(CandidType variantType, String tagName) {
        int i = variantType.fieldIndex(CandidType.hash(tagName));
        if (i < 0) {
            throw new CandidException("variant has no tag " + tagName + ": " + variantType);
        }
        leb(i);
        return this;
    }

    // ---- any value of the value model ----

    /** Writes {@code v}, checking that it is a value of type {@code t} (see {@link Candid} for the value model). */
    public CandidWriter value(CandidType t, Object v) {
        try {
            writeValue(t, v);
        } catch (ClassCastException | NullPointerException e) {
            throw new CandidException("value " + Values.toString(v) + " does not fit type " + t);
        }
        return this;
    }

    private void writeValue(CandidType t, Object v) {
        switch (t.opcode) {
            case CandidType.NULL_OP:
            case CandidType.RESERVED_OP:
                return;
            case CandidType.BOOL_OP:
                bool((Boolean) v);
                return;
            case CandidType.NAT_OP:
                nat(((Number) v).longValue());
                return;
            case CandidType.INT_OP:
                integer(((Number) v).longValue());
                return;
            case CandidType.NAT8_OP:
            case CandidType.INT8_OP:
                fixed8(((Number) v).intValue());
                return;
            case CandidType.NAT16_OP:
            case CandidType.INT16_OP:
                fixed16(((Number) v).intValue());
                return;
            case CandidType.NAT32_OP:
            case CandidType.INT32_OP:
                fixed32(((Number) v).intValue());
                return;
            case CandidType.NAT64_OP:
            case CandidType.INT64_OP:
                fixed64(((Number) v).longValue());
                return;
            case CandidType.FLOAT32_OP:
                float32(((Number) v).floatValue());
                return;
            case CandidType.FLOAT64_OP:
                float64(((Number) v).doubleValue());
                return;
            case CandidType.TEXT_OP:
                text((String) v);
                return;
            case CandidType.PRINCIPAL_OP:
                principal((Principal) v);
                return;
            case CandidType.OPT_OP:
                Opt o = v == null ? Opt.NONE : (Opt) v;
                optTag(o.isPresent());
                if (o.isPresent()) {
                    writeValue(t.element, o.get());
                }
                return;
            case CandidType.VEC_OP:
                writeVector(t.element, v);
                return;
            case CandidType.RECORD_OP:
                Record r = (Record) v;
                for (int i = 0; i < t.fieldIds.length; i++) {
                    CandidType ft = t.fieldTypes[i];
                    if (r.hasId(t.fieldIds[i])) {
                        writeValue(ft, r.getById(t.fieldIds[i]));
                    } else if (ft.acceptsNull()) {
                        writeValue(ft, ft.absentValue());
                    } else {
                        throw new CandidException("record value " + r + " lacks field "
                                + Integer.toUnsignedString(t.fieldIds[i]) + " of type " + t);
                    }
                }
                return;
            case CandidType.VARIANT_OP:
                Variant var = (Variant) v;
                int tag = t.fieldIndex(var.rawId());
                if (tag < 0) {
                    throw new CandidException("variant value " + var + " has no tag in type " + t);
                }
                leb(tag);
                writeValue(t.fieldTypes[tag], var.value());
                return;
            default:
                throw new CandidException("no value fits type " + t);
        }
    }

    private void writeVector(CandidType element, Object v) {
        if (v instanceof byte[] && element.opcode == CandidType.NAT8_OP) {
            blob((byte[]) v);
        } else if (v instanceof int[] && (element.opcode == CandidType.NAT32_OP || element.opcode == CandidType.INT32_OP)) {
            fixed32Vector((int[]) v);
        } else if (v instanceof Object[]) {
            Object[] a = (Object[]) v;
            leb(a.length);
            for (Object e : a) {
                writeValue(element, e);
            }
        } else {
            List<?> list = (List<?>) v;
            leb(list.size());
            for (Object e : list) {
                writeValue(element, e);
            }
        }
    }

    // ---- bytes ----

    private CandidWriter write(byte b) {
        ensure(1);
        buf[size++] = b;
        return this;
    }

    private void putInt(int v) {
        buf[size++] = (byte) v;
        buf[size++] = (byte) (v >> 8);
        buf[size++] = (byte) (v >> 16);
        buf[size++] = (byte) (v >> 24);
    }

    /** Unsigned LEB128 of v read as an unsigned 64-bit number. */
    private void leb(long v) {
        ensure(10);
        while ((v & ~0x7FL) != 0) {
            buf[size++] = (byte) (v | 0x80);
            v >>>= 7;
        }
        buf[size++] = (byte) v;
    }

    private void sleb(long v) {
        ensure(10);
        while (true) {
            byte b = (byte) (v & 0x7F);
            v >>= 7;
            if (v == 0 && (b & 0x40) == 0 || v == -1 && (b & 0x40) != 0) {
                buf[size++] = b;
                return;
            }
            buf[size++] = (byte) (b | 0x80);
        }
    }

    private void ensure(int n) {
        if (buf.length - size < n) {
            buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, size + n));
        }
    }
}
