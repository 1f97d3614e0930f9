package org.icgpt2.gpt2;

/** f32 {@link Linear}: rows of {@code data} (not copied), {@code cols} apart. */
public final class DenseMatrix implements Linear {
    public final float[] data;
    private final int rows;
    private final int cols;

    public DenseMatrix(float[] data, int rows, int cols) {
        if (rows < 0 || cols < 0 || (long) rows * cols > data.length) {
            throw new IllegalArgumentException("[" + rows + ", " + cols + "] does not fit " + data.length + " floats");
        }
        this.data = data;
        this.rows = rows;
        this.cols = cols;
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
        return 4L * data.length;
    }

    @Override
    public void apply(Kernels kernels, float[] out, int outOff, int outStride, float[] x, int xOff, int xStride, int batch,
                      QuantizedActivations scratch) {
        kernels.matmul(out, outOff, outStride, data, 0, cols, x, xOff, xStride, rows, cols, batch);
    }

    @Override
    public void copyRow(int row, float[] dst, int dstOff) {
        System.arraycopy(data, row * cols, dst, dstOff, cols);
    }
}
