package org.icgpt2.gpt2;

/**
 * int8 {@link Linear} with one f32 scale per row: {@code W[r, c] ~= q[r*cols + c] * scales[r]}, where
 * {@code scales[r] = absmax(row r) / 127} and {@code q = round(w * 127 / absmax)} (round half to even), so
 * {@code |q| <= 127} and the error per weight is at most half a step, {@code scales[r] / 2}. A quarter of the f32
 * bytes plus 4 bytes per row. Projections quantize the input vectors to int16 ({@link QuantizedActivations}) and
 * run {@link Kernels#matmulQ8}.
 */
public final class QuantizedMatrix implements Linear {
    public static final int Q_MAX = 127;

    public final byte[] q;
    public final float[] scales;
    private final int rows;
    private final int cols;

    /** An all-zero matrix, filled by {@link #setRows}. */
    public QuantizedMatrix(int rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("negative shape [" + rows + ", " + cols + "]");
        }
        this.rows = rows;
        this.cols = cols;
        this.q = new byte[Math.multiplyExact(rows, cols)];
        this.scales = new float[rows];
    }

    /** Quantizes the f32 matrix {@code m[off ..]} of shape [rows, cols] (rows contiguous). */
    public static QuantizedMatrix quantize(float[] m, int off, int rows, int cols) {
        QuantizedMatrix qm = new QuantizedMatrix(rows, cols);
        qm.setRows(0, m, off, rows);
        return qm;
    }

    /** Quantizes {@code count} f32 rows {@code src[srcOff ..]} (contiguous, {@code cols} apart) into rows {@code first ..}. */
    public void setRows(int first, float[] src, int srcOff, int count) {
        if (first < 0 || count < 0 || first + count > rows || srcOff < 0 || srcOff + (long) count * cols > src.length) {
            throw new IllegalArgumentException("rows " + first + "+" + count + " from offset " + srcOff + " out of range");
        }
        for (int r = 0; r < count; r++) {
            int from = srcOff + r * cols;
            int to = (first + r) * cols;
            float absMax = 0;
            for (int c = 0; c < cols; c++) {
                float a = Math.abs(src[from + c]);
                absMax = a > absMax ? a : absMax; // compare + select: Math.max on floats costs 18 IC instructions
            }
            if (!(absMax > 0) || absMax == Float.POSITIVE_INFINITY) {
                // zero row (or a non-finite one, which a checkpoint should not have): all zeros
                scales[first + r] = 0;
                for (int c = 0; c < cols; c++) {
                    q[to + c] = 0;
                }
                continue;
            }
            scales[first + r] = absMax / Q_MAX;
            float inv = Q_MAX / absMax;
            for (int c = 0; c < cols; c++) {
                // |w * inv| <= 127 (1 + 2^-24)^2 < 127.5, so the rounded value is within [-127, 127]
                q[to + c] = (byte) roundToInt(src[from + c] * inv);
            }
        }
    }

    /**
     * Round half to even for {@code |v| < 2^22}: adding 1.5 * 2^23 leaves the integer part in the low mantissa bits.
     * One f32 add and a reinterpret instead of Math.round (whose float-to-int conversion costs 20 IC instructions).
     */
    static int roundToInt(float v) {
        return Float.floatToRawIntBits(v + 12582912f) - 0x4B400000;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public long bytes() {
        return q.length + 4L * scales.length;
    }

    @Override
    public void apply(Kernels kernels, float[] out, int outOff, int outStride, float[] x, int xOff, int xStride, int batch,
                      QuantizedActivations scratch) {
        scratch.quantize(x, xOff, xStride, cols, batch);
        kernels.matmulQ8(out, outOff, outStride, q, 0, cols, scales, 0, scratch.values(), 0, cols, scratch.scales(), 0,
                rows, cols, batch);
    }

    @Override
    public void copyRow(int row, float[] dst, int dstOff) {
        float s = scales[row];
        int from = row * cols;
        for (int c = 0; c < cols; c++) {
            dst[dstOff + c] = q[from + c] * s;
        }
    }
}
