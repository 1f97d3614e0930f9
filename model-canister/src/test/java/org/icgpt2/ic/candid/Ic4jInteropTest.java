package org.icgpt2.ic.candid;

import static org.icgpt2.ic.candid.CandidType.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.reflect.Array;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import org.ic4j.candid.parser.IDLArgs;
import org.ic4j.candid.parser.IDLType;
import org.ic4j.candid.parser.IDLValue;
import org.ic4j.candid.types.Label;
import org.ic4j.candid.types.Type;
import org.junit.jupiter.api.Test;

/** Agreement with the independent implementation ic4j-candid on random nested types and values. */
class Ic4jInteropTest {
    static final CandidType[] PRIMITIVES = {BOOL, NAT, INT, NAT8, NAT16, NAT32, NAT64, INT8, INT16, INT32, INT64,
        FLOAT32, FLOAT64, TEXT, PRINCIPAL, NULL};

    final Random random = new Random(20240607);
    /** ic4j deduplicates table entries by IDLType identity: structurally equal types map to one IDLType. */
    final Map<String, IDLType> ic4jTypes = new HashMap<>();

    CandidType randomType(int depth) {
        int k = random.nextInt(depth <= 0 ? 1 : 6);
        switch (k) {
            case 1:
                CandidType content = randomType(depth - 1);
                return content.acceptsNull() ? opt(TEXT) : opt(content); // ic4j's Optional cannot hold opt null
            case 2:
                return vec(random.nextInt(3) == 0 ? NAT8 : randomType(depth - 1));
            case 3:
            case 4:
                int n = 1 + random.nextInt(3);
                Field[] fields = new Field[n];
                List<Long> ids = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    long id;
                    do {
                        id = random.nextBoolean() ? random.nextInt(5) : random.nextInt() & 0xFFFFFFFFL;
                    } while (ids.contains(id));
                    ids.add(id);
                    fields[i] = random.nextBoolean() ? field(id, randomType(depth - 1)) : field("f" + id, randomType(depth - 1));
                    if (fields[i].name != null && ids.contains(hash("f" + id) & 0xFFFFFFFFL) && hash("f" + id) != id) {
                        fields[i] = field(id, fields[i].type);
                    }
                }
                return k == 3 ? record(fields) : variant(fields);
            default:
                return PRIMITIVES[random.nextInt(PRIMITIVES.length)];
        }
    }

    Object randomValue(CandidType t) {
        switch (t.opcode) {
            case NULL_OP: return null;
            case BOOL_OP: return random.nextBoolean();
            case NAT_OP: return random.nextLong() >>> random.nextInt(64);
            case INT_OP: return random.nextLong() >> random.nextInt(64);
            case NAT8_OP: case INT8_OP: return (byte) random.nextInt();
            case NAT16_OP: case INT16_OP: return (short) random.nextInt();
            case NAT32_OP: case INT32_OP: return random.nextInt();
            case NAT64_OP: case INT64_OP: return random.nextLong();
            case FLOAT32_OP: return random.nextFloat() * 1000 - 500;
            case FLOAT64_OP: return random.nextGaussian() * 1e6;
            case TEXT_OP:
                StringBuilder s = new StringBuilder();
                for (int i = random.nextInt(6); i > 0; i--) {
                    s.appendCodePoint(random.nextBoolean() ? 'a' + random.nextInt(26) : 0xA0 + random.nextInt(0xD000));
                }
                return s.toString();
            case PRINCIPAL_OP:
                byte[] p = new byte[random.nextInt(30)];
                random.nextBytes(p);
                return Principal.of(p);
            case OPT_OP: return random.nextInt(3) == 0 ? Opt.NONE : Opt.some(randomValue(t.element));
            case VEC_OP:
                int n = random.nextInt(4);
                if (t.element == NAT8) {
                    byte[] b = new byte[n * 3];
                    random.nextBytes(b);
                    return b;
                }
                List<Object> list = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    list.add(randomValue(t.element));
                }
                return list;
            case RECORD_OP:
                Record r = new Record();
                for (int i = 0; i < t.fieldIds.length; i++) {
                    r.put(t.fieldIds[i] & 0xFFFFFFFFL, randomValue(t.fieldTypes[i]));
                }
                return r;
            default:
                int i = random.nextBoolean() ? 0 : random.nextInt(t.fieldIds.length);
                return Variant.of(t.fieldIds[i] & 0xFFFFFFFFL, randomValue(t.fieldTypes[i]));
        }
    }

    static String key(CandidType t) {
        if (t.isPrimitive()) {
            return Integer.toString(t.opcode);
        }
        StringBuilder s = new StringBuilder("(").append(t.opcode);
        if (t.element != null) {
            s.append(' ').append(key(t.element));
        }
        for (int i = 0; i < t.fieldIds.length; i++) {
            s.append(' ').append(t.fieldIds[i]).append(':').append(key(t.fieldTypes[i]));
        }
        return s.append(')').toString();
    }

    static final Type[] IC4J_PRIMITIVES = {Type.NULL, Type.BOOL, Type.NAT, Type.INT, Type.NAT8, Type.NAT16,
        Type.NAT32, Type.NAT64, Type.INT8, Type.INT16, Type.INT32, Type.INT64, Type.FLOAT32, Type.FLOAT64, Type.TEXT,
        Type.RESERVED, Type.EMPTY};

    IDLType toIc4j(CandidType t) {
        String k = key(t);
        IDLType known = ic4jTypes.get(k);
        if (known != null) {
            return known;
        }
        IDLType result;
        if (t == PRINCIPAL) {
            result = IDLType.createType(Type.PRINCIPAL);
        } else if (t.isPrimitive()) {
            result = IDLType.createType(IC4J_PRIMITIVES[-t.opcode - 1]);
        } else if (t.element != null) {
            result = IDLType.createType(t.opcode == OPT_OP ? Type.OPT : Type.VEC, toIc4j(t.element));
        } else {
            Map<Label, IDLType> fields = new TreeMap<>();
            for (int i = 0; i < t.fieldIds.length; i++) {
                fields.put(Label.createIdLabel(t.fieldIds[i] & 0xFFFFFFFFL), toIc4j(t.fieldTypes[i]));
            }
            result = IDLType.createType(t.opcode == RECORD_OP ? Type.RECORD : Type.VARIANT, fields);
        }
        ic4jTypes.put(k, result);
        return result;
    }

    static Object toIc4jValue(CandidType t, Object v) {
        switch (t.opcode) {
            case NAT_OP: return new BigInteger(Long.toUnsignedString((Long) v));
            case INT_OP: return BigInteger.valueOf((Long) v);
            case PRINCIPAL_OP: return org.ic4j.types.Principal.from(((Principal) v).bytes());
            case OPT_OP: return ((Opt) v).isPresent() ? Optional.of(toIc4jValue(t.element, ((Opt) v).get())) : Optional.empty();
            case VEC_OP:
                if (v instanceof byte[]) {
                    return v;
                }
                List<?> list = (List<?>) v;
                Object[] a = new Object[list.size()];
                for (int i = 0; i < a.length; i++) {
                    a[i] = toIc4jValue(t.element, list.get(i));
                }
                return a;
            case RECORD_OP:
                Map<Label, Object> fields = new TreeMap<>();
                for (int i = 0; i < t.fieldIds.length; i++) {
                    fields.put(Label.createIdLabel(t.fieldIds[i] & 0xFFFFFFFFL), toIc4jValue(t.fieldTypes[i], ((Record) v).getById(t.fieldIds[i])));
                }
                return fields;
            case VARIANT_OP:
                Variant var = (Variant) v;
                Map<Label, Object> tag = new TreeMap<>();
                tag.put(Label.createIdLabel(var.id()), toIc4jValue(t.fieldTypes[t.fieldIndex(var.rawId())], var.value()));
                return tag;
            default:
                return v;
        }
    }

    /** ic4j's decoded representation, converted to our value model. */
    static Object fromIc4jValue(CandidType t, Object v) {
        switch (t.opcode) {
            case NAT_OP: case INT_OP: return ((BigInteger) v).longValue();
            case NAT8_OP: case INT8_OP: return ((Number) v).byteValue();
            case NAT16_OP: case INT16_OP: return ((Number) v).shortValue();
            case NAT32_OP: case INT32_OP: return ((Number) v).intValue();
            case NAT64_OP: case INT64_OP: return ((Number) v).longValue();
            case PRINCIPAL_OP: return Principal.of(((org.ic4j.types.Principal) v).getValue());
            case OPT_OP:
                Optional<?> o = (Optional<?>) v;
                return o.isPresent() ? Opt.some(fromIc4jValue(t.element, o.get())) : Opt.NONE;
            case VEC_OP:
                List<Object> list = new ArrayList<>();
                int n = v instanceof List ? ((List<?>) v).size() : Array.getLength(v);
                for (int i = 0; i < n; i++) {
                    list.add(fromIc4jValue(t.element, v instanceof List ? ((List<?>) v).get(i) : Array.get(v, i)));
                }
                if (t.element == NAT8) {
                    byte[] b = new byte[n];
                    for (int i = 0; i < n; i++) {
                        b[i] = (Byte) list.get(i);
                    }
                    return b;
                }
                return list;
            case RECORD_OP:
                Record r = new Record();
                for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                    long id = ((Label) e.getKey()).getId();
                    r.put(id, fromIc4jValue(t.fieldTypes[t.fieldIndex((int) id)], e.getValue()));
                }
                return r;
            case VARIANT_OP:
                Map.Entry<?, ?> e = ((Map<?, ?>) v).entrySet().iterator().next();
                long id = ((Label) e.getKey()).getId();
                return Variant.of(id, fromIc4jValue(t.fieldTypes[t.fieldIndex((int) id)], e.getValue()));
            default:
                return v;
        }
    }

    @Test
    void randomValuesAgreeInBothDirections() {
        int sameBytes = 0;
        int cases = 400;
        for (int c = 0; c < cases; c++) {
            int nargs = 1 + random.nextInt(3);
            CandidType[] types = new CandidType[nargs];
            Object[] values = new Object[nargs];
            List<IDLValue> ic4jArgs = new ArrayList<>();
            IDLType[] ic4jTypeArray = new IDLType[nargs];
            for (int i = 0; i < nargs; i++) {
                types[i] = randomType(3);
                values[i] = randomValue(types[i]);
                ic4jTypeArray[i] = toIc4j(types[i]);
                ic4jArgs.add(IDLValue.create(toIc4jValue(types[i], values[i]), ic4jTypeArray[i]));
            }
            String what = "case " + c + ": " + List.of(types) + " = " + Values.toString(java.util.Arrays.asList(values));

            byte[] ours = Candid.encode(types, values);
            // At the message's own types: ic4j's decoding at expected IDLTypes rejects e.g. a vec inside a variant.
            List<IDLValue> decodedByIc4j = IDLArgs.fromBytes(ours).getArgs();
            for (int i = 0; i < nargs; i++) {
                Object back = fromIc4jValue(types[i], decodedByIc4j.get(i).getValue());
                assertTrue(Values.equal(values[i], back), what + "\nic4j decoded our bytes as " + Values.toString(back));
            }

            // ic4j 0.6.18's ValueSerializer.serializeVariant always writes variant index 0, so ic4j can only
            // encode values whose variants all take their first tag; the other cases check our encoder only.
            boolean ic4jCanEncode = true;
            for (int i = 0; i < nargs; i++) {
                ic4jCanEncode &= onlyFirstTags(types[i], values[i]);
            }
            if (!ic4jCanEncode) {
                continue;
            }
            byte[] theirs = IDLArgs.create(ic4jArgs).toBytes();
            Object[] decodedByUs;
            try {
                decodedByUs = Candid.decode(theirs, types);
            } catch (CandidException e) {
                throw new AssertionError(what + "\nours   " + HexFormat.of().formatHex(ours) + "\ntheirs " + HexFormat.of().formatHex(theirs), e);
            }
            for (int i = 0; i < nargs; i++) {
                assertTrue(Values.equal(values[i], decodedByUs[i]), what + "\nwe decoded ic4j's bytes as " + Values.toString(decodedByUs[i]));
            }
            // Both encoders list composite types in pre-order and share equal types (ic4j by IDLType identity,
            // which toIc4j makes structural), so the messages should be identical.
            assertEquals(HexFormat.of().formatHex(theirs), HexFormat.of().formatHex(ours), what);
            sameBytes++;
        }
        assertTrue(sameBytes > cases / 2, sameBytes + " of " + cases + " cases encodable by ic4j");
    }

    static boolean onlyFirstTags(CandidType t, Object v) {
        switch (t.opcode) {
            case OPT_OP: return !((Opt) v).isPresent() || onlyFirstTags(t.element, ((Opt) v).get());
            case VEC_OP:
                if (v instanceof byte[]) {
                    return true;
                }
                for (Object e : (List<?>) v) {
                    if (!onlyFirstTags(t.element, e)) {
                        return false;
                    }
                }
                return true;
            case RECORD_OP:
                for (int i = 0; i < t.fieldIds.length; i++) {
                    if (!onlyFirstTags(t.fieldTypes[i], ((Record) v).getById(t.fieldIds[i]))) {
                        return false;
                    }
                }
                return true;
            case VARIANT_OP:
                return ((Variant) v).rawId() == t.fieldIds[0] && onlyFirstTags(t.fieldTypes[0], ((Variant) v).value());
            default:
                return true;
        }
    }
}
