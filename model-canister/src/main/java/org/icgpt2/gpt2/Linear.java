package org.icgpt2.gpt2;

/**
 * A weight matrix [rows, cols] (rows = outputs, cols = inputs) as the forward pass uses it: projections of a batch of
 * vectors, and for the token embedding the lookup of one row. {@link DenseMatrix} holds f32 rows and calls
 * {@link Kernels#matmul}; {@link QuantizedMatrix} holds int8 rows with per-row scales and calls
 * {@link Kernels#matmulQ8}. The model code calls these once per matrix and batch, never per element.
 */
public interface Linear {
    int rows();

    int cols();

    /** Heap bytes held by the matrix (data and scales). */
    long bytes();

    /**
     * {@code out[outOff + b*outStride + r] = sum_{c<cols} W[r, c] * x[xOff + b*xStride + c]} for {@code r < rows},
     * {@code b < batch} (overwrites out). {@code scratch} holds quantized activations where the implementation needs them.
     */
    void apply(Kernels kernels, float[] out, int outOff, int outStride, float[] x, int xOff, int xStride, int batch,
               QuantizedActivations scratch);

    /** {@code dst[dstOff + c] = W[row, c]} (dequantized where the matrix is quantized). */
    void copyRow(int row, float[] dst, int dstOff);
}
