package org.icgpt2.gpt2;

import java.util.ArrayList;
import java.util.List;

/**
 * All parameters as f32 arrays. The checkpoint's Conv1D weights are [in, out]; they are transposed once at load into
 * [out, in] rows so that every projection is a {@link Kernels#matmul} over contiguous rows. The LM head is tied to
 * {@link #tokenEmbedding}.
 */
public final class Weights {
    /** [vocab, embd]; also the LM head. */
    public final float[] tokenEmbedding;
    /** [positions, embd]. */
    public final float[] positionEmbedding;
    public final Layer[] layers;
    public final float[] finalNormWeight;
    public final float[] finalNormBias;

    /** One transformer block. Matrices are [out, in]. */
    public static final class Layer {
        public final float[] attnNormWeight, attnNormBias;
        /** [3*embd, embd]: query rows, then key rows, then value rows. */
        public final float[] qkvWeight, qkvBias;
        public final float[] attnProjWeight, attnProjBias;
        public final float[] mlpNormWeight, mlpNormBias;
        /** [inner, embd]. */
        public final float[] fcWeight, fcBias;
        /** [embd, inner]. */
        public final float[] fcProjWeight, fcProjBias;

        Layer(Config c) {
            int e = c.nEmbd();
            attnNormWeight = new float[e];
            attnNormBias = new float[e];
            qkvWeight = new float[3 * e * e];
            qkvBias = new float[3 * e];
            attnProjWeight = new float[e * e];
            attnProjBias = new float[e];
            mlpNormWeight = new float[e];
            mlpNormBias = new float[e];
            fcWeight = new float[c.nInner() * e];
            fcBias = new float[c.nInner()];
            fcProjWeight = new float[e * c.nInner()];
            fcProjBias = new float[e];
        }

        float[][] arrays() {
            return new float[][]{attnNormWeight, attnNormBias, qkvWeight, qkvBias, attnProjWeight, attnProjBias,
                    mlpNormWeight, mlpNormBias, fcWeight, fcBias, fcProjWeight, fcProjBias};
        }
    }

    private final long parameterCount;

    private Weights(Config c) {
        tokenEmbedding = new float[c.vocabSize() * c.nEmbd()];
        positionEmbedding = new float[c.nPositions() * c.nEmbd()];
        layers = new Layer[c.nLayer()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = new Layer(c);
        }
        finalNormWeight = new float[c.nEmbd()];
        finalNormBias = new float[c.nEmbd()];
        long count = (long) tokenEmbedding.length + positionEmbedding.length + finalNormWeight.length + finalNormBias.length;
        for (Layer l : layers) {
            for (float[] a : l.arrays()) {
                count += a.length;
            }
        }
        parameterCount = count;
    }

    /** Number of f32 parameters (124,439,808 for GPT-2 small with its 50257 tokens; 124,442,112 with 50260). */
    public long parameterCount() {
        return parameterCount;
    }

    /** Heap bytes held by the parameters. */
    public long bytes() {
        return 4 * parameterCount;
    }

    /** Loads every tensor at once; see {@link Loader} to spread the work over several calls. */
    public static Weights load(Config config, Safetensors file, Kernels kernels) {
        Loader loader = new Loader(config, file, kernels);
        while (!loader.done()) {
            loader.loadNext();
        }
        return loader.weights();
    }

    /**
     * Loads the weights one tensor per {@link #loadNext()} call, holding only the largest Conv1D matrix as scratch,
     * so a canister can stream a 500 MB file from stable memory across several messages. The constructor checks
     * that every tensor exists with the right shape and dtype before anything is read.
     */
    public static final class Loader {
        private record Slot(String name, long[] shape, float[] dst, boolean conv1d) {
        }

        private final Weights weights;
        private final Safetensors file;
        private final Kernels kernels;
        private final List<Slot> slots = new ArrayList<>();
        private float[] scratch;
        private int next;

        public Loader(Config c, Safetensors file, Kernels kernels) {
            this.file = file;
            this.kernels = kernels;
            this.weights = new Weights(c);
            long e = c.nEmbd();
            long inner = c.nInner();
            add("wte.weight", new long[]{c.vocabSize(), e}, weights.tokenEmbedding, false);
            add("wpe.weight", new long[]{c.nPositions(), e}, weights.positionEmbedding, false);
            for (int i = 0; i < c.nLayer(); i++) {
                Layer l = weights.layers[i];
                String p = "h." + i + ".";
                add(p + "ln_1.weight", new long[]{e}, l.attnNormWeight, false);
                add(p + "ln_1.bias", new long[]{e}, l.attnNormBias, false);
                add(p + "attn.c_attn.weight", new long[]{e, 3 * e}, l.qkvWeight, true);
                add(p + "attn.c_attn.bias", new long[]{3 * e}, l.qkvBias, false);
                add(p + "attn.c_proj.weight", new long[]{e, e}, l.attnProjWeight, true);
                add(p + "attn.c_proj.bias", new long[]{e}, l.attnProjBias, false);
                add(p + "ln_2.weight", new long[]{e}, l.mlpNormWeight, false);
                add(p + "ln_2.bias", new long[]{e}, l.mlpNormBias, false);
                add(p + "mlp.c_fc.weight", new long[]{e, inner}, l.fcWeight, true);
                add(p + "mlp.c_fc.bias", new long[]{inner}, l.fcBias, false);
                add(p + "mlp.c_proj.weight", new long[]{inner, e}, l.fcProjWeight, true);
                add(p + "mlp.c_proj.bias", new long[]{e}, l.fcProjBias, false);
            }
            add("ln_f.weight", new long[]{e}, weights.finalNormWeight, false);
            add("ln_f.bias", new long[]{e}, weights.finalNormBias, false);
        }

        private void add(String name, long[] shape, float[] dst, boolean conv1d) {
            file.floatTensor(name, shape);
            slots.add(new Slot(name, shape, dst, conv1d));
        }

        public boolean done() {
            return next == slots.size();
        }

        /** Tensors loaded so far and in all, for progress reports. */
        public int loaded() {
            return next;
        }

        public int total() {
            return slots.size();
        }

        /** Reads (and for Conv1D weights transposes) the next tensor. */
        public void loadNext() {
            if (done()) {
                throw new IllegalStateException("all tensors are loaded");
            }
            Slot s = slots.get(next);
            if (s.conv1d) {
                int in = (int) s.shape[0];
                int out = (int) s.shape[1];
                if (scratch == null || scratch.length < s.dst.length) {
                    scratch = new float[s.dst.length];
                }
                file.readF32(s.name, s.shape, scratch, 0);
                kernels.transpose(s.dst, 0, scratch, 0, in, out);
            } else {
                file.readF32(s.name, s.shape, s.dst, 0);
            }
            next++;
            if (done()) {
                scratch = null;
            }
        }

        /** The weights, once {@link #done()}. */
        public Weights weights() {
            if (!done()) {
                throw new IllegalStateException(next + " of " + slots.size() + " tensors loaded");
            }
            return weights;
        }
    }
}
