package org.icgpt2.ic.candid;

import java.nio.charset.StandardCharsets;
import java.util.function.UnaryOperator;

/**
 * A Candid type: a primitive constant, or opt/vec/record/variant built with the factories here.
 * Record and variant fields are kept sorted by unsigned field id. Types decoded from a message's
 * type table may also be func, service or a future type; those are only skipped or checked, never built.
 */
public final class CandidType {
    static final int NULL_OP = -1;
    static final int BOOL_OP = -2;
    static final int NAT_OP = -3;
    static final int INT_OP = -4;
    static final int NAT8_OP = -5;
    static final int NAT16_OP = -6;
    static final int NAT32_OP = -7;
    static final int NAT64_OP = -8;
    static final int INT8_OP = -9;
    static final int INT16_OP = -10;
    static final int INT32_OP = -11;
    static final int INT64_OP = -12;
    static final int FLOAT32_OP = -13;
    static final int FLOAT64_OP = -14;
    static final int TEXT_OP = -15;
    static final int RESERVED_OP = -16;
    static final int EMPTY_OP = -17;
    static final int OPT_OP = -18;
    static final int VEC_OP = -19;
    static final int RECORD_OP = -20;
    static final int VARIANT_OP = -21;
    static final int FUNC_OP = -22;
    static final int SERVICE_OP = -23;
    static final int PRINCIPAL_OP = -24;
    /** Opcode of a table entry not yet read, or of a {@link #recursive} type not yet defined. */
    static final int UNDEFINED_OP = 0;

    // Initialised before the type constants, whose fields default to them.
    private static final int[] NO_IDS = {};
    private static final String[] NO_NAMES = {};
    private static final CandidType[] NO_TYPES = {};

    public static final CandidType NULL = new CandidType(NULL_OP);
    public static final CandidType BOOL = new CandidType(BOOL_OP);
    public static final CandidType NAT = new CandidType(NAT_OP);
    public static final CandidType INT = new CandidType(INT_OP);
    public static final CandidType NAT8 = new CandidType(NAT8_OP);
    public static final CandidType NAT16 = new CandidType(NAT16_OP);
    public static final CandidType NAT32 = new CandidType(NAT32_OP);
    public static final CandidType NAT64 = new CandidType(NAT64_OP);
    public static final CandidType INT8 = new CandidType(INT8_OP);
    public static final CandidType INT16 = new CandidType(INT16_OP);
    public static final CandidType INT32 = new CandidType(INT32_OP);
    public static final CandidType INT64 = new CandidType(INT64_OP);
    public static final CandidType FLOAT32 = new CandidType(FLOAT32_OP);
    public static final CandidType FLOAT64 = new CandidType(FLOAT64_OP);
    public static final CandidType TEXT = new CandidType(TEXT_OP);
    public static final CandidType RESERVED = new CandidType(RESERVED_OP);
    public static final CandidType EMPTY = new CandidType(EMPTY_OP);
    public static final CandidType PRINCIPAL = new CandidType(PRINCIPAL_OP);
    /** {@code blob}, i.e. {@code vec nat8}. */
    public static final CandidType BLOB = vec(NAT8);

    private static final CandidType[] PRIMITIVES = {NULL, BOOL, NAT, INT, NAT8, NAT16, NAT32, NAT64, INT8, INT16,
        INT32, INT64, FLOAT32, FLOAT64, TEXT, RESERVED, EMPTY};

    int opcode;
    /** Content type of opt and vec. */
    CandidType element;
    int[] fieldIds = NO_IDS;
    String[] fieldNames = NO_NAMES;
    CandidType[] fieldTypes = NO_TYPES;

    CandidType(int opcode) {
        this.opcode = opcode;
    }

    /** A record or variant field (or tag) for the factories. */
    public static final class Field {
        final int id;
        final String name;
        final CandidType type;

        private Field(int id, String name, CandidType type) {
            this.id = id;
            this.name = name;
            this.type = type;
        }
    }

    public static Field field(String name, CandidType type) {
        return new Field(hash(name), name, type);
    }

    /** A field given by its numeric id (0 to 2^32 - 1), as in tuples or {@code record { 42 : nat }}. */
    public static Field field(long id, CandidType type) {
        return new Field(checkId(id), null, type);
    }

    public static CandidType opt(CandidType t) {
        CandidType o = new CandidType(OPT_OP);
        o.element = t;
        return o;
    }

    public static CandidType vec(CandidType t) {
        CandidType v = new CandidType(VEC_OP);
        v.element = t;
        return v;
    }

    public static CandidType record(Field... fields) {
        return composite(RECORD_OP, fields);
    }

    public static CandidType variant(Field... tags) {
        return composite(VARIANT_OP, tags);
    }

    /** {@code record { t0; t1; ... }}: fields numbered 0, 1, 2, ... */
    public static CandidType tuple(CandidType... types) {
        Field[] fields = new Field[types.length];
        for (int i = 0; i < types.length; i++) {
            fields[i] = new Field(i, null, types[i]);
        }
        return composite(RECORD_OP, fields);
    }

