package org.icgpt2.gpt2;

/**
 * The GPT-2 forward pass: token + position embeddings, pre-LN transformer blocks with causal self-attention over a
 * {@link KvCache}, tanh GELU MLP, final layer norm and the LM head tied to the token embedding.
 * O(n_embd) per-token work is plain Java; every matrix product goes through {@link Kernels}: weight matrices through
 * {@link Linear} (f32 {@link DenseMatrix} or int8 {@link QuantizedMatrix}, per {@link Weights.Precision}), once per
 * matrix and batch.
 */
public final class Gpt2 {
    private static final float GELU_SCALE = (float) Math.sqrt(2 / Math.PI);

    private final Config config;
    private final Weights weights;
    private final Kernels kernels;

    public Gpt2(Config config, Weights weights, Kernels kernels) {
        this.config = config;
        this.weights = weights;
        this.kernels = kernels;
    }

    public Config config() {
        return config;
    }

    public Weights weights() {
        return weights;
    }

    /**
     * Feeds {@code tokens[offset .. offset+count)} at positions {@code position ..}, appending their keys and values to
     * the cache (which must already hold positions 0..position-1 of the same sequence).
     *
     * @param computeLogits whether to run the LM head for the last token; prompt tokens other than the last skip it
     * @return {@code state.logits()} when computeLogits, else null
     */
    public float[] forward(RunState s, KvCache cache, int[] tokens, int offset, int count, int position, boolean computeLogits) {
        return forward(s, cache, tokens, offset, count, position, computeLogits ? Float.POSITIVE_INFINITY : Float.NaN);
    }

    /**
     * {@link #forward(RunState, KvCache, int[], int, int, int, boolean)} with the LM head screened ({@link ScreenedLmHead},
     * f32 weights): the logits are the f32 path's for every token whose bound reaches {@code exactMargin} below the best
     * lower bound, int8 estimates for the others ({@link Sampler#exactLogitMargin()}: 0 for greedy decoding).
     * With int8 weights the logits are the int8 head's, as with {@code computeLogits}.
     *
     * @param exactMargin &gt;= 0; +Infinity gives every logit exactly; NaN skips the head (returns null)
     */
    public float[] forward(RunState s, KvCache cache, int[] tokens, int offset, int count, int position, float exactMargin) {
        int e = config.nEmbd();
        if (count <= 0 || count > s.maxBatch()) {
            throw new IllegalArgumentException("batch of " + count + " tokens outside [1, " + s.maxBatch() + "]");
        }
        if (position < 0 || position + count > cache.capacity()) {
            throw new IllegalArgumentException("positions " + position + ".." + (position + count - 1)
                    + " do not fit the KV cache of " + cache.capacity());
        }
        for (int b = 0; b < count; b++) {
            int token = tokens[offset + b];
            if (token < 0 || token >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + token + " outside [0, " + config.vocabSize() + ")");
            }
            int positionRow = (position + b) * e;
            weights.tokenEmbeddingMatrix.copyRow(token, s.x, b * e);
            for (int i = 0; i < e; i++) {
                s.x[b * e + i] += weights.positionEmbedding[positionRow + i];
            }
        }

        for (int l = 0; l < config.nLayer(); l++) {
            Weights.Layer w = weights.layers[l];
            // attention block
            for (int b = 0; b < count; b++) {
                layerNorm(s.xb, b * e, s.x, b * e, w.attnNormWeight, w.attnNormBias);
            }
            linear(s, s.qkv, w.qkv, w.qkvBias, s.xb, count);
            attention(s, cache, l, count, position);
            linear(s, s.xb, w.attnProj, w.attnProjBias, s.attnOut, count);
            addInPlace(s.x, s.xb, count * e);
            // MLP block
            for (int b = 0; b < count; b++) {
                layerNorm(s.xb, b * e, s.x, b * e, w.mlpNormWeight, w.mlpNormBias);
            }
            linear(s, s.hidden, w.fc, w.fcBias, s.xb, count);
            geluInPlace(s.hidden, count * config.nInner());
            linear(s, s.xb, w.fcProj, w.fcProjBias, s.hidden, count);
            addInPlace(s.x, s.xb, count * e);
        }

