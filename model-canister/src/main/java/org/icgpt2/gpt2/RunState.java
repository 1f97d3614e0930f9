package org.icgpt2.gpt2;

/**
 * Scratch buffers of the forward pass for up to {@link #maxBatch()} tokens at once, allocated once so that nothing
 * is allocated per token. One RunState serves any number of sessions (it holds nothing between calls except the
 * logits of the last forward).
 */
public final class RunState {
    private final int maxBatch;
    /** Residual stream [batch, embd]. */
    final float[] x;
    /** Layer-norm output, then projection output [batch, embd]. */
    final float[] xb;
    /** Query | key | value per token [batch, 3*embd]. */
    final float[] qkv;
    /** Concatenated heads' attention output [batch, embd]. */
    final float[] attnOut;
    /** MLP hidden activations [batch, inner]. */
    final float[] hidden;
    /** Attention scores of one head [batch, n_positions]. */
    final float[] scores;
    /** Logits of the last token of the last forward that asked for them [vocab]. */
    final float[] logits;
    /** int16 copies of the inputs of int8 matrices and of the screened LM head (allocated on first use). */
    final QuantizedActivations quantized = new QuantizedActivations();
    /** Ids of the rows the screened LM head recomputes in f32. */
    final int[] exactRows;
    /** See {@link #exactLogits()}. */
    int exactLogits;

    public RunState(Config c, int maxBatch) {
        if (maxBatch <= 0) {
            throw new IllegalArgumentException("maxBatch must be positive, got " + maxBatch);
        }
        this.maxBatch = maxBatch;
        x = new float[maxBatch * c.nEmbd()];
        xb = new float[maxBatch * c.nEmbd()];
        qkv = new float[maxBatch * 3 * c.nEmbd()];
        attnOut = new float[maxBatch * c.nEmbd()];
        hidden = new float[maxBatch * c.nInner()];
        scores = new float[maxBatch * c.nPositions()];
        logits = new float[c.vocabSize()];
        exactRows = new int[ScreenedLmHead.maxExactRows(c.vocabSize())];
    }

    public int maxBatch() {
        return maxBatch;
    }

    /** The logits written by the last {@code forward(..., computeLogits=true)}; read-only for callers. */
    public float[] logits() {
        return logits;
    }

    /**
     * How many logits of the last forward that computed them are the model's own head's: all of them, unless the f32
     * head was screened ({@link ScreenedLmHead}): then the rows it recomputed in f32.
     */
    public int exactLogits() {
        return exactLogits;
    }

    /** {@link #bytes()} of a RunState for this config and batch, without allocating it. */
    public static long bytes(Config c, long maxBatch) {
        return 4L * (maxBatch * (6L * c.nEmbd() + c.nInner() + c.nPositions()) + c.vocabSize()
                + ScreenedLmHead.maxExactRows(c.vocabSize()));
    }

    public long bytes() {
        return 4L * (x.length + xb.length + qkv.length + attnOut.length + hidden.length + scores.length + logits.length
                + exactRows.length);
    }
}
