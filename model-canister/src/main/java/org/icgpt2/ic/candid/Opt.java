package org.icgpt2.ic.candid;

/** A value of an {@code opt T} type; {@link #NONE} is {@code null}, {@code some(v)} is {@code opt v} (v may itself be null). */
public final class Opt {
    public static final Opt NONE = new Opt(false, null);

    private final boolean present;
    private final Object value;

    private Opt(boolean present, Object value) {
        this.present = present;
        this.value = value;
    }

    public static Opt some(Object value) {
        return new Opt(true, value);
    }

    public boolean isPresent() {
        return present;
    }

    public Object get() {
        if (!present) {
            throw new IllegalStateException("opt value is null");
        }
        return value;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Opt && present == ((Opt) o).present && Values.equal(value, ((Opt) o).value);
    }

    @Override
    public int hashCode() {
        return present ? 31 + Values.hash(value) : 0;
    }

    @Override
    public String toString() {
        return present ? "opt " + Values.toString(value) : "null";
    }
}
