package org.icgpt2.gpt2;

/** Open-addressing hash map from a pair of token ids to a BPE merge rank, without boxing. */
final class PairRanks {
    private static final long EMPTY = -1L;
    private final long[] keys;
    private final int[] ranks;
    private final int mask;

    PairRanks(int expected) {
        int capacity = Integer.highestOneBit(expected * 2 + 1) << 1;
        keys = new long[capacity];
        ranks = new int[capacity];
        mask = capacity - 1;
        for (int i = 0; i < capacity; i++) {
            keys[i] = EMPTY;
        }
    }

    private static long key(int left, int right) {
        return (long) left << 32 | (right & 0xFFFFFFFFL);
    }

    private int slot(long key) {
        return (int) ((key * 0x9E3779B97F4A7C15L) >>> 40) & mask;
    }

    /** Keeps the first (lowest) rank when a pair is listed twice, as Hugging Face does. */
    void putIfAbsent(int left, int right, int rank) {
        long k = key(left, right);
        int i = slot(k);
        while (keys[i] != EMPTY) {
            if (keys[i] == k) {
                return;
            }
            i = (i + 1) & mask;
        }
        keys[i] = k;
        ranks[i] = rank;
    }

    /** The merge rank of the pair, or {@link Integer#MAX_VALUE} when it never merges. */
    int rank(int left, int right) {
        long k = key(left, right);
        int i = slot(k);
        while (keys[i] != EMPTY) {
            if (keys[i] == k) {
                return ranks[i];
            }
            i = (i + 1) & mask;
        }
        return Integer.MAX_VALUE;
    }
}
