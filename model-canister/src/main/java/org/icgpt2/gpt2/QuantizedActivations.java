package org.icgpt2.gpt2;

/**
 * Scratch for the int16 inputs of {@link Kernels#matmulQ8}: each input vector {@code x_b} (n floats) is quantized with
 * its own scale, {@code x_b[c] ~= values[b*n + c] * scales[b]}, {@code scales[b] = absmax(x_b) / limit(n)},
 * round half to even. The arrays grow to the largest batch seen and are then reused (nothing allocated per token).
 * O(n) per vector, in Java: negligible next to the n * rows multiply-adds.
 */
public final class QuantizedActivations {
    private short[] values = new short[0];
    private float[] scales = new float[0];

    /**
     * The largest |x| for vectors of {@code n} values against weights with {@code |q| <= 127}: then
     * {@code sum_c |q*x| <= n * 127 * limit <= 2^31 - 1}, so {@link Kernels#matmulQ8}'s int32 sums are exact.
     * 22,017 for n = 768, 5,504 for n = 3072 (rounding error 2e-5 / 9e-5 of absmax, far below the weights' 1/254);
     * at most 32,767 (int16).
     */
    public static int limit(int n) {
        if (n <= 0) {
            return Short.MAX_VALUE;
        }
        int l = Integer.MAX_VALUE / (QuantizedMatrix.Q_MAX * n);
        return l < Short.MAX_VALUE ? l : Short.MAX_VALUE;
    }

    /** Quantizes {@code batch} vectors {@code x[xOff + b*xStride ..+n]} into {@link #values()} ({@code n} apart) and {@link #scales()}. */
    public void quantize(float[] x, int xOff, int xStride, int n, int batch) {
        if (values.length < batch * n) {
            values = new short[batch * n];
        }
        if (scales.length < batch) {
            scales = new float[batch];
        }
        float limit = limit(n);
        for (int b = 0; b < batch; b++) {
            int from = xOff + b * xStride;
            int to = b * n;
            float absMax = 0;
            for (int c = 0; c < n; c++) {
                float a = Math.abs(x[from + c]);
                absMax = a > absMax ? a : absMax;
            }
            if (!(absMax > 0) || absMax == Float.POSITIVE_INFINITY) {
                scales[b] = 0;
                for (int c = 0; c < n; c++) {
                    values[to + c] = 0;
                }
                continue;
            }
            scales[b] = absMax / limit;
            float inv = limit / absMax;
            for (int c = 0; c < n; c++) {
                // |x * inv| <= limit (1 + 2^-24)^2 < limit + 0.5
                values[to + c] = (short) QuantizedMatrix.roundToInt(x[from + c] * inv);
            }
        }
    }

    public short[] values() {
        return values;
    }

    public float[] scales() {
        return scales;
    }
}
