package org.icgpt2.canister;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.icgpt2.ic.UserError;
import org.junit.jupiter.api.Test;

/** The findings of the cycle-drain attack, against the policy and ledger without the canister. */
class UsageTest {
    private static final byte[] STRANGER = UsageRulesTest.ALICE;
    private static final byte[] OTHER = UsageRulesTest.BOB;
    private static final byte[] ANONYMOUS = UsageRulesTest.ANONYMOUS;
    private static final long B = 1_000_000_000L;
    private static final long NOW = 1_796_289_000_000_000_000L;
    private static final long MAX_CALL = 36 * B;

    @Test
    void aStrangerSpending36BPerCallIsRefusedForQuotaWhileAnotherStillGenerates() {
        Usage usage = new Usage();
        int calls = 0;
        long spent = 0;
        while (true) {
            long budget;
            try {
                budget = usage.admit(STRANGER, false, NOW, 100, MAX_CALL, B);
            } catch (UserError e) {
                assertTrue(e.getMessage().startsWith("quota: you have used your 200000000000 instructions"), e.getMessage());
                break;
            }
            assertTrue(budget <= MAX_CALL);
            usage.charge(STRANGER, NOW, budget, 100); // the call spends all it was allowed
            spent += budget + UsageLedger.messageCost(100);
            calls++;
        }
        assertEquals(6, calls, "5 full calls and the rest of the share");
        assertTrue(spent <= UsageRules.DEFAULT.perCallerInstructionsPerHour(), "never overspends: " + spent);
        assertTrue(usage.inspectRefusal(STRANGER, false, NOW, 100, 131_072).startsWith("quota: you have used"));
        assertNull(usage.inspectRefusal(OTHER, false, NOW, 100, 131_072));
        assertEquals(MAX_CALL, usage.admit(OTHER, false, NOW, 100, MAX_CALL, B));
    }

    @Test
    void theTotalCapRefusesEveryoneUntilTheHourTurns() {
        Usage usage = new Usage();
        usage.setPolicy(new UsageRules(false, false, 200 * B, 1000 * B, 2));
        for (int caller = 0; ; caller++) {
            byte[] principal = {(byte) caller, 7};
            try {
                usage.charge(principal, NOW, usage.admit(principal, false, NOW, 0, MAX_CALL, B), 0);
            } catch (UserError e) {
                assertTrue(e.getMessage().contains("the canister has used its 1000000000000 instructions"), e.getMessage());
                assertTrue(caller >= 27, "the total went to " + caller + " callers");
                break;
            }
        }
        assertTrue(usage.ledger().totalSpent(NOW) <= 1000 * B);
        assertThrows(UserError.class, () -> usage.admit(OTHER, true, NOW, 0, MAX_CALL, B), "controllers too");
        assertTrue(usage.inspectRefusal(new byte[]{99}, false, NOW, 0, 131_072).startsWith("quota: the canister has used"));
        long nextHour = UsageLedger.nextHour(NOW);
        assertEquals(MAX_CALL, usage.admit(OTHER, false, nextHour, 0, MAX_CALL, B));
    }

    @Test
    void inspectRefusesWhatTheCallWouldRefuse() {
        Usage usage = new Usage();
        assertTrue(usage.inspectRefusal(ANONYMOUS, false, NOW, 10, 131_072).startsWith("anonymous callers may not generate"));
        assertTrue(usage.inspectRefusal(STRANGER, false, NOW, 1_900_000, 131_072).contains("1900000 bytes"));
        assertNull(usage.inspectRefusal(STRANGER, false, NOW, 131_072, 131_072));
        UserError e = assertThrows(UserError.class, () -> usage.admit(ANONYMOUS, false, NOW, 10, MAX_CALL, B));
        assertTrue(e.getMessage().startsWith("anonymous callers may not generate"));
        usage.setPolicy(new UsageRules(true, false, 200 * B, 2000 * B, 2));
        assertNull(usage.inspectRefusal(ANONYMOUS, false, NOW, 10, 131_072));
    }

    @Test
    void policyAndLedgerSurviveAnUpgradeAndBadBytesGiveTheDefaults() {
        Usage usage = new Usage();
        UsageRules policy = new UsageRules(true, true, 5 * B, 50 * B, 1);
        usage.setPolicy(policy);
        usage.charge(STRANGER, NOW, 3 * B, 0);
        Usage restored = Usage.fromBytes(usage.toBytes());
        assertEquals(policy, restored.policy());
        assertEquals(3 * B + UsageLedger.messageCost(0), restored.ledger().callerSpent(STRANGER, NOW));
        byte[] bytes = usage.toBytes();
        for (byte[] bad : new byte[][]{new byte[0], Arrays.copyOf(bytes, 20), {0, 0, 0, 99, 1}, {(byte) 0xff, 0, 0, 0}}) {
            Usage fallback = Usage.fromBytes(bad);
            assertEquals(UsageRules.DEFAULT, fallback.policy());
            assertEquals(0, fallback.ledger().totalSpent(NOW));
        }
    }
}
