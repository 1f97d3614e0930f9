package org.icgpt2.canister;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.icgpt2.ic.UserError;
import org.junit.jupiter.api.Test;

class UsageRulesTest {
    static final byte[] ANONYMOUS = {4};
    static final byte[] ALICE = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1};
    static final byte[] BOB = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 2};
    private static final long HOUR = UsageLedger.HOUR_NANOS;
    /** 2026-12-03 09:10:00 UTC. */
    private static final long T0 = 1_796_289_000_000_000_000L;

    @Test
    void defaultsAreTheIssues() {
        UsageRules p = UsageRules.DEFAULT;
        assertEquals(new UsageRules(false, false, 200_000_000_000L, 2_000_000_000_000L, 2), p);
        assertNotNull(p.refusal(ANONYMOUS, false));
        assertNull(p.refusal(ALICE, false));
        assertNull(p.refusal(ANONYMOUS, true));
    }

    @Test
    void allowlistModeServesOnlyPrivilegedCallers() {
        UsageRules p = new UsageRules(true, true, 1, 1, 1);
        assertTrue(p.refusal(ALICE, false).contains("allowlist_only"));
        assertTrue(p.refusal(ANONYMOUS, false).contains("allowlist_only"));
        assertNull(p.refusal(ALICE, true));
        assertNull(new UsageRules(true, false, 1, 1, 1).refusal(ANONYMOUS, false));
    }

    @Test
    void rejectsValuesThatCannotBeAPolicy() {
        assertThrows(UserError.class, () -> new UsageRules(false, false, -1, 1, 1)); // nat64 2^64-1 as a Java long
        assertThrows(UserError.class, () -> new UsageRules(false, false, 1, Long.MIN_VALUE, 1));
        assertThrows(UserError.class, () -> new UsageRules(false, false, 1, 1, -1)); // nat32 above 2^31
        assertThrows(UserError.class, () -> new UsageRules(false, false, 1, 1, UsageRules.MAX_SESSIONS_PER_CALLER + 1));
    }

    @Test
    void policyRoundTripsThroughBytes() {
        UsageRules p = new UsageRules(true, false, 123, 456_000_000_000_000L, 7);
        assertEquals(p, UsageRules.fromBytes(p.toBytes()));
        byte[] bytes = p.toBytes();
        assertThrows(IllegalArgumentException.class, () -> UsageRules.fromBytes(Arrays.copyOf(bytes, bytes.length - 1)));
        assertThrows(IllegalArgumentException.class, () -> UsageRules.fromBytes(new byte[0]));
        bytes[bytes.length - 1] = 100; // 100 sessions per caller: over the cap
        assertThrows(IllegalArgumentException.class, () -> UsageRules.fromBytes(bytes));
    }

    @Test
    void aCallsBudgetIsCappedByItsCallersShareAndTheTotal() {
        UsageRules p = new UsageRules(false, false, 100, 250, 2);
        UsageLedger ledger = new UsageLedger();
        assertEquals(36, ledger.budget(ALICE, T0, p, 36, 10));
        ledger.charge(ALICE, T0, 70);
        assertEquals(30, ledger.budget(ALICE, T0, p, 36, 10), "its share has 30 left");
        ledger.charge(ALICE, T0 + 1, 30);
        UserError quota = assertThrows(UserError.class, () -> ledger.budget(ALICE, T0 + 2, p, 36, 10));
        assertTrue(quota.getMessage().startsWith("quota: you have used your 100 instructions"), quota.getMessage());
        assertTrue(quota.getMessage().endsWith("frees up at 10:00 UTC (in 50 min)"), quota.getMessage());
        // another caller still generates
        assertEquals(36, ledger.budget(BOB, T0, p, 36, 10));
        ledger.charge(BOB, T0, 100);
        byte[] carol = {7};
        ledger.charge(carol, T0, 45);
        assertEquals(5, ledger.remaining(new byte[]{8}, T0, p), "the total has 5 left");
        UserError total = assertThrows(UserError.class, () -> ledger.budget(new byte[]{8}, T0, p, 36, 10));
        assertTrue(total.getMessage().contains("the canister has used its 250 instructions for this hour"), total.getMessage());
        assertEquals(245, ledger.totalSpent(T0));
        // the hour turns: everything is free again
        long next = UsageLedger.nextHour(T0);
        assertEquals(T0 + 50 * 60_000_000_000L, next);
        assertEquals(36, ledger.budget(ALICE, next, p, 36, 10));
        assertEquals(0, ledger.totalSpent(next));
        assertEquals(0, ledger.callerSpent(ALICE, next + HOUR - 1));
    }

    @Test
    void messagesCostTheirFixedFeesAndTheirBytes() {
        assertEquals(6_200_000L, UsageLedger.messageCost(0));
        // the longest prompt inspect_message lets through for GPT-2 (1,024 tokens of at most 128 bytes)
        assertEquals(6_200_000L + 2_000L * 131_072, UsageLedger.messageCost(131_072));
    }

    @Test
    void theTableIsBoundedOldestDroppedFirst() {
        UsageLedger ledger = new UsageLedger();
        for (int i = 0; i < UsageLedger.MAX_CALLERS + 10; i++) {
            ledger.charge(new byte[]{(byte) (i >> 8), (byte) i, 1}, T0, 1 + i);
        }
        assertEquals(UsageLedger.MAX_CALLERS, ledger.callerCount());
        assertEquals(0, ledger.callerSpent(new byte[]{0, 0, 1}, T0), "the first caller was dropped");
        assertEquals(11, ledger.callerSpent(new byte[]{0, 10, 1}, T0));
        long n = UsageLedger.MAX_CALLERS + 10;
        assertEquals(n * (n + 1) / 2, ledger.totalSpent(T0), "the total still counts every caller");
    }

    @Test
    void ledgerRoundTripsThroughBytes() {
        UsageRules p = UsageRules.DEFAULT;
        UsageLedger ledger = new UsageLedger();
        ledger.charge(ALICE, T0, 5_000_000_000L);
        ledger.charge(BOB, T0, 7);
        UsageLedger restored = UsageLedger.fromBytes(ledger.toBytes());
        assertEquals(5_000_000_000L, restored.callerSpent(ALICE, T0));
        assertEquals(7, restored.callerSpent(BOB, T0));
        assertEquals(ledger.remaining(ALICE, T0, p), restored.remaining(ALICE, T0, p));
        assertEquals(5_000_000_007L, restored.totalSpent(T0));
        byte[] bytes = ledger.toBytes();
        for (int cut = 0; cut < bytes.length; cut++) {
            byte[] truncated = Arrays.copyOf(bytes, cut);
            assertThrows(IllegalArgumentException.class, () -> UsageLedger.fromBytes(truncated), "cut at " + cut);
        }
        byte[] hostileCount = bytes.clone();
        hostileCount[17] = 0x7f; // a count of 2^31 callers
        assertThrows(IllegalArgumentException.class, () -> UsageLedger.fromBytes(hostileCount));
    }
}
