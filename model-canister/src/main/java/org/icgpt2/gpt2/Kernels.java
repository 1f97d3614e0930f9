package org.icgpt2.gpt2;

/**
 * The heavy loops of the forward pass. The model code only calls these, so a Wasm SIMD implementation
 * (merged into model.wasm) can replace {@link JavaKernels} without touching the model.
 * All offsets and strides are in floats. Implementations may assume the ranges are valid: callers check them.
 * Each output of {@link #matmul} must not depend on {@code batch} (same summation order for any batch size): a session
 * ingests its prompt in batches that depend on how the work was split across calls, and must give the same tokens.
 * Nor may it depend on {@code rows}: {@link ScreenedLmHead} recomputes single rows of the LM head and must get the bits
 * the full product gives.
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
     * int8 matrix times a batch of int16 vectors, then dequantized ({@link QuantizedMatrix}, {@link QuantizedActivations}):
     * <pre>
     *   acc[b][r] = sum_{c&lt;n} q[qOff + r*qStride + c] * x[xOff + b*xStride + c]        (int arithmetic, wrapping)
     *   out[outOff + b*outStride + r] = (float) acc[b][r] * (scales[scalesOff + r] * xScales[xScalesOff + b])
     * </pre>
     * for {@code r < rows}, {@code b < batch} (offsets and strides in elements of each array). The products
     * {@code scales[r] * xScales[b]} and the final product are f32 multiplications, and {@code (float) acc} rounds
     * to nearest, so every implementation gives bit-identical results. The integer sum is the exact dot product
     * whenever {@code sum_c |q*x|} fits in an int (then the summation order does not matter, and the result does not
     * depend on {@code batch}); callers guarantee that by keeping {@code |q| <= 127} and
     * {@code |x| <= QuantizedActivations.limit(n)}, i.e. {@code n * 127 * |x| <= 2^31 - 1}. Outside that bound
     * the result is the sum modulo 2^32 (still identical across implementations).
     */
    void matmulQ8(float[] out, int outOff, int outStride,
                  byte[] q, int qOff, int qStride, float[] scales, int scalesOff,
                  short[] x, int xOff, int xStride, float[] xScales, int xScalesOff,
                  int rows, int n, int batch);

    /**
     * Weighted sum of rows: {@code out[outOff + c] = sum_{r<rows} p[pOff + r] * m[mOff + r*mStride + c]} for {@code c < n}
     * (overwrites out). Attention's probability-weighted sum of the value cache.
     */
    void weightedRowSum(float[] out, int outOff, float[] p, int pOff, float[] m, int mOff, int mStride, int rows, int n);

    /**
     * The best lower bound of {@link ScreenedLmHead}: {@code max over r < rows of (values[r] - scales[r] * c)}, each term
     * one f32 multiplication then one f32 subtraction; NaN terms are skipped; {@code -Infinity} when none is left.
     */
    float maxLowerBound(float[] values, float[] scales, float c, int rows);

    /**
     * The rows of {@link ScreenedLmHead} whose upper bound reaches {@code threshold}: every {@code r < rows} for which
     * {@code values[r] + scales[r] * c < threshold} is false (f32 multiplication then addition; NaN reaches), in
     * increasing order. Writes the first {@code ids.length} of them to {@code ids} and returns how many there are
     * (possibly more than {@code ids.length}).
     */
    int rowsReaching(int[] ids, float[] values, float[] scales, float c, float threshold, int rows);

    /** {@code dst[dstOff + c*rows + r] = src[srcOff + r*cols + c]}: a [rows, cols] matrix into [cols, rows]. */
    void transpose(float[] dst, int dstOff, float[] src, int srcOff, int rows, int cols);
}
