package org.icgpt2.ic;

import org.icgpt2.gpt2.Kernels;
import org.teavm.interop.Address;
import org.teavm.interop.Import;

/**
 * {@link Kernels} backed by the Wasm SIMD128 kernels that {@code scripts/gen-kernels.mjs} writes into
 * {@code target/kernels.wat}, merged into the TeaVM output ({@code wasm-merge <teavm.wasm> main kernels.wasm kernels}).
 * Only runs inside the canister: on the JVM the native methods have no implementation (use {@code JavaKernels} there).
 *
 * <p>Every call checks its ranges once (not per element) and throws {@link IllegalArgumentException} on a bad
 * offset, stride or count, so a caller bug cannot make the kernel read or write outside the arrays. Array
 * addresses are taken inside the call expression, with nothing allocated between taking them and the call,
 * because TeaVM's GC may move arrays.
 */
public final class SimdKernels implements Kernels {

    @Import(module = "kernels", name = "matmul")
    private static native void matmul(int out, int outStride, int m, int mStride, int x, int xStride,
                                      int rows, int n, int batch);

    @Import(module = "kernels", name = "matmul_q8")
    private static native void matmulQ8(int out, int outStride, int q, int qStride, int scales, int x, int xStride,
                                        int xScales, int rows, int n, int batch);

    @Import(module = "kernels", name = "weighted_row_sum")
    private static native void weightedRowSum(int out, int p, int m, int mStride, int rows, int n);

    @Import(module = "kernels", name = "transpose")
    private static native void transpose(int dst, int src, int rows, int cols);

    @Override
    public void matmul(float[] out, int outOff, int outStride, float[] m, int mOff, int mStride,
                       float[] x, int xOff, int xStride, int rows, int n, int batch) {
        if (rows < 0 || n < 0 || batch < 0) {
            throw new IllegalArgumentException("matmul: negative count");
        }
        if (rows == 0 || batch == 0) {
            return;
        }
        checkRange("matmul out", out.length, outOff, outStride, batch, rows);
        if (n > 0) {
            checkRange("matmul m", m.length, mOff, mStride, rows, n);
            checkRange("matmul x", x.length, xOff, xStride, batch, n);
        }
        matmul(Address.ofData(out).add(outOff * 4).toInt(), outStride,
                Address.ofData(m).add(mOff * 4).toInt(), mStride,
                Address.ofData(x).add(xOff * 4).toInt(), xStride, rows, n, batch);
    }

    @Override
    public void matmulQ8(float[] out, int outOff, int outStride, byte[] q, int qOff, int qStride, float[] scales, int scalesOff,
                         short[] x, int xOff, int xStride, float[] xScales, int xScalesOff, int rows, int n, int batch) {
        if (rows < 0 || n < 0 || batch < 0) {
            throw new IllegalArgumentException("matmulQ8: negative count");
        }
        if (rows == 0 || batch == 0) {
            return;
        }
        checkRange("matmulQ8 out", out.length, outOff, outStride, batch, rows);
        checkRange("matmulQ8 scales", scales.length, scalesOff, 0, 1, rows);
        checkRange("matmulQ8 xScales", xScales.length, xScalesOff, 0, 1, batch);
        if (n > 0) {
            checkRange("matmulQ8 q", q.length, qOff, qStride, rows, n);
            checkRange("matmulQ8 x", x.length, xOff, xStride, batch, n);
        }
        matmulQ8(Address.ofData(out).add(outOff * 4).toInt(), outStride,
                Address.ofData(q).add(qOff).toInt(), qStride,
                Address.ofData(scales).add(scalesOff * 4).toInt(),
                Address.ofData(x).add(xOff * 2).toInt(), xStride,
                Address.ofData(xScales).add(xScalesOff * 4).toInt(), rows, n, batch);
    }

    @Override
    public void weightedRowSum(float[] out, int outOff, float[] p, int pOff, float[] m, int mOff, int mStride,
                               int rows, int n) {
        if (rows < 0 || n < 0) {
            throw new IllegalArgumentException("weightedRowSum: negative count");
        }
        if (n == 0) {
            return;
        }
        checkRange("weightedRowSum out", out.length, outOff, 0, 1, n);
        if (rows > 0) {
            checkRange("weightedRowSum p", p.length, pOff, 0, 1, rows);
            checkRange("weightedRowSum m", m.length, mOff, mStride, rows, n);
        }
        weightedRowSum(Address.ofData(out).add(outOff * 4).toInt(), Address.ofData(p).add(pOff * 4).toInt(),
                Address.ofData(m).add(mOff * 4).toInt(), mStride, rows, n);
    }

    @Override
    public void transpose(float[] dst, int dstOff, float[] src, int srcOff, int rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("transpose: negative count");
        }
        if (rows == 0 || cols == 0) {
            return;
        }
        checkRange("transpose dst", dst.length, dstOff, 0, 1, (long) rows * cols);
        checkRange("transpose src", src.length, srcOff, 0, 1, (long) rows * cols);
        transpose(Address.ofData(dst).add(dstOff * 4).toInt(), Address.ofData(src).add(srcOff * 4).toInt(), rows, cols);
    }

    /** {@code count >= 1} vectors of {@code len >= 1} floats, {@code stride} apart, starting at {@code off}. */
    private static void checkRange(String what, int length, int off, int stride, int count, long len) {
        if (off < 0 || stride < 0 || off + (long) (count - 1) * stride + len > length) {
            throw new IllegalArgumentException(what + ": range outside the array (off=" + off + ", stride=" + stride
                    + ", count=" + count + ", len=" + len + ", length=" + length + ")");
        }
    }
}
