package org.icgpt2.gpt2;

/** A {@link TensorSource} over a whole file held in a byte array. */
public final class ByteArrayTensorSource implements TensorSource {
    private final byte[] bytes;

    public ByteArrayTensorSource(byte[] bytes) {
        this.bytes = bytes;
    }

    @Override
    public long size() {
        return bytes.length;
    }

    @Override
    public void readBytes(long offset, byte[] dst, int dstOff, int len) {
        System.arraycopy(bytes, (int) offset, dst, dstOff, len);
    }

    @Override
    public void readFloats(long offset, float[] dst, int dstOff, int count) {
        int p = (int) offset;
        for (int i = 0; i < count; i++, p += 4) {
            dst[dstOff + i] = Float.intBitsToFloat((bytes[p] & 0xFF) | (bytes[p + 1] & 0xFF) << 8
                    | (bytes[p + 2] & 0xFF) << 16 | bytes[p + 3] << 24);
        }
    }
}
