package org.icgpt2.gpt2;

import java.util.ArrayList;
import java.util.List;

/**
 * All parameters. The checkpoint's Conv1D weights are [in, out]; they are transposed once at load into [out, in] rows
 * so that every projection is a matrix times a batch of vectors over contiguous rows. The LM head is tied to the token
 * embedding.
 *
 * <p>With {@link Precision#F32} every parameter is an f32 array (the public {@code float[]} fields; the
 * {@link Linear} fields are {@link DenseMatrix} views of the same arrays). With {@link Precision#INT8} the four
 * projection matrices of each layer and the token embedding (which is also the LM head) are
 * {@link QuantizedMatrix}es (int8 with per-row scales, a quarter of the bytes): their {@code float[]} fields are
 * null, the forward pass uses the {@link Linear} fields, and the embedding lookup dequantizes one row. Biases, layer
 * norms and the position embedding stay f32. The f32 matrices are never held in full: each is quantized straight
 * after reading (the token embedding in slices of rows).
 */
public final class Weights {
    /** How the weight matrices are stored. */
    public enum Precision {
        /** Everything f32 (498 MB for GPT-2 small). */
        F32,
        /** Projections and token embedding int8 with per-row f32 scales (≈ 127 MB for GPT-2 small). */
        INT8
    }

    public final Precision precision;
    /** [vocab, embd]; also the LM head. Null with {@link Precision#INT8}. */
    public final float[] tokenEmbedding;
    /** [vocab, embd]: the token embedding (row lookup) and the tied LM head. */
    public final Linear tokenEmbeddingMatrix;
    /** [positions, embd]. */
    public final float[] positionEmbedding;
    public final Layer[] layers;
    public final float[] finalNormWeight;
    public final float[] finalNormBias;

    /** One transformer block. Matrices are [out, in]; their {@code float[]} fields are null with {@link Precision#INT8}. */
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
        /** The four matrices as the forward pass uses them. */
        public final Linear qkv, attnProj, fc, fcProj;

        Layer(Config c, Precision precision) {
            int e = c.nEmbd();
            int inner = c.nInner();
            boolean f32 = precision == Precision.F32;
            attnNormWeight = new float[e];
            attnNormBias = new float[e];
            qkvWeight = f32 ? new float[3 * e * e] : null;
            qkvBias = new float[3 * e];
            attnProjWeight = f32 ? new float[e * e] : null;
            attnProjBias = new float[e];
            mlpNormWeight = new float[e];
            mlpNormBias = new float[e];
            fcWeight = f32 ? new float[inner * e] : null;
            fcBias = new float[inner];
            fcProjWeight = f32 ? new float[e * inner] : null;
            fcProjBias = new float[e];
            qkv = matrix(qkvWeight, 3 * e, e);
            attnProj = matrix(attnProjWeight, e, e);
            fc = matrix(fcWeight, inner, e);
            fcProj = matrix(fcProjWeight, e, inner);
        }

        /** The f32 vectors (biases and norms) and, with F32, the matrices. */
        float[][] arrays() {
            return new float[][]{attnNormWeight, attnNormBias, qkvWeight, qkvBias, attnProjWeight, attnProjBias,
                    mlpNormWeight, mlpNormBias, fcWeight, fcBias, fcProjWeight, fcProjBias};
        }

