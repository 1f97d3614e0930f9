package org.icgpt2.gpt2;

/**
 * The heavy loops of the forward pass. The model code only calls these, so a Wasm SIMD implementation
 * (merged into model.wasm) can replace {@link JavaKernels} without touching the model.
 * All offsets and strides are in floats. Implementations may assume the ranges are valid: callers check them.
 * Each output of {@link #matmul} must not depend on {@code batch} (same summation order for any batch size): a session
 * ingests its prompt in batches that depend on how the work was split across calls, and must give the same tokens.
 */
public interface Kernels {

    /**
     * Matrix times a batch of vectors:
     * {@code out[outOff + b*outStride + r] = sum_{c<n} m[mOff + r*mStride + c] * x[xOff + b*xStride + c]}
     * for {@code r < rows}, {@code b < batch}. With {@code batch = 1} this is a matrix-vector product; with
     * {@code mStride = n_embd} over a KV cache it computes attention scores.
     */
    void matmul(float[] out, int outOff, int outStride,
                float[] m, int mOff, int mStride,
                float[] x, int xOff, int xStride,
                int rows, int n, int batch);

    /**
     * Weighted sum of rows: {@code out[outOff + c] = sum_{r<rows} p[pOff + r] * m[mOff + r*mStride + c]} for {@code c < n}
     * (overwrites out). Attention's probability-weighted sum of the value cache.
     */
    void weightedRowSum(float[] out, int outOff, float[] p, int pOff, float[] m, int mOff, int mStride, int rows, int n);

    /** {@code dst[dstOff + c*rows + r] = src[srcOff + r*cols + c]}: a [rows, cols] matrix into [cols, rows]. */
    void transpose(float[] dst, int dstOff, float[] src, int srcOff, int rows, int cols);
}
