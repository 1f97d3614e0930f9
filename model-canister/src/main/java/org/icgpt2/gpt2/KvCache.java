package org.icgpt2.gpt2;

/**
 * Keys and values of every layer for up to {@link #capacity()} positions: one per conversation, separate from
 * {@link RunState} so that a canister can keep several sessions' caches and switch between them.
 * Layout: [layer][position][embd], head h at columns h*headDim .. (h+1)*headDim-1.
 */
public final class KvCache {
    final float[] keys;
    final float[] values;
    private final int capacity;
    private final int layerStride;

    /** @param capacity positions to hold, at most {@code n_positions}; smaller caches save memory for short chats */
    public KvCache(Config config, int capacity) {
        if (capacity <= 0 || capacity > config.nPositions()) {
            throw new IllegalArgumentException("KV cache capacity " + capacity + " outside [1, " + config.nPositions() + "]");
        }
        this.capacity = capacity;
        this.layerStride = capacity * config.nEmbd();
        this.keys = new float[config.nLayer() * layerStride];
        this.values = new float[config.nLayer() * layerStride];
    }

    public KvCache(Config config) {
        this(config, config.nPositions());
    }

    public int capacity() {
        return capacity;
    }

    /** Offset of (layer, position 0) in {@link #keys} and {@link #values}. */
    int layerOffset(int layer) {
        return layer * layerStride;
    }

    public long bytes() {
        return 8L * keys.length;
    }

    /** {@link #bytes()} of a cache of {@code capacity} positions, without allocating it. */
    public static long bytes(Config config, int capacity) {
        return 8L * config.nLayer() * capacity * config.nEmbd();
    }
}
