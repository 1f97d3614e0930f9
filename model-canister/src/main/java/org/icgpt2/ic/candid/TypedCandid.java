package org.icgpt2.ic.candid;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Conversions used by the code generated from .did files (scripts/build/candid-java.mjs) between typed Java values
 * and the codec's value model ({@link Candid}): an absent opt is a Java null, a {@code vec nat32} an int[].
 */
public final class TypedCandid {
    private TypedCandid() {
    }

    /** A decoded {@code vec nat32} (or {@code vec int32}): a List of Integer. */
    public static int[] ints(Object list) {
        List<?> values = (List<?>) list;
        int[] ints = new int[values.size()];
        for (int i = 0; i < ints.length; i++) {
            ints[i] = (Integer) values.get(i);
        }
        return ints;
    }

    /** Converts each element of a list (decoded values to Java, or Java values to encode). */
    public static <T, R> List<R> list(Object list, Function<T, R> convert) {
        @SuppressWarnings("unchecked")
        List<T> values = (List<T>) list;
        List<R> out = new ArrayList<>(values.size());
        for (T v : values) {
            out.add(convert.apply(v));
        }
        return out;
    }

    /** A decoded opt as a Java value, null when absent. */
    public static <T> T nullable(Object opt, Function<Object, T> convert) {
        Opt o = (Opt) opt;
        return o.isPresent() ? convert.apply(o.get()) : null;
    }

    /** A Java value to encode as an opt: null is absent. */
    public static <T> Opt opt(T value, Function<T, Object> convert) {
        return value == null ? Opt.NONE : Opt.some(convert.apply(value));
    }
}
