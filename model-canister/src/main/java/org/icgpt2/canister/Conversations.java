package org.icgpt2.canister;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.icgpt2.gpt2.KvCache;

/**
 * The open conversations, at most {@code capacity}. Each holds a full-context KV cache (75 MB for GPT-2 small), so
 * the number is bounded by the heap; when full, the least recently used conversation is evicted and its cache reused.
 */
final class Conversations {
    private final int capacity;
    private final Supplier<KvCache> newCache;
    private final List<Conversation> open = new ArrayList<>();
    private long clock;
    private long idState;

    Conversations(int capacity, Supplier<KvCache> newCache, long seed) {
        this.capacity = capacity;
        this.newCache = newCache;
        this.idState = seed;
    }

    int size() {
        return open.size();
    }

    int capacity() {
        return capacity;
    }

    /** Conversations whose turn is still under way (started, not finished). */
    int activeTurns() {
        int active = 0;
        for (Conversation c : open) {
            if (c.turn != null && !c.turn.finished()) {
                active++;
            }
        }
        return active;
    }

    /** The caller's conversation {@code id}, or null: other callers' conversations are invisible. */
    Conversation find(long id, byte[] caller) {
        for (Conversation c : open) {
            if (c.id == id && c.ownedBy(caller)) {
                c.lastUsed = ++clock;
                return c;
            }
        }
        return null;
    }

    /** Opens a conversation for {@code caller}, evicting the least recently used one when full. */
    Conversation open(byte[] caller) {
        KvCache cache;
        if (open.size() < capacity) {
            cache = newCache.get();
        } else {
            Conversation oldest = open.get(0);
            for (Conversation c : open) {
                if (c.lastUsed < oldest.lastUsed) {
                    oldest = c;
                }
            }
            open.remove(oldest);
            cache = oldest.cache;
        }
        Conversation c = new Conversation(nextId(), caller, cache);
        c.lastUsed = ++clock;
        open.add(c);
        return c;
    }

    boolean close(long id, byte[] caller) {
        Conversation c = find(id, caller);
        return c != null && open.remove(c);
    }

    /** Ids are unpredictable (splitmix64 over a time-seeded counter), so one anonymous user cannot guess another's. */
    private long nextId() {
        long z = (idState += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (z ^ (z >>> 31)) & Long.MAX_VALUE;
    }
}
