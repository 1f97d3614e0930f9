package org.icgpt2.ic;

/** The canister's stable memory, through {@link StableMemory}'s 64-bit System API calls. */
public final class IcStableStorage implements StableStorage {
    @Override
    public long size() {
        return StableMemory.size();
    }

    @Override
    public void ensureCapacity(long bytes) {
        StableMemory.ensureCapacity(bytes);
    }

    @Override
    public void read(long offset, byte[] dst, int off, int len) {
        StableMemory.read(offset, dst, off, len);
    }

    @Override
    public void write(long offset, byte[] src, int off, int len) {
        StableMemory.write(offset, src, off, len);
    }

    @Override
    public void readFloats(long offset, float[] dst, int off, int count) {
        StableMemory.readFloats(offset, dst, off, count);
    }
}
