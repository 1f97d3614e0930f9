package org.icgpt2.ic.candid;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/**
 * Reads one Candid message at expected types. The constructor checks the magic and reads the type table,
 * which may be in any order, share or leave unused entries, and be recursive. The arguments are then read in
 * order: the typed methods read common argument types without boxing (e.g. {@link #blob} copies once,
 * {@link #fixed32Vector} fills an int[]); {@link #value} reads any type and applies Candid subtyping.
 * {@link #end} skips extra arguments and rejects trailing bytes.
 *
 * <p>Work is bounded: lengths are checked against the remaining bytes before allocating, nesting is limited to
 * {@link #MAX_DEPTH}, and every value, skipped value and subtype check costs one unit of a decoding quota, so
 * that e.g. {@code vec null} of length 2^60 fails at once.
 */
public final class CandidReader {
    public static final int MAX_DEPTH = 128;
    public static final long DEFAULT_QUOTA = 10_000_000;

    private final byte[] data;
    private int pos;
    private final int end;
    private long quota;
    private final CandidType[] table;
    private final CandidType[] argTypes;
    private int nextArg;
    /** Type pairs known, or assumed while being checked, to be subtypes; see {@link #isSubtype}. */
    private final HashSet<TypePair> subtypes = new HashSet<>();

    public CandidReader(byte[] message) {
        this(message, 0, message.length, DEFAULT_QUOTA);
    }

    public CandidReader(byte[] data, int offset, int length, long quota) {
        this.data = data;
        this.pos = offset;
        this.end = offset + length;
        this.quota = quota;
        if (length < 4 || data[offset] != 'D' || data[offset + 1] != 'I' || data[offset + 2] != 'D'
                || data[offset + 3] != 'L') {
            throw error("message does not start with DIDL");
        }
        pos += 4;
        table = new CandidType[count(1, "type table")];
        for (int i = 0; i < table.length; i++) {
            table[i] = new CandidType(CandidType.UNDEFINED_OP);
        }
        for (CandidType t : table) {
            readTableEntry(t);
        }
        argTypes = new CandidType[count(1, "argument")];
        for (int i = 0; i < argTypes.length; i++) {
            argTypes[i] = typeRef();
        }
    }

    // ---- type table ----

    private void readTableEntry(CandidType t) {
        int at = pos;
        long op = sleb();
        switch ((int) Math.max(op, Integer.MIN_VALUE)) {
            case CandidType.OPT_OP:
            case CandidType.VEC_OP:
                t.element = typeRef();
                break;
            case CandidType.RECORD_OP:
            case CandidType.VARIANT_OP:
                int n = count(2, "field");
                t.fieldIds = new int[n];
                t.fieldNames = new String[n];
                t.fieldTypes = new CandidType[n];
                for (int i = 0; i < n; i++) {
                    int idAt = pos;
                    long id = leb();
                    if (id > 0xFFFFFFFFL || i > 0 && id <= (t.fieldIds[i - 1] & 0xFFFFFFFFL)) {
                        throw errorAt(idAt, "field id " + Long.toUnsignedString(id) + " is not below 2^32 and above the previous id");
                    }
                    t.fieldIds[i] = (int) id;
                    t.fieldTypes[i] = typeRef();
                }
                break;
            case CandidType.FUNC_OP:
                for (int list = 0; list < 2; list++) {
                    for (int i = count(1, "func parameter"); i > 0; i--) {
                        typeRef();
                    }
                }
                for (int i = count(1, "func annotation"); i > 0; i--) {
                    int a = byte1();
                    if (a < 1 || a > 3) {
                        throw errorAt(pos - 1, "unknown func annotation " + a);
                    }
                }
                break;
            case CandidType.SERVICE_OP:
                for (int i = count(2, "service method"); i > 0; i--) {
                    validUtf8(count(1, "method name byte"));
                    typeRef();
                }
                break;
            default:
                if (op >= CandidType.PRINCIPAL_OP) {
                    throw errorAt(at, "opcode " + op + " cannot head a type table entry");
                }
                skipBytes(count(1, "future type byte"));
        }
        t.opcode = (int) Math.max(op, Integer.MIN_VALUE);
    }

    /** A type reference: a table index, or a primitive opcode. */
    private CandidType typeRef() {
        int at = pos;
        long ref = sleb();
        if (ref >= 0 && ref < table.length) {
            return table[(int) ref];
        }
        CandidType p = ref < 0 ? CandidType.primitive(ref) : null;
        if (p == null) {
            throw errorAt(at, "type reference " + ref + " is neither a primitive type nor a table index below " + table.length);
        }
        return p;
    }

