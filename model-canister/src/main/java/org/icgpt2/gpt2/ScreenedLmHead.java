package org.icgpt2.gpt2;

/**
 * The f32 LM head for fewer instructions: every logit first from an int8 copy of the tied embedding
 * ({@link QuantizedMatrix}, built once at set-up, a quarter of the f32 bytes), with a rigorous bound on how far each
 * int8 logit can be from the f32 logit that {@link Kernels#matmul} computes; then exactly those f32 logits are
 * recomputed (same kernel, same bits) for every row whose bound reaches the region that decides the token. Rows below
 * keep their int8 logit.
 *
 * <p>The region: rows whose upper bound is at least {@code bestLower - exactMargin}, where {@code bestLower} is the
 * highest lower bound. With margin 0 (greedy) every row that could hold the highest f32 logit is exact, and every
 * other row is strictly below it, so the argmax, ties included, is the f32 path's. With margin
 * {@code temperature * ln(1e9)} every row whose probability could reach 1e-9 of the top token's is exact.
 *
 * <h2>The bound</h2>
 * Row r of the embedding: f32 values w (absmax m), int8 values q, scale s = fl(m/127) ({@link QuantizedMatrix}).
 * Input x (n = cols f32 values, X1 = sum |x_c|), int16 values xi with scale sigma ({@link QuantizedActivations}), and
 * E1 = sum |x_c - sigma xi_c|, their rounding, measured. u = 2^-24, gamma_k = k u / (1 - k u).
 * F = the f32 logit (n products and sums in any order), D = sum w_c x_c exactly, Q = fl(fl(acc) * fl(s * sigma)) the
 * int8 logit ({@link Kernels#matmulQ8}, acc = sum q_c xi_c exact).
 * <ol>
 * <li>|F - D| &lt;= gamma_n sum |w_c x_c| &lt;= gamma_n m X1 &lt;= 127 (1 + 2^-20) gamma_n s X1
 * (Higham, Accuracy and Stability of Numerical Algorithms, 3.1; m &lt;= 127 s / (1 - u)).</li>
 * <li>q_c = round(fl(w_c * fl(127/m))): w_c / s is that rounded product times at most three (1 +- u) factors, and
 * |q_c| &lt;= 127, so |w_c - s q_c| &lt;= s (0.5 + 127.5 * 3.01 u) &lt;= s (0.5 + 2^-12).</li>
 * <li>D - s sigma acc = sum (w_c - s q_c) x_c + s sum q_c (x_c - sigma xi_c), so
 * |D - s sigma acc| &lt;= s (0.5 + 2^-12) X1 + 127 s E1.</li>
 * <li>Q is s sigma acc rounded three times, and |s sigma acc| &lt;= s sum |q_c| (|x_c| + |x_c - sigma xi_c|), so
 * |Q - s sigma acc| &lt;= gamma_3 127 s (X1 + E1).</li>
 * <li>The screen itself rounds: X1 and E1 summed in f64 (relative error &lt;= n 2^-53), C from them in f32, s * C,
 * Q +- s * C (the comparisons are exact). Each f32 step rounds by at most u relative, on values at most
 * |Q| + s C &lt;= 257 s (X1 + E1): about 7 * 257 u s (X1 + E1) in all, which 127 * 2^-18 s (X1 + E1)
 * = 8128 u s (X1 + E1) covers with room, together with the &lt;= n 2^-150 absolute error of products that underflow
 * (the ranges below keep s C above 2^-88).</li>
 * </ol>
 * Adding up: |F - Q| &lt;= s C with C = alpha X1 + beta E1, alpha = 0.5 + 2^-12 + 127 ((1 + 2^-20) gamma_n + gamma_3
 * + 2^-18), beta = 127 (1 + gamma_3 + 2^-18); for n = 768, alpha = 0.50607 (the f32 rounding of F is 1.2% of it).
 * E1 is about n sigma / 4, sigma = absmax(x) / 22017, so the second term matters only for inputs with large
 * outliers. The steps assume normal numbers without overflow, so a row is screened only if m = 0 or
 * 2^-40 &lt;= m &lt;= 2^40 and all its values are finite (others are always recomputed), and an input only if
 * 2^-40 &lt;= absmax x &lt;= 2^40 and X1 is finite (else every row is recomputed).
 */
public final class ScreenedLmHead {
    private static final double U = 0x1p-24;
    private static final float MIN_ABS = 0x1p-40f;
    private static final float MAX_ABS = 0x1p40f;

    private final float[] embedding;
    private final int rows;
    private final int cols;
    private final QuantizedMatrix quantized;
    /** s per row, or +Infinity for rows outside the screened range (always recomputed). */
    private final float[] boundScales;
    private final float alpha;
    private final float beta;

    private ScreenedLmHead(float[] embedding, int rows, int cols, QuantizedMatrix quantized, float[] boundScales) {
        this.embedding = embedding;
        this.rows = rows;
        this.cols = cols;
        this.quantized = quantized;
        this.boundScales = boundScales;
        double gammaN = gamma(cols);
        double gamma3 = gamma(3);
        this.alpha = (float) (0.5 + 0x1p-12 + 127 * ((1 + 0x1p-20) * gammaN + gamma3 + 0x1p-18));
        this.beta = (float) (127 * (1 + gamma3 + 0x1p-18));
    }

