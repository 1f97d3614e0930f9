package org.icgpt2.ic.candid;

/** A value of a variant type: one tag (by Candid id, and by name when the expected type named it) and its value. */
public final class Variant {
    private final int id;
    private final String name;
    private final Object value;

    Variant(int id, String name, Object value) {
        this.id = id;
        this.name = name;
        this.value = value;
    }

    public static Variant of(String name, Object value) {
        return new Variant(CandidType.hash(name), name, value);
    }

    /** A tag given by its numeric id (0 to 2^32 - 1). */
    public static Variant of(long id, Object value) {
        return new Variant(CandidType.checkId(id), null, value);
    }

    /** The tag id as an unsigned 32-bit value. */
    public long id() {
        return id & 0xFFFFFFFFL;
    }

    int rawId() {
        return id;
    }

    /** The tag name, or null when only the id is known. */
    public String name() {
        return name;
    }

    public boolean is(String tagName) {
        return id == CandidType.hash(tagName);
    }

    public Object value() {
        return value;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Variant && id == ((Variant) o).id && Values.equal(value, ((Variant) o).value);
    }

    @Override
    public int hashCode() {
        return id * 31 + Values.hash(value);
    }

    @Override
    public String toString() {
        return "variant {" + (name != null ? name : Long.toString(id())) + " = " + Values.toString(value) + "}";
    }
}