    /**
     * A recursive type: {@code definition} receives a stand-in for the type being defined, e.g.
     * {@code recursive(list -> opt(record(field("head", NAT), field("tail", list))))}.
     */
    public static CandidType recursive(UnaryOperator<CandidType> definition) {
        CandidType self = new CandidType(UNDEFINED_OP);
        CandidType body = definition.apply(self);
        if (body.opcode > OPT_OP || body.opcode < VARIANT_OP) {
            throw new IllegalArgumentException("a recursive type must be opt, vec, record or variant");
        }
        self.defineAs(body);
        return self;
    }

    void defineAs(CandidType body) {
        opcode = body.opcode;
        element = body.element;
        fieldIds = body.fieldIds;
        fieldNames = body.fieldNames;
        fieldTypes = body.fieldTypes;
    }

    private static CandidType composite(int opcode, Field[] fields) {
        Field[] sorted = fields.clone();
        for (int i = 1; i < sorted.length; i++) {
            Field f = sorted[i];
            int j = i - 1;
            for (; j >= 0 && Integer.compareUnsigned(sorted[j].id, f.id) > 0; j--) {
                sorted[j + 1] = sorted[j];
            }
            sorted[j + 1] = f;
        }
        CandidType t = new CandidType(opcode);
        t.fieldIds = new int[sorted.length];
        t.fieldNames = new String[sorted.length];
        t.fieldTypes = new CandidType[sorted.length];
        for (int i = 0; i < sorted.length; i++) {
            if (i > 0 && sorted[i].id == sorted[i - 1].id) {
                throw new IllegalArgumentException("duplicate or colliding field id " + Integer.toUnsignedString(sorted[i].id)
                        + " (" + sorted[i].name + ", " + sorted[i - 1].name + ")");
            }
            t.fieldIds[i] = sorted[i].id;
            t.fieldNames[i] = sorted[i].name;
            t.fieldTypes[i] = sorted[i].type;
        }
        return t;
    }

    /** The primitive type with this opcode, or null if it is not a primitive opcode. */
    static CandidType primitive(long opcode) {
        if (opcode == PRINCIPAL_OP) {
            return PRINCIPAL;
        }
        return opcode <= NULL_OP && opcode >= EMPTY_OP ? PRIMITIVES[(int) (-opcode - 1)] : null;
    }

    /** The Candid field id of a name: {@code h = h * 223 + byte} over its UTF-8 bytes, mod 2^32. */
    public static int hash(String name) {
        int h = 0;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = h * 223 + (b & 0xFF);
        }
        return h;
    }

    static int checkId(long id) {
        if (id < 0 || id > 0xFFFFFFFFL) {
            throw new IllegalArgumentException("field id " + id + " is outside 0..2^32-1");
        }
        return (int) id;
    }

    /** Index of the field with this id, or -1; fields are few, and sorted. */
    int fieldIndex(int id) {
        for (int i = 0; i < fieldIds.length; i++) {
            if (fieldIds[i] == id) {
                return i;
            }
        }
        return -1;
    }

    public boolean isPrimitive() {
        return opcode <= NULL_OP && opcode >= EMPTY_OP || opcode == PRINCIPAL_OP;
    }

    /** Whether {@code null <: this}: a missing record field or argument of this type reads as null. */
    boolean acceptsNull() {
        return opcode == NULL_OP || opcode == OPT_OP || opcode == RESERVED_OP;
    }

    /** The value standing for a missing field or argument of a type that {@link #acceptsNull()}. */
    Object absentValue() {
        return opcode == OPT_OP ? Opt.NONE : null;
    }

    private static final String[] NAMES = {"null", "bool", "nat", "int", "nat8", "nat16", "nat32", "nat64", "int8",
        "int16", "int32", "int64", "float32", "float64", "text", "reserved", "empty", "opt", "vec", "record", "variant",
        "func", "service", "principal"};

    @Override
    public String toString() {
        return describe(this, 3);
    }

    /** A readable form, cut off below {@code depth} levels so that recursive types print finitely. */
    private static String describe(CandidType t, int depth) {
        if (t.opcode >= UNDEFINED_OP || t.opcode < PRINCIPAL_OP) {
            return t.opcode == UNDEFINED_OP ? "(undefined)" : "(future type " + t.opcode + ")";
        }
        String name = NAMES[-t.opcode - 1];
        if (depth == 0 && !t.isPrimitive()) {
            return name + " ...";
        }
        if (t.opcode == OPT_OP || t.opcode == VEC_OP) {
            return name + " " + describe(t.element, depth - 1);
        }
        if (t.opcode == RECORD_OP || t.opcode == VARIANT_OP) {
            StringBuilder s = new StringBuilder(name).append(" {");
            for (int i = 0; i < t.fieldIds.length; i++) {
                s.append(i > 0 ? "; " : "")
                        .append(t.fieldNames[i] != null ? t.fieldNames[i] : Integer.toUnsignedString(t.fieldIds[i]))
                        .append(": ").append(describe(t.fieldTypes[i], depth - 1));
            }
            return s.append('}').toString();
        }
        return name;
    }
}
