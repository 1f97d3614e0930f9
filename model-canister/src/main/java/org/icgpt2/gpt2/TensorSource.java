package org.icgpt2.gpt2;

/**
 * Random-access bytes of a safetensors file: a byte array here, the canister's stable memory in production.
 * Callers check ranges before reading.
 */
public interface TensorSource {
    long size();

    void readBytes(long offset, byte[] dst, int dstOff, int len);

    /** Reads {@code count} raw little-endian f32 values (a stable-memory source can copy them straight into the array). */
    void readFloats(long offset, float[] dst, int dstOff, int count);
}
