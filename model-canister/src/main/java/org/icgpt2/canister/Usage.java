package org.icgpt2.canister;

import java.nio.ByteBuffer;
import org.icgpt2.ic.UserError;

/**
 * The usage policy in force and the hourly ledger it is checked against: who may generate, how many instructions a
 * call may spend, and what it spent. Both survive upgrades through {@link #toBytes}.
 */
final class Usage {
    private UsageRules policy = UsageRules.DEFAULT;
    private UsageLedger ledger = new UsageLedger();

    UsageRules policy() {
        return policy;
    }

    void setPolicy(UsageRules policy) {
        this.policy = policy;
    }

    UsageLedger ledger() {
        return ledger;
    }

    /**
     * Why {@code inspect_message} should refuse a generating call before the canister pays for it, or null:
     * a caller the policy refuses, an argument longer than {@code maxArgBytes}, or a caller with no quota left.
     */
    String inspectRefusal(byte[] caller, boolean privileged, long now, long argBytes, long maxArgBytes) {
        String refusal = policy.refusal(caller, privileged);
        if (refusal != null) {
            return refusal;
        }
        if (argBytes > maxArgBytes) {
            return "the arguments are " + argBytes + " bytes; a prompt cannot need more than " + maxArgBytes;
        }
        long fees = UsageLedger.messageCost(argBytes);
        try {
            ledger.budget(caller, now, policy, fees, fees);
        } catch (UserError quota) {
            return quota.getMessage();
        }
        return null;
    }

    /**
     * Admits a generating call: its instruction budget, at most {@code wanted}, after the message's fixed costs.
     *
     * @param minimum instructions the smallest step needs (one token)
     * @throws UserError if the policy refuses the caller, or its quota has less than {@code minimum} left
     */
    long admit(byte[] caller, boolean privileged, long now, long argBytes, long wanted, long minimum) {
        String refusal = policy.refusal(caller, privileged);
        if (refusal != null) {
            throw new UserError(refusal);
        }
        long fees = UsageLedger.messageCost(argBytes);
        return ledger.budget(caller, now, policy, wanted + fees, minimum + fees) - fees;
    }

    /** Records a call's instructions and its message's fixed costs. */
    void charge(byte[] caller, long now, long instructions, long argBytes) {
        ledger.charge(caller, now, instructions + UsageLedger.messageCost(argBytes));
    }

    byte[] toBytes() {
        byte[] p = policy.toBytes();
        byte[] l = ledger.toBytes();
        return ByteBuffer.allocate(8 + p.length + l.length).putInt(p.length).put(p).putInt(l.length).put(l).array();
    }

    /**
     * Usage saved by {@link #toBytes}; saved bytes that cannot be read (a corrupt or older format) give the default
     * policy and an empty ledger, so that an upgrade never traps on them.
     */
    static Usage fromBytes(byte[] bytes) {
        Usage usage = new Usage();
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            byte[] p = new byte[checkedLength(in)];
            in.get(p);
            byte[] l = new byte[checkedLength(in)];
            in.get(l);
            usage.policy = UsageRules.fromBytes(p);
            usage.ledger = UsageLedger.fromBytes(l);
        } catch (RuntimeException e) {
            return new Usage();
        }
        return usage;
    }

    private static int checkedLength(ByteBuffer in) {
        int length = in.getInt();
        if (length < 0 || length > in.remaining()) {
            throw new IllegalArgumentException("length " + length);
        }
        return length;
    }
}
