package org.icgpt2.canister;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.icgpt2.gpt2.Config;
import org.icgpt2.gpt2.KvCache;
import org.icgpt2.ic.UserError;
import org.junit.jupiter.api.Test;

class ConversationsTest {
    private static final Config TINY = new Config(1, 1, 4, 16, 8, 10, 1e-5f, 0, 0);
    private static final byte[] ALICE = UsageRulesTest.ALICE;
    private static final byte[] BOB = UsageRulesTest.BOB;
    private static final long MINUTE = 60_000_000_000L;
    private int cachesMade;

    private Conversations conversations(int capacity) {
        return new Conversations(capacity, () -> {
            cachesMade++;
            return new KvCache(TINY);
        }, SessionIds.seeded(new byte[]{1, 2, 3}));
    }

    @Test
    void oneCallersNewSessionsEvictOnlyItsOwn() {
        Conversations c = conversations(16);
        long bobsSession = c.open(BOB, 0, 2).id;
        long bobsOther = c.open(BOB, 1, 2).id;
        List<Long> alices = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            alices.add(c.open(ALICE, 2 + i, 2).id);
        }
        assertEquals(2, c.countOwnedBy(ALICE));
        assertNotNull(c.find(bobsSession, BOB, 100));
        assertNotNull(c.find(bobsOther, BOB, 100));
        assertNotNull(c.find(alices.get(19), ALICE, 100));
        assertNotNull(c.find(alices.get(18), ALICE, 100));
        assertNull(c.find(alices.get(17), ALICE, 100), "Alice's oldest went");
        assertEquals(4, cachesMade, "evicted caches are reused");
    }

    @Test
    void sessionsAreInvisibleToOtherCallers() {
        Conversations c = conversations(4);
        long id = c.open(ALICE, 0, 2).id;
        assertNull(c.find(id, BOB, 1));
        assertFalse(c.close(id, BOB, 1));
        assertNotNull(c.find(id, ALICE, 1));
        assertTrue(c.close(id, ALICE, 2));
        assertNull(c.find(id, ALICE, 3));
    }

    @Test
    void whenFullOnlyIdleSessionsGiveWayOtherwiseBusy() {
        Conversations c = conversations(2);
        Conversation alices = c.open(ALICE, 0, 2);
        Conversation bobs = c.open(BOB, MINUTE, 2);
        byte[] carol = {7, 7, 7};
        UserError busy = assertThrows(UserError.class, () -> c.open(carol, 2 * MINUTE, 2));
        assertTrue(busy.getMessage().startsWith("busy: all 2 sessions are in use"), busy.getMessage());
        assertEquals(2, c.size());
        c.find(alices.id, ALICE, 3 * MINUTE); // Alice is active again; Bob idles
        assertThrows(UserError.class, () -> c.open(carol, MINUTE + Conversations.IDLE_NANOS - 1, 2));
        Conversation carols = c.open(carol, MINUTE + Conversations.IDLE_NANOS, 2);
        assertSame(bobs.cache, carols.cache, "Bob's idle session gave its cache");
        assertNull(c.find(bobs.id, BOB, MINUTE + Conversations.IDLE_NANOS));
        assertNotNull(c.find(alices.id, ALICE, MINUTE + Conversations.IDLE_NANOS));
    }

    @Test
    void noRoomForAnySessionIsBusy() {
        Conversations c = conversations(0);
        assertTrue(assertThrows(UserError.class, () -> c.open(ALICE, 0, 2)).getMessage().startsWith("busy"));
        assertEquals(0, cachesMade);
    }

    @Test
    void anonymousCallersGetNoSessions() {
        Conversations c = conversations(4);
        UserError e = assertThrows(UserError.class, () -> c.open(UsageRulesTest.ANONYMOUS, 0, 2));
        assertTrue(e.getMessage().startsWith("anonymous callers get no sessions"), e.getMessage());
        assertThrows(UserError.class, () -> c.open(ALICE, 0, 0));
        assertEquals(0, c.size());
        assertEquals(0, cachesMade);
    }

    private static final long GAMMA = 0x9E3779B97F4A7C15L;

    /**
     * The attack that worked on splitmix64 ids: un-mix an id of one's own back to the generator state (both values of
     * the bit the id's mask drops), step it, and mix again: the candidates for the next id.
     */
    private static Set<Long> predictNext(long id) {
        Set<Long> next = new HashSet<>();
        for (long state : new long[]{unmix(id), unmix(id | Long.MIN_VALUE)}) {
            next.add(mix(state + GAMMA) & Long.MAX_VALUE);
        }
        return next;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Inverse of {@link #mix}. */
    private static long unmix(long z) {
        z = (z ^ (z >>> 31) ^ (z >>> 62)) * 0x319642B2D24D8EC3L;
        z = (z ^ (z >>> 27) ^ (z >>> 54)) * 0x96DE1B173F119089L;
        return z ^ (z >>> 30) ^ (z >>> 60);
    }

    @Test
    void theAttackPredictsSplitmixIds() {
        long state = 1_796_289_000_000_000_000L; // the old generator's time seed
        long previous = mix(state += GAMMA) & Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long id = mix(state += GAMMA) & Long.MAX_VALUE;
            assertTrue(predictNext(previous).contains(id), "the attack works on splitmix64");
            previous = id;
        }
    }

    @Test
    void idsCannotBePredictedFromOnesOwn() {
        Conversations c = conversations(64);
        long[] ids = new long[64];
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < ids.length; i++) {
            ids[i] = c.open(ALICE, i, 64).id;
            assertTrue(ids[i] >= 0 && seen.add(ids[i]));
            if (i > 0) {
                assertFalse(predictNext(ids[i - 1]).contains(ids[i]), "id " + i + " predicted");
            }
        }
        // the same seed and the same messages give the same ids (the secret decides them, not the clock)...
        Conversations again = conversations(64);
        assertEquals(ids[0], again.open(ALICE, 0, 64).id);
        // ...and a different secret gives different ones
        Conversations other = new Conversations(64, () -> new KvCache(TINY), SessionIds.seeded(new byte[]{1, 2, 4}));
        assertNotEquals(ids[0], other.open(ALICE, 0, 64).id);
    }

    @Test
    void sessionIdStateSurvivesSerialization() {
        SessionIds ids = SessionIds.seeded(new byte[]{5});
        ids.next(new byte[]{1});
        SessionIds copy = SessionIds.fromBytes(ids.toBytes());
        assertEquals(ids.next(new byte[]{2}), copy.next(new byte[]{2}));
        assertThrows(IllegalArgumentException.class, () -> SessionIds.fromBytes(new byte[3]));
    }

    @Test
    void hmacMatchesTheJdk() throws Exception {
        byte[] key = "a secret key of 32 bytes, exact.".getBytes();
        byte[] message = "counter".getBytes();
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec(key, "HmacSHA256"));
        org.junit.jupiter.api.Assertions.assertArrayEquals(mac.doFinal(message), SessionIds.hmac(key, message));
    }
}