    public int argCount() {
        return argTypes.length;
    }

    /** The type of argument i as the message declares it. */
    public CandidType argType(int i) {
        return argTypes[i];
    }

    // ---- arguments ----

    /** Reads the next argument at type {@code expected}; a missing argument reads as null if {@code null <: expected}. */
    public Object value(CandidType expected) {
        if (nextArg == argTypes.length) {
            if (expected.acceptsNull()) {
                return expected.absentValue();
            }
            throw error("missing argument " + nextArg + " of type " + expected);
        }
        return decode(argTypes[nextArg++], expected, 0);
    }

    /**
     * The wire type of the next argument, which must have the primitive type {@code expected}, or be a subtype that
     * {@link #value} converts (then the caller reads through it).
     */
    private CandidType nextArg(CandidType expected) {
        if (nextArg == argTypes.length) {
            throw error("missing argument " + nextArg + " of type " + expected);
        }
        return argTypes[nextArg];
    }

    public String text() {
        return nextArg(CandidType.TEXT) == CandidType.TEXT ? skipArg(readText()) : (String) value(CandidType.TEXT);
    }

    public boolean bool() {
        return nextArg(CandidType.BOOL) == CandidType.BOOL ? skipArg(readBool()) : (Boolean) value(CandidType.BOOL);
    }

    public int nat8() {
        return nextArg(CandidType.NAT8) == CandidType.NAT8 ? skipArg(byte1()) : ((Byte) value(CandidType.NAT8)) & 0xFF;
    }

    public int nat16() {
        return nextArg(CandidType.NAT16) == CandidType.NAT16 ? skipArg(fixed16()) & 0xFFFF
                : ((Short) value(CandidType.NAT16)) & 0xFFFF;
    }

    /** A nat32 as the bits of an int (unsigned). */
    public int nat32() {
        return nextArg(CandidType.NAT32) == CandidType.NAT32 ? skipArg(fixed32()) : (Integer) value(CandidType.NAT32);
    }

    /** A nat64 as the bits of a long (unsigned). */
    public long nat64() {
        return nextArg(CandidType.NAT64) == CandidType.NAT64 ? skipArg(fixed64()) : (Long) value(CandidType.NAT64);
    }

    /** A nat below 2^64 as the bits of a long (unsigned). */
    public long nat() {
        return nextArg(CandidType.NAT) == CandidType.NAT ? skipArg(leb()) : (Long) value(CandidType.NAT);
    }

    /** An int (or a nat, by subtyping) between -2^63 and 2^63 - 1. */
    public long integer() {
        return nextArg(CandidType.INT) == CandidType.INT ? skipArg(sleb()) : (Long) value(CandidType.INT);
    }

    public float float32() {
        return nextArg(CandidType.FLOAT32) == CandidType.FLOAT32 ? Float.intBitsToFloat(skipArg(fixed32()))
                : (Float) value(CandidType.FLOAT32);
    }

    public double float64() {
        return nextArg(CandidType.FLOAT64) == CandidType.FLOAT64 ? Double.longBitsToDouble(skipArg(fixed64()))
                : (Double) value(CandidType.FLOAT64);
    }

    /** A {@code blob} / {@code vec nat8}, copied once. */
    public byte[] blob() {
        return (byte[]) value(CandidType.BLOB);
    }

