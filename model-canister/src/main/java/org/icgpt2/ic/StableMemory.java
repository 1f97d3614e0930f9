package org.icgpt2.ic;

import org.teavm.interop.Address;

/**
 * Stable memory through the 64-bit API: survives upgrades, up to hundreds of GiB. Reads and writes copy
 * straight between stable memory and Java arrays (no intermediate buffers); callers pass valid ranges.
 */
public final class StableMemory {
    /** Stable memory grows in Wasm pages of 64 KiB. */
    public static final long PAGE_SIZE = 65536;

    private StableMemory() {
    }

    /** Current size in pages. */
    public static long size() {
        return Ic0.stable64Size();
    }

    /** Grows by {@code pages}; returns the previous size in pages, or -1 when the IC refuses. */
    public static long grow(long pages) {
        return Ic0.stable64Grow(pages);
    }

    /** Grows stable memory so that it holds at least {@code bytes} bytes; traps if the IC refuses. */
    public static void ensureCapacity(long bytes) {
        long neededPages = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
        long currentPages = size();
        if (neededPages > currentPages && grow(neededPages - currentPages) == -1) {
            throw Api.trap("stable memory: cannot grow from " + currentPages + " to " + neededPages + " pages");
        }
    }

    public static void read(long offset, byte[] dst, int off, int len) {
        Ic0.stable64Read(Address.ofData(dst).add(off).toLong(), offset, len);
    }

    public static void write(long offset, byte[] src, int off, int len) {
        Ic0.stable64Write(offset, Address.ofData(src).add(off).toLong(), len);
    }

    /** Copies {@code count} raw little-endian f32 values from stable memory into {@code dst[off..]}. */
    public static void readFloats(long offset, float[] dst, int off, int count) {
        Ic0.stable64Read(Address.ofData(dst).add(off * 4).toLong(), offset, (long) count * 4);
    }

    /** Copies {@code src[off..off+count)} as raw little-endian f32 values to stable memory. */
    public static void writeFloats(long offset, float[] src, int off, int count) {
        Ic0.stable64Write(offset, Address.ofData(src).add(off * 4).toLong(), (long) count * 4);
    }
}
