package org.icgpt2.ic.candid;

/**
 * Encodes and decodes whole Candid messages with the value model:
 * <ul>
 * <li>null, reserved: {@code null}; bool: Boolean; text: String; principal: {@link Principal};
 * <li>nat, int: Long (nat as unsigned 64 bits; larger numbers are rejected), nat8/int8: Byte, nat16/int16: Short,
 * nat32/int32: Integer, nat64/int64: Long (natN as unsigned bits); float32: Float; float64: Double;
 * <li>opt: {@link Opt}; blob ({@code vec nat8}): byte[]; other vecs: {@code List} (encoding also takes Object[],
 * and int[] for vec nat32/int32); record and tuple: {@link Record}; variant: {@link Variant}.
 * </ul>
 * For replies and arguments with a fixed shape, {@link CandidWriter} and {@link CandidReader} avoid the boxing.
 */
public final class Candid {
    private Candid() {
    }

    public static byte[] encode(CandidType[] types, Object... values) {
        if (types.length != values.length) {
            throw new CandidException(types.length + " types but " + values.length + " values");
        }
        CandidWriter w = new CandidWriter(types);
        for (int i = 0; i < types.length; i++) {
            w.value(types[i], values[i]);
        }
        return w.toBytes();
    }

    /** Decodes the arguments at the expected types (with subtyping); extra arguments are checked and ignored. */
    public static Object[] decode(byte[] message, CandidType... expected) {
        CandidReader r = new CandidReader(message);
        Object[] values = new Object[expected.length];
        for (int i = 0; i < expected.length; i++) {
            values[i] = r.value(expected[i]);
        }
        r.end();
        return values;
    }

    /** Decodes the arguments at the types the message declares (field names are then unknown). */
    public static Object[] decode(byte[] message) {
        CandidReader r = new CandidReader(message);
        Object[] values = new Object[r.argCount()];
        for (int i = 0; i < values.length; i++) {
            values[i] = r.value(r.argType(i));
        }
        r.end();
        return values;
    }
}