    /** A {@code vec nat32} (or {@code vec int32} when {@code signed}) into an int[], without boxing. */
    public int[] fixed32Vector(boolean signed) {
        CandidType element = signed ? CandidType.INT32 : CandidType.NAT32;
        CandidType wire = nextArg(element);
        if (wire.opcode != CandidType.VEC_OP || wire.element != element) {
            List<?> list = (List<?>) value(CandidType.vec(element));
            int[] v = new int[list.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = (Integer) list.get(i);
            }
            return v;
        }
        nextArg++;
        int n = count(4, "vec " + element + " element");
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = fixed32();
        }
        return v;
    }

    private <T> T skipArg(T v) {
        nextArg++;
        return v;
    }

    private int skipArg(int v) {
        nextArg++;
        return v;
    }

    private long skipArg(long v) {
        nextArg++;
        return v;
    }

    private boolean skipArg(boolean v) {
        nextArg++;
        return v;
    }

    /** Skips the arguments not read (extra arguments are allowed) and checks that no bytes follow them. */
    public void end() {
        while (nextArg < argTypes.length) {
            skip(argTypes[nextArg++], 0);
        }
        if (pos != end) {
            throw error((end - pos) + " trailing bytes after the arguments");
        }
    }

    // ---- decoding with coercion ----

    /** Reads a value of wire type {@code w} and coerces it to {@code e} (the spec's "Coercion" rules). */
    private Object decode(CandidType w, CandidType e, int depth) {
        enter(depth);
        switch (e.opcode) {
            case CandidType.RESERVED_OP:
                skip(w, depth);
                return null;
            case CandidType.OPT_OP:
                return decodeOpt(w, e, depth);
            case CandidType.INT_OP:
                if (w.opcode == CandidType.NAT_OP) {
                    int at = pos;
                    long v = leb();
                    if (v < 0) {
                        throw errorAt(at, "nat " + Long.toUnsignedString(v) + " does not fit int64, the range of int supported");
                    }
                    return v;
                }
                break;
            case CandidType.PRINCIPAL_OP:
                if (w.opcode == CandidType.SERVICE_OP) {
                    return readPrincipal();
                }
                break;
            default:
        }
        if (w.opcode != e.opcode) {
            throw error("expected " + e + " but the message has " + w);
        }
        switch (e.opcode) {
            case CandidType.NULL_OP:
                return null;
            case CandidType.BOOL_OP:
                return readBool();
            case CandidType.NAT_OP:
                return leb();
            case CandidType.INT_OP:
                return sleb();
            case CandidType.NAT8_OP:
            case CandidType.INT8_OP:
                return (byte) byte1();
            case CandidType.NAT16_OP:
            case CandidType.INT16_OP:
                return fixed16();
            case CandidType.NAT32_OP:
            case CandidType.INT32_OP:
                return fixed32();
            case CandidType.NAT64_OP:
            case CandidType.INT64_OP:
                return fixed64();
            case CandidType.FLOAT32_OP:
                return Float.intBitsToFloat(fixed32());
            case CandidType.FLOAT64_OP:
                return Double.longBitsToDouble(fixed64());
            case CandidType.TEXT_OP:
                return readText();
            case CandidType.PRINCIPAL_OP:
                return readPrincipal();
            case CandidType.VEC_OP:
                return decodeVec(w.element, e.element, depth);
            case CandidType.RECORD_OP:
                return decodeRecord(w, e, depth);
            case CandidType.VARIANT_OP:
                return decodeVariant(w, e, depth);
            default:
                throw error("cannot decode a value of type " + e);
        }
    }

    private Opt decodeOpt(CandidType w, CandidType e, int depth) {
        switch (w.opcode) {
            case CandidType.NULL_OP:
                return Opt.NONE;
            case CandidType.RESERVED_OP:
                return Opt.NONE;
            case CandidType.OPT_OP:
                int tag = byte1();
                if (tag > 1) {
                    throw errorAt(pos - 1, "opt tag " + tag + " is neither 0 nor 1");
                }
                return tag == 0 ? Opt.NONE : coerceOrNone(w.element, e.element, depth);
            default:
                return coerceOrNone(w, e.element, depth);
        }
    }

    /** A value of {@code w} as {@code opt e}: present if {@code w <: e}, else skipped and null. */
    private Opt coerceOrNone(CandidType w, CandidType e, int depth) {
        if (isSubtype(w, e, depth)) {
            return Opt.some(decode(w, e, depth + 1));
        }
        skip(w, depth + 1);
        return Opt.NONE;
    }

    private Object decodeVec(CandidType w, CandidType e, int depth) {
        int n = vecLength(w);
        if (e.opcode == CandidType.NAT8_OP && w.opcode == CandidType.NAT8_OP) {
            byte[] v = new byte[n];
            System.arraycopy(data, pos, v, 0, n);
            pos += n;
            return v;
        }
        List<Object> v = new ArrayList<>(Math.min(n, end - pos));
        for (int i = 0; i < n; i++) {
            v.add(decode(w, e, depth + 1));
        }
        return v;
    }

    private Record decodeRecord(CandidType w, CandidType e, int depth) {
        Object[] values = new Object[e.fieldIds.length];
        boolean[] present = new boolean[values.length];
        int j = 0;
        for (int i = 0; i < w.fieldIds.length; i++) {
            while (j < values.length && Integer.compareUnsigned(e.fieldIds[j], w.fieldIds[i]) < 0) {
                j++;
            }
            if (j < values.length && e.fieldIds[j] == w.fieldIds[i]) {
                values[j] = decode(w.fieldTypes[i], e.fieldTypes[j], depth + 1);
                present[j] = true;
            } else {
                skip(w.fieldTypes[i], depth + 1);
            }
        }
        for (j = 0; j < values.length; j++) {
            if (!present[j]) {
                if (!e.fieldTypes[j].acceptsNull()) {
                    throw error("record lacks field " + fieldName(e, j) + " of type " + e.fieldTypes[j]);
                }
                values[j] = e.fieldTypes[j].absentValue();
            }
        }
        return new Record(e.fieldIds, e.fieldNames, values, values.length);
    }

    private Variant decodeVariant(CandidType w, CandidType e, int depth) {
        int i = variantIndex(w);
        int j = e.fieldIndex(w.fieldIds[i]);
        if (j < 0) {
            throw error("variant tag " + Integer.toUnsignedString(w.fieldIds[i]) + " is not in the expected type " + e);
        }
        return new Variant(e.fieldIds[j], e.fieldNames[j], decode(w.fieldTypes[i], e.fieldTypes[j], depth + 1));
    }

    private static String fieldName(CandidType t, int i) {
        return t.fieldNames[i] != null ? t.fieldNames[i] : Integer.toUnsignedString(t.fieldIds[i]);
    }

    // ---- subtyping ----

    /**
     * {@code w <: e} by the spec's rules, where any type is a subtype of an opt. Recursive types terminate because a
     * pair under check is assumed to hold (coinduction); pairs that fail are removed again.
     */
    private boolean isSubtype(CandidType w, CandidType e, int depth) {
        enter(depth);
        if (w == e || e.opcode == CandidType.RESERVED_OP || e.opcode == CandidType.OPT_OP
                || w.opcode == CandidType.EMPTY_OP) {
            return true;
        }
        if (w.opcode != e.opcode) {
            return w.opcode == CandidType.NAT_OP && e.opcode == CandidType.INT_OP
                    || w.opcode == CandidType.SERVICE_OP && e.opcode == CandidType.PRINCIPAL_OP;
        }
        if (w.isPrimitive()) {
            return true;
        }
        TypePair pair = new TypePair(w, e);
        if (!subtypes.add(pair)) {
            return true;
        }
        boolean holds = e.opcode == CandidType.VEC_OP ? isSubtype(w.element, e.element, depth + 1)
                : e.opcode == CandidType.RECORD_OP ? isRecordSubtype(w, e, depth)
                : e.opcode == CandidType.VARIANT_OP && isVariantSubtype(w, e, depth);
        if (!holds) {
            subtypes.remove(pair);
        }
        return holds;
    }

    private boolean isRecordSubtype(CandidType w, CandidType e, int depth) {
        for (int j = 0; j < e.fieldIds.length; j++) {
            int i = w.fieldIndex(e.fieldIds[j]);
            if (i >= 0 ? !isSubtype(w.fieldTypes[i], e.fieldTypes[j], depth + 1) : !e.fieldTypes[j].acceptsNull()) {
                return false;
            }
        }
        return true;
    }

    private boolean isVariantSubtype(CandidType w, CandidType e, int depth) {
        for (int i = 0; i < w.fieldIds.length; i++) {
            int j = e.fieldIndex(w.fieldIds[i]);
            if (j < 0 || !isSubtype(w.fieldTypes[i], e.fieldTypes[j], depth + 1)) {
                return false;
            }
        }
        return true;
    }

    /** Identity pair of types, for the subtype cache. */
    private static final class TypePair {
        final CandidType w;
        final CandidType e;

        TypePair(CandidType w, CandidType e) {
            this.w = w;
            this.e = e;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TypePair && ((TypePair) o).w == w && ((TypePair) o).e == e;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(w) * 31 + System.identityHashCode(e);
        }
    }

    // ---- skipping ----

    /** Skips a value of wire type {@code w}, checking its structure but not the text inside it. */
    private void skip(CandidType w, int depth) {
        enter(depth);
        switch (w.opcode) {
            case CandidType.NULL_OP:
            case CandidType.RESERVED_OP:
                return;
            case CandidType.BOOL_OP:
                readBool();
                return;
            case CandidType.NAT_OP:
                leb();
                return;
            case CandidType.INT_OP:
                sleb();
                return;
            case CandidType.TEXT_OP:
                skipBytes(count(1, "text byte"));
                return;
            case CandidType.PRINCIPAL_OP:
            case CandidType.SERVICE_OP:
                readPrincipal();
                return;
            case CandidType.FUNC_OP:
                if (byte1() != 1) {
                    throw errorAt(pos - 1, "func reference is not public (tag 1)");
                }
                readPrincipal();
                skipBytes(count(1, "method name byte"));
                return;
            case CandidType.OPT_OP:
                int tag = byte1();
                if (tag > 1) {
                    throw errorAt(pos - 1, "opt tag " + tag + " is neither 0 nor 1");
                }
                if (tag == 1) {
                    skip(w.element, depth + 1);
                }
                return;
            case CandidType.VEC_OP:
                int n = vecLength(w.element);
                int size = fixedSize(w.element);
                if (size > 0) {
                    skipBytes(n * size);
                } else {
                    for (int i = 0; i < n; i++) {
                        skip(w.element, depth + 1);
                    }
                }
                return;
            case CandidType.RECORD_OP:
                for (CandidType f : w.fieldTypes) {
                    skip(f, depth + 1);
                }
                return;
            case CandidType.VARIANT_OP:
                skip(w.fieldTypes[variantIndex(w)], depth + 1);
                return;
            case CandidType.EMPTY_OP:
                throw error("the message has a value of type empty");
            default:
                int size1 = fixedSize(w);
                if (size1 > 0) {
                    skipBytes(size1);
                    return;
                }
                // A future type: value byte count, reference count, then the value bytes.
                int m = count(1, "future value byte");
                leb();
                skipBytes(m);
        }
    }

    /** Size of a fixed-width primitive value, else 0. */
    private static int fixedSize(CandidType t) {
        switch (t.opcode) {
            case CandidType.NAT8_OP:
            case CandidType.INT8_OP:
                return 1;
            case CandidType.NAT16_OP:
            case CandidType.INT16_OP:
                return 2;
            case CandidType.NAT32_OP:
            case CandidType.INT32_OP:
            case CandidType.FLOAT32_OP:
                return 4;
            case CandidType.NAT64_OP:
            case CandidType.INT64_OP:
            case CandidType.FLOAT64_OP:
                return 8;
            default:
                return 0;
        }
    }

    // ---- values and bytes ----

    /** Checks nesting depth and charges one unit of the decoding quota. */
    private void enter(int depth) {
        if (depth > MAX_DEPTH) {
            throw error("values or types nested deeper than " + MAX_DEPTH);
        }
        if (--quota < 0) {
            throw error("decoding quota exhausted");
        }
    }

    /**
     * A vec length: bounded by the remaining bytes unless elements may take no bytes (e.g. {@code vec null}),
     * and then by the remaining quota, so that no huge list is ever allocated or looped over.
     */
    private int vecLength(CandidType element) {
        int at = pos;
        long n = leb();
        int minSize = Math.max(fixedSize(element), mayBeEmptyValue(element) ? 0 : 1);
        if (n < 0 || n > (minSize == 0 ? quota : (end - pos) / minSize)) {
            throw errorAt(at, "vec length " + Long.toUnsignedString(n) + " exceeds "
                    + (minSize == 0 ? "the decoding quota" : "the remaining bytes"));
        }
        return (int) n;
    }

    /**
     * Whether a value of wire type t may take zero bytes. Conservative for records (any record field counts as
     * possibly empty) so that it costs O(fields) even on recursive types; such vecs are bounded by the quota.
     */
    private static boolean mayBeEmptyValue(CandidType t) {
        if (t.opcode == CandidType.NULL_OP || t.opcode == CandidType.RESERVED_OP) {
            return true;
        }
        if (t.opcode != CandidType.RECORD_OP) {
            return false;
        }
        for (CandidType f : t.fieldTypes) {
            if (f.opcode != CandidType.NULL_OP && f.opcode != CandidType.RESERVED_OP && f.opcode != CandidType.RECORD_OP) {
                return false;
            }
        }
        return true;
    }

    private int variantIndex(CandidType w) {
        int at = pos;
        long i = leb();
        if (i < 0 || i >= w.fieldIds.length) {
            throw errorAt(at, "variant index " + Long.toUnsignedString(i) + " is not below " + w.fieldIds.length);
        }
        return (int) i;
    }

    /** A count of items, each taking at least {@code minBytes} bytes, so bounded by the remaining bytes. */
    private int count(int minBytes, String what) {
        int at = pos;
        long n = leb();
        if (n < 0 || n > (end - pos) / minBytes) {
            throw errorAt(at, what + " count " + Long.toUnsignedString(n) + " exceeds the remaining bytes");
        }
        return (int) n;
    }

    private boolean readBool() {
        int b = byte1();
        if (b > 1) {
            throw errorAt(pos - 1, "bool byte " + b + " is neither 0 nor 1");
        }
        return b == 1;
    }

    private Principal readPrincipal() {
        int tag = byte1();
        if (tag != 1) {
            throw errorAt(pos - 1, "principal or service reference is not transparent (tag " + tag + ", want 1)");
        }
        int at = pos;
        int n = count(1, "principal byte");
        if (n > Principal.MAX_LENGTH) {
            throw errorAt(at, "principal is " + n + " bytes, at most " + Principal.MAX_LENGTH + " allowed");
        }
        byte[] b = new byte[n];
        System.arraycopy(data, pos, b, 0, n);
        pos += n;
        return new Principal(b);
    }

    private String readText() {
        return validUtf8(count(1, "text byte"));
    }

    /** Decodes n bytes of strict UTF-8 (no overlong forms, surrogates or code points above U+10FFFF). */
    private String validUtf8(int n) {
        char[] chars = new char[n];
        int len = 0;
        int stop = pos + n;
        while (pos < stop) {
            int at = pos;
            int b = data[pos++] & 0xFF;
            if (b < 0x80) {
                chars[len++] = (char) b;
                continue;
            }
            int extra = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : b >= 0xC0 ? 1 : 0;
            int cp = b & (0x3F >> extra);
            if (extra == 0 || b > 0xF4 || pos + extra > stop) {
                throw errorAt(at, "invalid UTF-8 in text");
            }
            for (int k = 0; k < extra; k++) {
                int c = data[pos++] & 0xFF;
                if ((c & 0xC0) != 0x80) {
                    throw errorAt(at, "invalid UTF-8 in text");
                }
                cp = (cp << 6) | (c & 0x3F);
            }
            if (cp < (extra == 1 ? 0x80 : extra == 2 ? 0x800 : 0x10000) || cp > 0x10FFFF || cp >= 0xD800 && cp < 0xE000) {
                throw errorAt(at, "invalid UTF-8 in text");
            }
            if (cp >= 0x10000) {
                chars[len++] = (char) (0xD7C0 + (cp >> 10));
                chars[len++] = (char) (0xDC00 | (cp & 0x3FF));
            } else {
                chars[len++] = (char) cp;
            }
        }
        return new String(chars, 0, len);
    }

    private int byte1() {
        if (pos >= end) {
            throw error("unexpected end of message");
        }
        return data[pos++] & 0xFF;
    }

    private void skipBytes(int n) {
        if (n > end - pos) {
            throw error("unexpected end of message: " + n + " bytes needed, " + (end - pos) + " left");
        }
        pos += n;
    }

    private short fixed16() {
        skipBytes(2);
        return (short) ((data[pos - 2] & 0xFF) | data[pos - 1] << 8);
    }

    private int fixed32() {
        skipBytes(4);
        int p = pos - 4;
        return (data[p] & 0xFF) | (data[p + 1] & 0xFF) << 8 | (data[p + 2] & 0xFF) << 16 | data[p + 3] << 24;
    }

    private long fixed64() {
        long low = fixed32() & 0xFFFFFFFFL;
        return low | (long) fixed32() << 32;
    }

    /** Unsigned LEB128 below 2^64, returned as the bits of a long. */
    private long leb() {
        int at = pos;
        long v = 0;
        for (int shift = 0; ; shift += 7) {
            int b = byte1();
            if (shift == 63 && b > 1) {
                throw errorAt(at, "LEB128 number does not fit 64 bits");
            }
            v |= (long) (b & 0x7F) << shift;
            if (b < 0x80) {
                return v;
            }
        }
    }

    /** Signed LEB128 between -2^63 and 2^63 - 1. */
    private long sleb() {
        int at = pos;
        long v = 0;
        for (int shift = 0; ; shift += 7) {
            int b = byte1();
            if (shift == 63 && b != 0 && b != 0x7F) {
                throw errorAt(at, "signed LEB128 number does not fit 64 bits");
            }
            v |= (long) (b & 0x7F) << shift;
            if (b < 0x80) {
                return shift < 57 && (b & 0x40) != 0 ? v | -1L << (shift + 7) : v;
            }
        }
    }

    private CandidException error(String what) {
        return errorAt(pos, what);
    }

    private static CandidException errorAt(int offset, String what) {
        return new CandidException("Candid: " + what + " (at byte " + offset + ")");
    }
}