        if (Float.isNaN(exactMargin)) {
            return null;
        }
        int last = (count - 1) * e;
        layerNorm(s.xb, 0, s.x, last, weights.finalNormWeight, weights.finalNormBias);
        ScreenedLmHead head = weights.screenedLmHead();
        if (head != null) {
            s.exactLogits = head.apply(kernels, s.logits, s.xb, 0, exactMargin, s.quantized, s.exactRows);
        } else {
            weights.tokenEmbeddingMatrix.apply(kernels, s.logits, 0, 0, s.xb, 0, e, 1, s.quantized);
            s.exactLogits = config.vocabSize();
        }
        return s.logits;
    }

    /**
     * Causal multi-head attention of {@code count} new tokens: stores their keys and values at {@code position..},
     * then each query attends to the cached positions up to and including its own.
     */
    private void attention(RunState s, KvCache cache, int layer, int count, int position) {
        int e = config.nEmbd();
        int headDim = config.headDim();
        int qkvStride = 3 * e;
        int layerOffset = cache.layerOffset(layer);
        for (int b = 0; b < count; b++) {
            int row = layerOffset + (position + b) * e;
            System.arraycopy(s.qkv, b * qkvStride + e, cache.keys, row, e);
            System.arraycopy(s.qkv, b * qkvStride + 2 * e, cache.values, row, e);
        }
        int scoreStride = config.nPositions();
        float scale = (float) (1 / Math.sqrt(headDim));
        for (int h = 0; h < config.nHead(); h++) {
            int headColumn = h * headDim;
            // scores[b, t] = q_b . k_t for t < position+count; query b only uses t <= position+b below
            kernels.matmul(s.scores, 0, scoreStride, cache.keys, layerOffset + headColumn, e,
                    s.qkv, headColumn, qkvStride, position + count, headDim, count);
            for (int b = 0; b < count; b++) {
                int visible = position + b + 1;
                softmaxScaled(s.scores, b * scoreStride, visible, scale);
                kernels.weightedRowSum(s.attnOut, b * e + headColumn, s.scores, b * scoreStride,
                        cache.values, layerOffset + headColumn, e, visible, headDim);
            }
        }
    }

    /** {@code out[b] = W x[b] + bias} for a [outDim, inDim] matrix (f32 or int8) over a batch of rows. */
    private void linear(RunState s, float[] out, Linear weight, float[] bias, float[] in, int count) {
        int inDim = weight.cols();
        int outDim = weight.rows();
        weight.apply(kernels, out, 0, outDim, in, 0, inDim, count, s.quantized);
        for (int b = 0; b < count; b++) {
            int row = b * outDim;
            for (int i = 0; i < outDim; i++) {
                out[row + i] += bias[i];
            }
        }
    }

    private void layerNorm(float[] out, int outOff, float[] in, int inOff, float[] weight, float[] bias) {
        int n = config.nEmbd();
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += in[inOff + i];
        }
        float mean = (float) (sum / n);
        double squares = 0;
        for (int i = 0; i < n; i++) {
            float d = in[inOff + i] - mean;
            squares += d * d;
        }
        float invStd = (float) (1 / Math.sqrt(squares / n + config.layerNormEpsilon()));
        for (int i = 0; i < n; i++) {
            out[outOff + i] = (in[inOff + i] - mean) * invStd * weight[i] + bias[i];
        }
    }

    /** Scales, then normalizes {@code a[off .. off+n)} into probabilities. */
    private static void softmaxScaled(float[] a, int off, int n, float scale) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float v = a[off + i] * scale;
            a[off + i] = v;
            max = v > max ? v : max; // compare + select: Math.max on floats costs 18 IC instructions
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float p = (float) Math.exp(a[off + i] - max);
            a[off + i] = p;
            sum += p;
        }
        float inv = (float) (1 / sum);
        for (int i = 0; i < n; i++) {
            a[off + i] *= inv;
        }
    }

    /** GPT-2's {@code gelu_new}: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    private static void geluInPlace(float[] a, int n) {
        for (int i = 0; i < n; i++) {
            float x = a[i];
            a[i] = 0.5f * x * (1 + (float) Math.tanh(GELU_SCALE * (x + 0.044715f * x * x * x)));
        }
    }

    private static void addInPlace(float[] acc, float[] add, int n) {
        for (int i = 0; i < n; i++) {
            acc[i] += add[i];
        }
    }
}
