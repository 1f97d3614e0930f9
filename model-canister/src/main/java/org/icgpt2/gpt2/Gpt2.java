package org.icgpt2.gpt2;

/**
 * The GPT-2 forward pass: token + position embeddings, pre-LN transformer blocks with causal self-attention over a
 * {@link KvCache}, tanh GELU MLP, final layer norm and the LM head tied to the token embedding.
 * O(n_embd) per-token work is plain Java; every matrix product goes through {@link Kernels}.
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
            int tokenRow = token * e;
            int positionRow = (position + b) * e;
            for (int i = 0; i < e; i++) {
                s.x[b * e + i] = weights.tokenEmbedding[tokenRow + i] + weights.positionEmbedding[positionRow + i];
            }
        }

        for (int l = 0; l < config.nLayer(); l++) {
            Weights.Layer w = weights.layers[l];
            // attention block
            for (int b = 0; b < count; b++) {
                layerNorm(s.xb, b * e, s.x, b * e, w.attnNormWeight, w.attnNormBias);
            }
            linear(s.qkv, w.qkvWeight, w.qkvBias, s.xb, e, 3 * e, count);
            attention(s, cache, l, count, position);
            linear(s.xb, w.attnProjWeight, w.attnProjBias, s.attnOut, e, e, count);
            addInPlace(s.x, s.xb, count * e);
            // MLP block
            for (int b = 0; b < count; b++) {
                layerNorm(s.xb, b * e, s.x, b * e, w.mlpNormWeight, w.mlpNormBias);
            }
            linear(s.hidden, w.fcWeight, w.fcBias, s.xb, e, config.nInner(), count);
            geluInPlace(s.hidden, count * config.nInner());
            linear(s.xb, w.fcProjWeight, w.fcProjBias, s.hidden, config.nInner(), e, count);
            addInPlace(s.x, s.xb, count * e);
        }

        if (!computeLogits) {
            return null;
        }
        int last = (count - 1) * e;
        layerNorm(s.xb, 0, s.x, last, weights.finalNormWeight, weights.finalNormBias);
        kernels.matmul(s.logits, 0, 0, weights.tokenEmbedding, 0, e, s.xb, 0, e, config.vocabSize(), e, 1);
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

    /** {@code out[b] = W x[b] + bias} for a [outDim, inDim] matrix over a batch of rows. */
    private void linear(float[] out, float[] weight, float[] bias, float[] in, int inDim, int outDim, int count) {
        kernels.matmul(out, 0, outDim, weight, 0, inDim, in, 0, inDim, outDim, inDim, count);
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
