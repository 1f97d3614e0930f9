package org.icgpt2.canister;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import org.icgpt2.ic.UserError;

/**
 * Who may generate, and how much: the controllers' settings (get_usage_policy / set_usage_policy), kept in stable
 * memory across upgrades. Instruction budgets are per clock hour (UTC); the total bounds the cycles the canister
 * burns per hour, the per-caller share keeps one caller from taking all of it.
 */
record UsageRules(boolean allowAnonymous, boolean allowlistOnly, long perCallerInstructionsPerHour,
                   long totalInstructionsPerHour, int maxSessionsPerCaller) {
    /** In force after install, and after an upgrade from a version that kept no policy. */
    static final UsageRules DEFAULT = new UsageRules(false, false, 200_000_000_000L, 2_000_000_000_000L, 2);
    /** The most sessions one caller may hold: each is a full KV cache. */
    static final int MAX_SESSIONS_PER_CALLER = 16;
    /** The anonymous principal (the caller of unsigned messages): everyone shares it. */
    private static final byte[] ANONYMOUS = {4};
    private static final byte FORMAT = 1;
    private static final int BYTES = 1 + 2 + 8 + 8 + 4;

    /** @throws UserError for values that cannot be a policy (nat64 above 2^63 - 1, nat32 above the session cap) */
    UsageRules {
        if (perCallerInstructionsPerHour < 0 || totalInstructionsPerHour < 0) {
            throw new UserError("instructions per hour must be below 2^63");
        }
        if (maxSessionsPerCaller < 0 || maxSessionsPerCaller > MAX_SESSIONS_PER_CALLER) {
            throw new UserError("max_sessions_per_caller must be between 0 and " + MAX_SESSIONS_PER_CALLER);
        }
    }

    static boolean isAnonymous(byte[] principal) {
        return principal.length == 1 && principal[0] == ANONYMOUS[0];
    }

    /**
     * Why {@code caller} may not generate, or null if it may. {@code privileged}: a controller or an authorized
     * principal.
     */
    String refusal(byte[] caller, boolean privileged) {
        if (privileged) {
            return null;
        }
        if (isAnonymous(caller) && !allowAnonymous) {
            return "anonymous callers may not generate here (allow_anonymous is off): call with an identity";
        }
        if (allowlistOnly) {
            return "this canister only serves its controllers and the principals they authorize (allowlist_only)";
        }
        return null;
    }

    byte[] toBytes() {
        return ByteBuffer.allocate(BYTES).put(FORMAT).put((byte) (allowAnonymous ? 1 : 0))
                .put((byte) (allowlistOnly ? 1 : 0)).putLong(perCallerInstructionsPerHour)
                .putLong(totalInstructionsPerHour).putInt(maxSessionsPerCaller).array();
    }

    /** @throws IllegalArgumentException if the bytes are not a saved policy */
    static UsageRules fromBytes(byte[] bytes) {
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            if (bytes.length != BYTES || in.get() != FORMAT) {
                throw new IllegalArgumentException("not a saved usage policy");
            }
            return new UsageRules(in.get() != 0, in.get() != 0, in.getLong(), in.getLong(), in.getInt());
        } catch (BufferUnderflowException | UserError e) {
            throw new IllegalArgumentException("not a saved usage policy: " + e.getMessage());
        }
    }
}