        Linear[] matrices() {
            return new Linear[]{qkv, attnProj, fc, fcProj};
        }
    }

    private static Linear matrix(float[] f32, int rows, int cols) {
        return f32 != null ? new DenseMatrix(f32, rows, cols) : new QuantizedMatrix(rows, cols);
    }

    private final long parameterCount;
    private final long bytes;
    /** With F32: the int8-screened LM head over {@link #tokenEmbedding}, built when the loader has read it. */
    private ScreenedLmHead screenedLmHead;

    private Weights(Config c, Precision precision) {
        this.precision = precision;
        int e = c.nEmbd();
        tokenEmbedding = precision == Precision.F32 ? new float[c.vocabSize() * e] : null;
        tokenEmbeddingMatrix = matrix(tokenEmbedding, c.vocabSize(), e);
        positionEmbedding = new float[c.nPositions() * e];
        layers = new Layer[c.nLayer()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = new Layer(c, precision);
        }
        finalNormWeight = new float[e];
        finalNormBias = new float[e];
        long count = (long) c.vocabSize() * e + positionEmbedding.length + finalNormWeight.length + finalNormBias.length;
        long held = tokenEmbeddingMatrix.bytes() + 4L * (positionEmbedding.length + finalNormWeight.length + finalNormBias.length);
        for (Layer l : layers) {
            for (float[] a : l.arrays()) {
                if (a != null) {
                    held += 4L * a.length;
                    count += a.length;
                }
            }
            if (precision == Precision.INT8) {
                for (Linear m : l.matrices()) {
                    held += m.bytes();
                    count += (long) m.rows() * m.cols();
                }
            }
        }
        parameterCount = count;
        bytes = held;
    }

    /** Number of parameters (124,439,808 for GPT-2 small with its 50257 tokens; 124,442,112 with 50260). */
    public long parameterCount() {
        return parameterCount;
    }

    /** Heap bytes held by the parameters: 4 per parameter with F32; with INT8 1 per quantized weight + 4 per row. */
    public long bytes() {
        return bytes;
    }

    /** The int8-screened f32 LM head ({@link ScreenedLmHead}); null with {@link Precision#INT8}. */
    public ScreenedLmHead screenedLmHead() {
        return screenedLmHead;
    }

    /** Heap bytes held by the LM head's screen beside {@link #bytes()} (39.0 MB for GPT-2 small; 0 with INT8). */
    public long screenBytes() {
        return screenedLmHead == null ? 0 : screenedLmHead.bytes();
    }

    /**
     * {@link #bytes()} of weights of this shape and precision, without loading them: GPT-2 small with 50260 tokens
     * takes 497,768,448 bytes as F32 and 127,698,256 as INT8 (123.5 MB int8 matrices + 0.5 MB row scales + 3.6 MB
     * f32 biases, norms and position embedding), 25.7%.
     */
    public static long bytes(Config c, Precision precision) {
        long e = c.nEmbd();
        long inner = c.nInner();
        long layers = c.nLayer();
        long matrixParams = c.vocabSize() * e + layers * (4 * e * e + 2 * inner * e);
        long matrixRows = c.vocabSize() + layers * (5 * e + inner);
        long vectors = c.nPositions() * e + 2 * e + layers * (9 * e + inner);
        return precision == Precision.F32 ? 4 * (matrixParams + vectors) : matrixParams + 4 * matrixRows + 4 * vectors;
    }

    /**
     * Heap a {@link Loader} holds at its peak: the weights, the F32 head's int8 screen (an int8 copy of the embedding
     * with two f32 scales per row, {@link ScreenedLmHead#bytes()}) and its scratch (the largest Conv1D matrix, twice
     * with INT8).
     */
    public static long loadBytes(Config c, Precision precision) {
        long scratch = 4 * Loader.scratchFloats(c);
        long screen = precision == Precision.F32 ? c.vocabSize() * (c.nEmbd() + 8L) : 0;
        return bytes(c, precision) + screen + (precision == Precision.INT8 ? 2 * scratch : scratch);
    }

    /**
     * Refuses, before anything is allocated, to load weights whose {@link #loadBytes} and {@code otherBytes} (buffers
     * the caller allocates with them) exceed {@code heapAvailable}: running out of heap would trap instead.
     *
     * @throws ModelFormatException with {@link ModelFormatException.Reason#TOO_LARGE}
     */
    public static void requireHeap(Config c, Precision precision, long otherBytes, long heapAvailable) {
        long needed = loadBytes(c, precision) + otherBytes;
        if (needed > heapAvailable) {
            throw new ModelFormatException(ModelFormatException.Reason.TOO_LARGE, "config.json", "this model needs "
                    + (needed >> 20) + " MiB of heap to load (" + precision + " weights " + (bytes(c, precision) >> 20)
                    + " MiB), but " + (heapAvailable >> 20) + " MiB are left");
        }
    }

    /** Loads every tensor at once as f32; see {@link Loader} to spread the work over several calls. */
    public static Weights load(Config config, Safetensors file, Kernels kernels) {
        return load(config, file, kernels, Precision.F32);
    }

    /** Loads every tensor at once; see {@link Loader} to spread the work over several calls. */
    public static Weights load(Config config, Safetensors file, Kernels kernels, Precision precision) {
        Loader loader = new Loader(config, file, kernels, precision);
        while (!loader.done()) {
            loader.loadNext();
        }
        return loader.weights();
    }

    /**
     * Loads the weights one tensor per {@link #loadNext()} call, holding only the largest Conv1D matrix as scratch
     * (twice with INT8: read, then transposed, then quantized), so a canister can stream a 500 MB file from stable
     * memory across several messages. The constructor checks that every tensor exists with the right shape and dtype
     * before anything is read.
     */
    public static final class Loader {
        /** Exactly one of dst (f32) and quantized is set. */
        private record Slot(String name, long[] shape, float[] dst, QuantizedMatrix quantized, boolean conv1d) {
        }

        private final Weights weights;
        private final Safetensors file;
        private final Kernels kernels;
        private final List<Slot> slots = new ArrayList<>();
        private final int scratchFloats;
        private float[] scratch;
        private float[] transposed;
        private int next;

        /** An f32 loader. */
        public Loader(Config c, Safetensors file, Kernels kernels) {
            this(c, file, kernels, Precision.F32);
        }

        public Loader(Config c, Safetensors file, Kernels kernels, Precision precision) {
            this.file = file;
            this.kernels = kernels;
            this.weights = new Weights(c, precision);
            long e = c.nEmbd();
            long inner = c.nInner();
            scratchFloats = (int) scratchFloats(c);
            add("wte.weight", new long[]{c.vocabSize(), e}, weights.tokenEmbedding, weights.tokenEmbeddingMatrix, false);
            add("wpe.weight", new long[]{c.nPositions(), e}, weights.positionEmbedding, null, false);
            for (int i = 0; i < c.nLayer(); i++) {
                Layer l = weights.layers[i];
                String p = "h." + i + ".";
                add(p + "ln_1.weight", new long[]{e}, l.attnNormWeight, null, false);
                add(p + "ln_1.bias", new long[]{e}, l.attnNormBias, null, false);
                add(p + "attn.c_attn.weight", new long[]{e, 3 * e}, l.qkvWeight, l.qkv, true);
                add(p + "attn.c_attn.bias", new long[]{3 * e}, l.qkvBias, null, false);
                add(p + "attn.c_proj.weight", new long[]{e, e}, l.attnProjWeight, l.attnProj, true);
                add(p + "attn.c_proj.bias", new long[]{e}, l.attnProjBias, null, false);
                add(p + "ln_2.weight", new long[]{e}, l.mlpNormWeight, null, false);
                add(p + "ln_2.bias", new long[]{e}, l.mlpNormBias, null, false);
                add(p + "mlp.c_fc.weight", new long[]{e, inner}, l.fcWeight, l.fc, true);
                add(p + "mlp.c_fc.bias", new long[]{inner}, l.fcBias, null, false);
                add(p + "mlp.c_proj.weight", new long[]{inner, e}, l.fcProjWeight, l.fcProj, true);
                add(p + "mlp.c_proj.bias", new long[]{e}, l.fcProjBias, null, false);
            }
            add("ln_f.weight", new long[]{e}, weights.finalNormWeight, null, false);
            add("ln_f.bias", new long[]{e}, weights.finalNormBias, null, false);
        }

        /** Floats of the largest Conv1D matrix. */
        static long scratchFloats(Config c) {
            long e = c.nEmbd();
            return Math.max(3 * e * e, (long) c.nInner() * e);
        }

        private void add(String name, long[] shape, float[] dst, Linear matrix, boolean conv1d) {
            file.floatTensor(name, shape);
            slots.add(new Slot(name, shape, dst, dst == null ? (QuantizedMatrix) matrix : null, conv1d));
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

        /** Reads (and for Conv1D weights transposes; with INT8 quantizes) the next tensor. */
        public void loadNext() {
            if (done()) {
                throw new IllegalStateException("all tensors are loaded");
            }
            Slot s = slots.get(next);
            if (s.conv1d) {
                int in = (int) s.shape[0];
                int out = (int) s.shape[1];
                if (scratch == null) {
                    scratch = new float[scratchFloats];
                }
                file.readF32(s.name, s.shape, scratch, 0);
                if (s.dst != null) {
                    kernels.transpose(s.dst, 0, scratch, 0, in, out);
                } else {
                    if (transposed == null) {
                        transposed = new float[scratchFloats];
                    }
                    kernels.transpose(transposed, 0, scratch, 0, in, out);
                    s.quantized.setRows(0, transposed, 0, out);
                }
            } else if (s.dst != null) {
                file.readF32(s.name, s.shape, s.dst, 0);
                if (s.dst == weights.tokenEmbedding) {
                    weights.screenedLmHead = ScreenedLmHead.build(s.dst, (int) s.shape[0], (int) s.shape[1], kernels);
                }
            } else {
                // a quantized [rows, cols] tensor (the token embedding): slices of rows through the scratch
                if (scratch == null) {
                    scratch = new float[scratchFloats];
                }
                int rows = (int) s.shape[0];
                int cols = (int) s.shape[1];
                int slice = Math.max(1, scratch.length / cols);
                for (int r = 0; r < rows; r += slice) {
                    int count = Math.min(slice, rows - r);
                    file.readF32(s.name, s.shape, (long) r * cols, count * cols, scratch, 0);
                    s.quantized.setRows(r, scratch, 0, count);
                }
            }
            next++;
            if (done()) {
                scratch = null;
                transposed = null;
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
