package org.icgpt2.canister;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.icgpt2.gpt2.KvCache;
import org.icgpt2.ic.UserError;

/**
 * The open conversations, at most {@code capacity} (each holds a full-context KV cache, 75 MB for GPT-2 small, so the
 * heap bounds their number). Sessions belong to the principal that opened them:
 * <ul>
 * <li>a caller holds at most its policy's {@code max_sessions_per_caller}; a new one replaces that caller's least
 * recently used, never another caller's;</li>
 * <li>when all {@code capacity} are open, the session idle longest goes, if it has been idle {@link #IDLE_NANOS};
 * otherwise the new session is refused as "busy" rather than taking a live one;</li>
 * <li>anonymous callers get none (everyone shares that principal).</li>
 * </ul>
 * Ids come from {@link SessionIds}: unguessable, though ownership alone already keeps one caller out of another's.
 */
final class Conversations {
    /** A session with no call for this long may give its cache to a new one when all are taken. */
    static final long IDLE_NANOS = 5 * 60_000_000_000L;
    /**
     * A turn whose client sent no call for this long is not under way: it was stopped or abandoned (a client
     * continuing a turn calls every few rounds).
     */
    static final long TURN_ACTIVE_NANOS = 10_000_000_000L;

    private final int capacity;
    private final Supplier<KvCache> newCache;
    private final SessionIds ids;
    private final List<Conversation> open = new ArrayList<>();
    /** Orders uses within one message, whose time is constant. */
    private long uses;

    Conversations(int capacity, Supplier<KvCache> newCache, SessionIds ids) {
        this.capacity = capacity;
        this.newCache = newCache;
        this.ids = ids;
    }

    int size() {
        return open.size();
    }

    int capacity() {
        return capacity;
    }

    int countOwnedBy(byte[] caller) {
        int n = 0;
        for (Conversation c : open) {
            n += c.ownedBy(caller) ? 1 : 0;
        }
        return n;
    }

    /** Conversations whose turn is under way at time {@code now}: started, not finished, called recently. */
    int activeTurns(long now) {
        int active = 0;
        for (Conversation c : open) {
            if (isUnderWay(c, now)) {
                active++;
            }
        }
        return active;
    }

    /** Turns other than {@code c}'s under way at time {@code now}: their calls share the canister's queue. */
    int underWayBesides(Conversation c, long now) {
        return activeTurns(now) - (isUnderWay(c, now) ? 1 : 0);
    }

    /** Turns under way at time {@code now} that started before {@code c}'s. */
    int olderUnderWay(Conversation c, long now) {
        int n = 0;
        for (Conversation other : open) {
            n += other != c && other.turnOrder < c.turnOrder && isUnderWay(other, now) ? 1 : 0;
        }
        return n;
    }

    private static boolean isUnderWay(Conversation c, long now) {
        return c.turn != null && !c.turn.finished() && now - c.lastUsedNanos < TURN_ACTIVE_NANOS;
    }

    /**
     * Conversations called within {@link #IDLE_NANOS} of {@code now}: their users are chatting (asking, reading or
     * writing the next question), and none of them would give its cache to a newcomer.
     */
    int inUse(long now) {
        int inUse = 0;
        for (Conversation c : open) {
            if (now - c.lastUsedNanos < IDLE_NANOS) {
                inUse++;
            }
        }
        return inUse;
    }

    /** The caller's conversation {@code id}, or null: other callers' conversations are invisible. */
    Conversation find(long id, byte[] caller, long now) {
        for (Conversation c : open) {
            if (c.id == id && c.ownedBy(caller)) {
                touch(c, now);
                return c;
            }
        }
        return null;
    }

    /**
     * Opens a conversation for {@code caller} at time {@code now} (ns), who may hold {@code maxPerCaller}.
     *
     * @throws UserError if the caller is anonymous, may hold none, or every session is in recent use
     */
    Conversation open(byte[] caller, long now, int maxPerCaller) {
        if (UsageRules.isAnonymous(caller)) {
            throw new UserError("anonymous callers get no sessions (they would share them): use generate or inference, "
                    + "or call with an identity");
        }
        if (maxPerCaller <= 0) {
            throw new UserError("sessions are switched off (max_sessions_per_caller is 0): use generate or inference");
        }
        Conversation victim = null;
        if (countOwnedBy(caller) >= maxPerCaller) {
            victim = leastRecentlyUsed(caller);
        } else if (open.size() >= capacity) {
            victim = leastRecentlyUsed(null);
            if (victim == null || now - victim.lastUsedNanos < IDLE_NANOS) {
                throw new UserError("busy: all " + capacity + " sessions are in use; try again in a few minutes, or use "
                        + "generate");
            }
        }
        KvCache cache;
        if (victim != null) {
            open.remove(victim);
            cache = victim.cache;
        } else {
            cache = newCache.get();
        }
        byte[] entropy = ByteBuffer.allocate(8 + caller.length).putLong(now).put(caller).array();
        Conversation c = new Conversation(ids.next(entropy), caller.clone(), cache);
        touch(c, now);
        open.add(c);
        return c;
    }

    boolean close(long id, byte[] caller, long now) {
        Conversation c = find(id, caller, now);
        return c != null && open.remove(c);
    }

    /** The least recently used conversation of {@code owner}, or of anyone when null. */
    private Conversation leastRecentlyUsed(byte[] owner) {
        Conversation oldest = null;
        for (Conversation c : open) {
            if ((owner == null || c.ownedBy(owner)) && (oldest == null || c.lastUse < oldest.lastUse)) {
                oldest = c;
            }
        }
        return oldest;
    }

    private void touch(Conversation c, long now) {
        c.lastUse = ++uses;
        c.lastUsedNanos = now;
    }
}
