package org.icgpt2.canister;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.icgpt2.ic.UserError;

/**
 * Instructions spent in the current clock hour (UTC), per caller and in total. The table holds at most
 * {@link #MAX_CALLERS} callers; when full, the caller that started spending earliest is dropped (its share starts
 * again, but the total still bounds the hour: new principals cost nothing to make, so only the total is a hard bound).
 */
final class UsageLedger {
    static final long HOUR_NANOS = 3_600_000_000_000L;
    /** Fits the saved ledger in stable memory's usage region (39 KB). */
    static final int MAX_CALLERS = 1024;
    private static final byte FORMAT = 1;
    /** A principal is at most 29 bytes. */
    private static final int MAX_PRINCIPAL_BYTES = 29;

    private static final class Entry {
        final byte[] principal;
        long spent;

        Entry(byte[] principal) {
            this.principal = principal;
        }
    }

    /** The hour that {@link #callers} and {@link #totalSpent} count; older hours are forgotten. */
    private long hour;
    private long totalSpent;
    /** By first spend this hour, oldest first. */
    private final Map<String, Entry> callers = new LinkedHashMap<>();

    private void roll(long now) {
        long current = now / HOUR_NANOS;
        if (current != hour) {
            hour = current;
            totalSpent = 0;
            callers.clear();
        }
    }

    private static String key(byte[] principal) {
        char[] chars = new char[principal.length];
        for (int i = 0; i < chars.length; i++) {
            chars[i] = (char) (principal[i] & 0xff);
        }
        return new String(chars);
    }

    long callerSpent(byte[] caller, long now) {
        roll(now);
        Entry e = callers.get(key(caller));
        return e == null ? 0 : e.spent;
    }

    long totalSpent(long now) {
        roll(now);
        return totalSpent;
    }

    int callerCount() {
        return callers.size();
    }

    /** Instructions {@code caller} may still spend this hour: the least of its share and the canister's total left. */
    long remaining(byte[] caller, long now, UsageRules policy) {
        long own = policy.perCallerInstructionsPerHour() - callerSpent(caller, now);
        long total = policy.totalInstructionsPerHour() - totalSpent;
        return Math.max(0, Math.min(own, total));
    }

    /**
     * The budget of a call by {@code caller}: what is left to it this hour, at most {@code wanted}.
     *
     * @throws UserError (a "quota" message saying when it frees up) if less than {@code minimum} is left
     */
    long budget(byte[] caller, long now, UsageRules policy, long wanted, long minimum) {
        long left = remaining(caller, now, policy);
        if (left < minimum) {
            boolean total = policy.totalInstructionsPerHour() - totalSpent < minimum;
            throw new UserError("quota: " + (total
                    ? "the canister has used its " + policy.totalInstructionsPerHour() + " instructions for this hour"
                    : "you have used your " + policy.perCallerInstructionsPerHour() + " instructions for this hour")
                    + "; it frees up at " + clockTime(nextHour(now)) + " UTC (in " + minutesUntil(now) + " min)");
        }
        return Math.min(left, wanted);
    }

    /** Records what a call spent. */
    void charge(byte[] caller, long now, long instructions) {
        roll(now);
        String key = key(caller);
        Entry e = callers.get(key);
        if (e == null) {
            if (callers.size() >= MAX_CALLERS) {
                Iterator<Entry> oldest = callers.values().iterator();
                oldest.next();
                oldest.remove();
            }
            e = new Entry(caller.clone());
            callers.put(key, e);
        }
        e.spent += instructions;
        totalSpent += instructions;
    }

    /**
     * What the IC charges for an update message besides its instructions, in cycles at the 13-node rate (1 cycle per
     * instruction): 5 M per update, 1.2 M per ingress message and 2,000 per ingress byte. Charged to the ledger with
     * the instructions, so that the hourly total bounds the cycles, not only the execution.
     */
    static long messageCost(long argBytes) {
        return 5_000_000L + 1_200_000L + 2_000L * argBytes;
    }

    static long nextHour(long now) {
        return (now / HOUR_NANOS + 1) * HOUR_NANOS;
    }

    private static long minutesUntil(long now) {
        return (nextHour(now) - now + 59_999_999_999L) / 60_000_000_000L;
    }

    /** "HH:MM" of a time in nanoseconds since the epoch. */
    private static String clockTime(long nanos) {
        long minutes = nanos / 60_000_000_000L % (24 * 60);
        long h = minutes / 60;
        long m = minutes % 60;
        return (h < 10 ? "0" : "") + h + ":" + (m < 10 ? "0" : "") + m;
    }

    byte[] toBytes() {
        int size = 1 + 8 + 8 + 4;
        for (Entry e : callers.values()) {
            size += 1 + e.principal.length + 8;
        }
        ByteBuffer out = ByteBuffer.allocate(size).put(FORMAT).putLong(hour).putLong(totalSpent).putInt(callers.size());
        for (Entry e : callers.values()) {
            out.put((byte) e.principal.length).put(e.principal).putLong(e.spent);
        }
        return out.array();
    }

    /** @throws IllegalArgumentException if the bytes are not a saved ledger */
    static UsageLedger fromBytes(byte[] bytes) {
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            if (in.get() != FORMAT) {
                throw new IllegalArgumentException("unknown format");
            }
            UsageLedger ledger = new UsageLedger();
            ledger.hour = in.getLong();
            ledger.totalSpent = in.getLong();
            int count = in.getInt();
            if (count < 0 || count > MAX_CALLERS) {
                throw new IllegalArgumentException(count + " callers");
            }
            for (int i = 0; i < count; i++) {
                int length = in.get();
                if (length < 0 || length > MAX_PRINCIPAL_BYTES) {
                    throw new IllegalArgumentException("a principal of " + length + " bytes");
                }
                byte[] principal = new byte[length];
                in.get(principal);
                Entry e = new Entry(principal);
                e.spent = in.getLong();
                ledger.callers.put(key(principal), e);
            }
            if (in.hasRemaining()) {
                throw new IllegalArgumentException("trailing bytes");
            }
            return ledger;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("not a saved usage ledger: truncated");
        }
    }
}
