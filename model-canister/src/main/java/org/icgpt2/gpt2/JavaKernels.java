package org.icgpt2.gpt2;

/**
 * Plain Java {@link Kernels}: the reference implementation on the JVM and the fallback in Wasm.
 * Every output is one dot product whose summation order does not depend on {@code batch}, so feeding prompt tokens
 * in batches gives bit-identical results to feeding them one at a time.
 */
public final class JavaKernels implements Kernels {

    @Override
    public void matmul(float[] out, int outOff, int outStride, float[] m, int mOff, int mStride,
                       float[] x, int xOff, int xStride, int rows, int n, int batch) {
        for (int r = 0; r < rows; r++) {
            int row = mOff + r * mStride;
            for (int b = 0; b < batch; b++) {
                out[outOff + b * outStride + r] = dot(m, row, x, xOff + b * xStride, n);
            }
        }
    }

    @Override
    public void matmulQ8(float[] out, int outOff, int outStride, byte[] q, int qOff, int qStride, float[] scales, int scalesOff,
                         short[] x, int xOff, int xStride, float[] xScales, int xScalesOff, int rows, int n, int batch) {
        for (int r = 0; r < rows; r++) {
            int row = qOff + r * qStride;
            float rowScale = scales[scalesOff + r];
            for (int b = 0; b < batch; b++) {
                int xRow = xOff + b * xStride;
                int acc = 0;
                for (int c = 0; c < n; c++) {
                    acc += q[row + c] * x[xRow + c];
                }
                out[outOff + b * outStride + r] = (float) acc * (rowScale * xScales[xScalesOff + b]);
            }
        }
    }

    /** Four independent accumulators let the JIT overlap the multiply-adds. */
    private static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += a[aOff + i] * b[bOff + i];
            s1 += a[aOff + i + 1] * b[bOff + i + 1];
            s2 += a[aOff + i + 2] * b[bOff + i + 2];
            s3 += a[aOff + i + 3] * b[bOff + i + 3];
        }
        for (; i < n; i++) {
            s0 += a[aOff + i] * b[bOff + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    public void weightedRowSum(float[] out, int outOff, float[] p, int pOff, float[] m, int mOff, int mStride, int rows, int n) {
        for (int c = 0; c < n; c++) {
            out[outOff + c] = 0;
        }
        for (int r = 0; r < rows; r++) {
            float w = p[pOff + r];
            int row = mOff + r * mStride;
            for (int c = 0; c < n; c++) {
                out[outOff + c] += w * m[row + c];
            }
        }
    }

    @Override
    public float maxLowerBound(float[] values, float[] scales, float c, int rows) {
        float best = Float.NEGATIVE_INFINITY;
        for (int r = 0; r < rows; r++) {
            float lower = values[r] - scales[r] * c;
            best = best < lower ? lower : best; // NaN never wins
        }
        return best;
    }

    @Override
    public int rowsReaching(int[] ids, float[] values, float[] scales, float c, float threshold, int rows) {
        int count = 0;
        for (int r = 0; r < rows; r++) {
            if (!(values[r] + scales[r] * c < threshold)) {
                if (count < ids.length) {
                    ids[count] = r;
                }
                count++;
            }
        }
        return count;
    }

    @Override
    public void transpose(float[] dst, int dstOff, float[] src, int srcOff, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int srcRow = srcOff + r * cols;
            for (int c = 0; c < cols; c++) {
                dst[dstOff + c * rows + r] = src[srcRow + c];
            }
        }
    }
}
