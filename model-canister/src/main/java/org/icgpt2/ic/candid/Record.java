package org.icgpt2.ic.candid;

import java.util.Arrays;

/**
 * A value of a record type: field values kept sorted by unsigned Candid field id, looked up by name or id.
 * Tuples are records with fields 0, 1, 2, ...
 */
public final class Record {
    private int[] ids;
    private String[] names;
    private Object[] values;
    private int size;

    public Record() {
        this(new int[4], new String[4], new Object[4], 0);
    }

    /**
     * Decoding shares the id and name arrays of the expected record type; they are full (size == length),
     * so {@link #put} copies them before it inserts a new field and never writes into the type.
     */
    Record(int[] ids, String[] names, Object[] values, int size) {
        this.ids = ids;
        this.names = names;
        this.values = values;
        this.size = size;
    }

    public static Record tuple(Object... values) {
        Record r = new Record();
        for (int i = 0; i < values.length; i++) {
            r.put(i, values[i]);
        }
        return r;
    }

    public Record put(String name, Object value) {
        return put(CandidType.hash(name), name, value);
    }

    /** Sets a field given by its numeric id (0 to 2^32 - 1). */
    public Record put(long id, Object value) {
        return put(CandidType.checkId(id), null, value);
    }

    private Record put(int id, String name, Object value) {
        int i = indexOf(id);
        if (i >= 0) {
            values[i] = value;
            return this;
        }
        i = -i - 1;
        if (size == ids.length) {
            ids = Arrays.copyOf(ids, size * 2 + 1);
            names = Arrays.copyOf(names, size * 2 + 1);
            values = Arrays.copyOf(values, size * 2 + 1);
        }
        System.arraycopy(ids, i, ids, i + 1, size - i);
        System.arraycopy(names, i, names, i + 1, size - i);
        System.arraycopy(values, i, values, i + 1, size - i);
        ids[i] = id;
        names[i] = name;
        values[i] = value;
        size++;
        return this;
    }

    /** Index of the field, or -(insertion point) - 1; ids compare unsigned as in the type table. */
    private int indexOf(int id) {
        int lo = 0;
        int hi = size - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = Integer.compareUnsigned(ids[mid], id);
            if (c == 0) {
                return mid;
            }
            if (c < 0) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return -lo - 1;
    }

    public boolean has(String name) {
        return indexOf(CandidType.hash(name)) >= 0;
    }

    public Object get(String name) {
        return valueOf(CandidType.hash(name), name);
    }

    public Object get(long id) {
        return valueOf(CandidType.checkId(id), null);
    }

    Object getById(int id) {
        int i = indexOf(id);
        return i >= 0 ? values[i] : null;
    }

    boolean hasId(int id) {
        return indexOf(id) >= 0;
    }

    private Object valueOf(int id, String name) {
        int i = indexOf(id);
        if (i < 0) {
            throw new CandidException("record has no field " + (name != null ? name : Integer.toUnsignedString(id)));
        }
        return values[i];
    }

    public int size() {
        return size;
    }

    /** The id of the i-th field in id order, unsigned. */
    public long idAt(int i) {
        return ids[i] & 0xFFFFFFFFL;
    }

    public Object valueAt(int i) {
        return values[i];
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Record) || ((Record) o).size != size) {
            return false;
        }
        Record r = (Record) o;
        for (int i = 0; i < size; i++) {
            if (ids[i] != r.ids[i] || !Values.equal(values[i], r.values[i])) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = 1;
        for (int i = 0; i < size; i++) {
            h = h * 31 + ids[i] * 7 + Values.hash(values[i]);
        }
        return h;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("record {");
        for (int i = 0; i < size; i++) {
            s.append(names[i] != null ? names[i] : Integer.toUnsignedString(ids[i]))
                    .append(" = ").append(Values.toString(values[i])).append("; ");
        }
        return s.append('}').toString();
    }
}
