package org.icgpt2.jvm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.icgpt2.ic.StableStorage;

/**
 * Stable memory in a byte array, for running the canister's state on the JVM. {@link #snapshot()} and the copying
 * constructor stand for an upgrade: the bytes survive, everything else is new.
 */
public final class ByteArrayStableStorage implements StableStorage {
    private final long maxPages;
    private byte[] bytes;

    /** Empty, and at most {@code maxBytes} large (a byte array holds less than 2 GiB). */
    public ByteArrayStableStorage(long maxBytes) {
        this.maxPages = Math.min(maxBytes, Integer.MAX_VALUE - PAGE_SIZE) / PAGE_SIZE;
        this.bytes = new byte[0];
    }

    /** Holding a copy of {@code snapshot}, as stable memory after an upgrade. */
    public ByteArrayStableStorage(byte[] snapshot, long maxBytes) {
        this(maxBytes);
        if (snapshot.length % PAGE_SIZE != 0 || snapshot.length / PAGE_SIZE > maxPages) {
            throw new IllegalArgumentException("a snapshot is whole pages within the maximum size");
        }
        bytes = snapshot.clone();
    }

    /** A copy of the current contents. */
    public byte[] snapshot() {
        return bytes.clone();
    }

    @Override
    public long size() {
        return bytes.length / PAGE_SIZE;
    }

    @Override
    public void ensureCapacity(long needed) {
        long pages = (needed + PAGE_SIZE - 1) / PAGE_SIZE;
        if (pages > maxPages) {
            throw new IllegalStateException("stable memory: cannot grow from " + size() + " to " + pages + " pages");
        }
        if (pages > size()) {
            bytes = Arrays.copyOf(bytes, (int) (pages * PAGE_SIZE));
        }
    }

    @Override
    public void read(long offset, byte[] dst, int off, int len) {
        System.arraycopy(bytes, checked(offset, len), dst, off, len);
    }

    @Override
    public void write(long offset, byte[] src, int off, int len) {
        System.arraycopy(src, off, bytes, checked(offset, len), len);
    }

    @Override
    public void readFloats(long offset, float[] dst, int off, int count) {
        ByteBuffer.wrap(bytes, checked(offset, 4L * count), 4 * count).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
                .get(dst, off, count);
    }

    /** The offset as an index; out of range traps on the IC, so it throws here. */
    private int checked(long offset, long len) {
        if (offset < 0 || len < 0 || offset + len > bytes.length) {
            throw new IndexOutOfBoundsException("stable memory: [" + offset + ", " + (offset + len) + ") is outside "
                    + bytes.length + " bytes");
        }
        return (int) offset;
    }
}
