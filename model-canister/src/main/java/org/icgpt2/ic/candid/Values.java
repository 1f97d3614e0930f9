package org.icgpt2.ic.candid;

import java.util.Arrays;
import java.util.List;

/** Equality, hashing and printing of decoded values, which may hold byte[] blobs at any depth. */
final class Values {
    private Values() {
    }

    static boolean equal(Object a, Object b) {
        if (a instanceof byte[] && b instanceof byte[]) {
            return Arrays.equals((byte[]) a, (byte[]) b);
        }
        if (a instanceof List && b instanceof List) {
            List<?> x = (List<?>) a;
            List<?> y = (List<?>) b;
            if (x.size() != y.size()) {
                return false;
            }
            for (int i = 0; i < x.size(); i++) {
                if (!equal(x.get(i), y.get(i))) {
                    return false;
                }
            }
            return true;
        }
        return a == null ? b == null : a.equals(b);
    }

    static int hash(Object v) {
        if (v instanceof byte[]) {
            return Arrays.hashCode((byte[]) v);
        }
        if (v instanceof List) {
            int h = 1;
            for (Object e : (List<?>) v) {
                h = h * 31 + hash(e);
            }
            return h;
        }
        return v == null ? 0 : v.hashCode();
    }

    static String toString(Object v) {
        if (v instanceof byte[]) {
            StringBuilder s = new StringBuilder("blob \"");
            for (byte b : (byte[]) v) {
                s.append('\\').append(Character.forDigit((b >> 4) & 15, 16)).append(Character.forDigit(b & 15, 16));
            }
            return s.append('"').toString();
        }
        if (v instanceof List) {
            StringBuilder s = new StringBuilder("vec {");
            for (Object e : (List<?>) v) {
                s.append(toString(e)).append("; ");
            }
            return s.append('}').toString();
        }
        return String.valueOf(v);
    }
}
