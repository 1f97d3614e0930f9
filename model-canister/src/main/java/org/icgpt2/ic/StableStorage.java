package org.icgpt2.ic;

/**
 * Stable memory as the canister's state sees it: {@link IcStableStorage} on the IC, a byte array in JVM tests
 * ({@code org.icgpt2.jvm.ByteArrayStableStorage}). It grows in 64 KiB pages and survives upgrades; callers pass
 * ranges inside {@link #size()}.
 */
public interface StableStorage {
    long PAGE_SIZE = 65536;

    /** Current size in pages. */
    long size();

    /** Grows so that it holds at least {@code bytes} bytes; fails (traps on the IC) when it cannot. */
    void ensureCapacity(long bytes);

    void read(long offset, byte[] dst, int off, int len);

    void write(long offset, byte[] src, int off, int len);

    /** Copies {@code count} raw little-endian f32 values into {@code dst[off..]}. */
    void readFloats(long offset, float[] dst, int off, int count);
}