    private static double gamma(int k) {
        return k * U / (1 - k * U);
    }

    /** Quantizes the f32 matrix {@code embedding} [rows, cols] (kept by reference) and classifies its rows. */
    public static ScreenedLmHead build(float[] embedding, int rows, int cols, Kernels kernels) {
        if (rows <= 0 || cols <= 0 || cols > (1 << 20) || (long) rows * cols > embedding.length) {
            throw new IllegalArgumentException("cannot screen a [" + rows + ", " + cols + "] head");
        }
        QuantizedMatrix quantized = QuantizedMatrix.quantize(embedding, 0, rows, cols);
        // sum_c w_c * 0 is NaN exactly when the row holds an infinity or a NaN: one cheap SIMD pass instead of Java
        float[] finite = new float[rows];
        kernels.matmul(finite, 0, 1, embedding, 0, cols, new float[cols], 0, cols, rows, cols, 1);
        float[] boundScales = new float[rows];
        float minScale = MIN_ABS / QuantizedMatrix.Q_MAX;
        float maxScale = MAX_ABS / QuantizedMatrix.Q_MAX;
        for (int r = 0; r < rows; r++) {
            float s = quantized.scales[r];
            boolean screened = finite[r] == 0 && (s == 0 || (s >= minScale && s <= maxScale));
            boundScales[r] = screened ? s : Float.POSITIVE_INFINITY;
        }
        return new ScreenedLmHead(embedding, rows, cols, quantized, boundScales);
    }

    /** Heap bytes held besides the f32 embedding: the int8 copy with its scales, and the bound scales. */
    public long bytes() {
        return quantized.bytes() + 4L * boundScales.length;
    }

    /**
     * Rows to recompute one by one at most, the size of {@link RunState}'s list: above that, one full f32 product
     * costs less (a single row costs about 1.16 times its share of the full product in the SIMD kernel).
     */
    static int maxExactRows(int rows) {
        return Math.max(1, rows / 2);
    }

    /**
     * Writes {@code logits[0 .. rows)} for the input {@code x[xOff .. xOff+cols)}: the f32 logit of
     * {@link Kernels#matmul} for every row whose bound reaches {@code exactMargin} below the best lower bound (for
     * {@code exactMargin = +Infinity}, every row), the int8 logit for the others. {@code exactRows} receives the
     * recomputed rows' ids (at least {@link #maxExactRows} long).
     *
     * @return how many rows were computed in f32 ({@code rows} when that was the whole product)
     */
    public int apply(Kernels kernels, float[] logits, float[] x, int xOff, float exactMargin, QuantizedActivations scratch,
                     int[] exactRows) {
        if (!(exactMargin >= 0)) {
            throw new IllegalArgumentException("exactMargin must be >= 0, got " + exactMargin);
        }
        float c = exactMargin == Float.POSITIVE_INFINITY ? Float.NaN : boundFactor(x, xOff, scratch);
        if (Float.isNaN(c)) {
            return fullProduct(kernels, logits, x, xOff);
        }
        kernels.matmulQ8(logits, 0, rows, quantized.q, 0, cols, quantized.scales, 0, scratch.values(), 0, cols,
                scratch.scales(), 0, rows, cols, 1);
        float threshold = kernels.maxLowerBound(logits, boundScales, c, rows) - exactMargin;
        int count = kernels.rowsReaching(exactRows, logits, boundScales, c, threshold, rows);
        if (count > maxExactRows(rows)) {
            return fullProduct(kernels, logits, x, xOff);
        }
        for (int i = 0; i < count; i++) {
            int r = exactRows[i];
            kernels.matmul(logits, r, 1, embedding, r * cols, cols, x, xOff, cols, 1, cols, 1);
        }
        return count;
    }

    private int fullProduct(Kernels kernels, float[] logits, float[] x, int xOff) {
        kernels.matmul(logits, 0, 1, embedding, 0, cols, x, xOff, cols, rows, cols, 1);
        return rows;
    }

    /**
     * Quantizes x into {@code scratch} and returns C of the bound (|f32 logit - int8 logit| &lt;= s_r C for every
     * screened row), or NaN when x is outside the screened range.
     */
    float boundFactor(float[] x, int xOff, QuantizedActivations scratch) {
        double absSum = 0;
        float absMax = 0;
        for (int c = 0; c < cols; c++) {
            float a = Math.abs(x[xOff + c]);
            absSum += a;
            absMax = a > absMax ? a : absMax; // compare + select: Math.max on floats costs 18 IC instructions
        }
        if (!(absSum <= Float.MAX_VALUE) || absMax < MIN_ABS || absMax > MAX_ABS) {
            return Float.NaN; // NaN or infinite values, or magnitudes whose roundings the bound does not cover
        }
        scratch.quantize(x, xOff, cols, cols, 1);
        double sigma = scratch.scales()[0];
        short[] xi = scratch.values();
        double roundingSum = 0;
        for (int c = 0; c < cols; c++) {
            roundingSum += Math.abs(x[xOff + c] - sigma * xi[c]); // sigma * xi is exact in f64
        }
        return alpha * (float) absSum + beta * (float) roundingSum;
    }

    /** The int8 matrix (for tests of the bound). */
    QuantizedMatrix quantized() {
        return quantized;
    }

    /** s_r, or +Infinity for a row that is always recomputed. */
    float boundScale(int row) {
        return boundScales[row];
    }
}
