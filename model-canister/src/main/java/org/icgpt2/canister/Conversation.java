package org.icgpt2.canister;

import java.util.Arrays;
import org.icgpt2.gpt2.KvCache;
import org.icgpt2.gpt2.Session;
import org.icgpt2.gpt2.TokenDecoder;

/** A chat kept between calls: its KV cache, the turn being generated (which holds every token so far), its owner. */
final class Conversation {
    final long id;
    final byte[] owner;
    final KvCache cache;
    Session turn;
    /** When {@link #turn} started, in the order of all turns started on the canister. */
    long turnOrder;
    /** Decodes this turn's tokens, holding back the bytes of a character cut by a call boundary. */
    TokenDecoder decoder;
    /** The turn's call_budget (continue_turn spends at most this much per call too), or CallBudgetSchedule.ADAPTIVE. */
    long callBudget;
    /** Calls made on this turn so far (the adaptive schedule sizes the first one differently). */
    int calls;
    /** Tokens generated in this turn and already returned (stop tokens excluded). */
    int returnedTokens;
    /** Order of last use, for least-recently-used eviction. */
    long lastUse;
    /** Time of last use (ns), for eviction of idle sessions. */
    long lastUsedNanos;

    Conversation(long id, byte[] owner, KvCache cache) {
        this.id = id;
        this.owner = owner;
        this.cache = cache;
    }

    boolean ownedBy(byte[] caller) {
        return Arrays.equals(owner, caller);
    }
}
