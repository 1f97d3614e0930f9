package org.icgpt2.canister;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.icgpt2.canister.ModelInterface.Load;
import org.icgpt2.canister.ModelInterface.ModelInfo;
import org.icgpt2.canister.ModelInterface.Precision;
import org.icgpt2.canister.ModelInterface.SamplingSettings;
import org.icgpt2.canister.ModelInterface.Status;
import org.icgpt2.canister.ModelInterface.StopReason;
import org.icgpt2.canister.ModelInterface.TurnProgress;
import org.icgpt2.canister.ModelInterface.TurnRequest;
import org.icgpt2.canister.ModelInterface.UploadProgress;
import org.icgpt2.canister.UploadStore.File;
import org.icgpt2.gpt2.JavaKernels;
import org.icgpt2.gpt2.TestFiles;
import org.icgpt2.ic.UserError;
import org.icgpt2.jvm.ByteArrayStableStorage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The canister's service core on the JVM, with stable memory in a byte array: an upgrade is a new core on a copy. */
class CanisterCoreTest {
    private static final long MAX_STABLE_BYTES = 64L << 20;
    private static final byte[] CONTROLLER = {1, 2, 3};
    private static final byte[] STRANGER = {9, 9};
    private static final byte[] THIRD_CALLER = {7, 7};
    // A tiny random model with the real vocabulary and tokenizer.
    private static final int LAYERS = 2;
    private static final int HEADS = 2;
    private static final int EMBD = 16;
    private static final int POSITIONS = 32;
    private static final int VOCAB = 50260;

    private static byte[] config;
    private static byte[] safetensors;
    private static byte[] tokenizer;

    private final List<String> log = new ArrayList<>();

    @BeforeAll
    static void model() throws Exception {
        Path dir = TestFiles.randomModel("--layers", "" + LAYERS, "--heads", "" + HEADS, "--embd", "" + EMBD,
                "--positions", "" + POSITIONS, "--vocab", "" + VOCAB, "--seed", "5");
        config = Files.readAllBytes(dir.resolve("config.json"));
        safetensors = Files.readAllBytes(dir.resolve("model.safetensors"));
        tokenizer = Files.readAllBytes(dir.resolve("tokenizer.json"));
    }

    /** A canister on the JVM: its stable memory, and the core over it that an upgrade replaces. */
    private final class JvmCanister {
        private final LongSupplier instructions;
        ByteArrayStableStorage storage = new ByteArrayStableStorage(MAX_STABLE_BYTES);
        CanisterCore core;

        JvmCanister() {
            this(() -> 0);
        }

        /** {@code instructions} stands for the current message's instruction counter. */
        JvmCanister(LongSupplier instructions) {
            this.instructions = instructions;
            core = newCore();
        }

        private CanisterCore newCore() {
            return new CanisterCore(storage, new JavaKernels(), instructions, () -> 42, p -> Arrays.equals(p, CONTROLLER),
                    () -> Runtime.getRuntime().maxMemory(), new byte[]{42});
        }

        /** Upgrade = save (stable memory is all that is kept), a new instance, restore. */
        void upgrade() {
            storage = new ByteArrayStableStorage(storage.snapshot(), MAX_STABLE_BYTES);
            core = newCore();
            core.restore(log::add);
        }

        /** Appends {@code bytes} in chunks of {@code chunk} bytes, as the upload scripts do. */
        void upload(File file, byte[] bytes, int chunk) {
            for (int at = 0; at < bytes.length; at += chunk) {
                core.uploads().append(file, Arrays.copyOfRange(bytes, at, Math.min(bytes.length, at + chunk)));
            }
        }

        JvmCanister uploaded() {
            upload(File.CONFIG, config, 300);
            upload(File.SAFETENSORS, safetensors, 1 << 20);
            upload(File.TOKENIZER, tokenizer, 1 << 20);
            return this;
        }

        int[] greedy(int[] prompt, int tokens) {
            return (int[]) core.inference(CONTROLLER, 0, prompt, tokens, 0).result().toCandid().value();
        }
    }

    /** Stable memory without the usage region (its ledger records every generating call, failed ones included). */
    private static byte[] withoutUsage(byte[] stable) {
        byte[] copy = stable.clone();
        Arrays.fill(copy, 4096, Math.min(copy.length, 65536), (byte) 0);
        return copy;
    }

    private static byte[] sha256(byte[] bytes) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(bytes);
    }

    private static TurnRequest turn(Long sessionId, String prompt, int maxNewTokens) {
        return new TurnRequest(sessionId, prompt, null, new SamplingSettings(maxNewTokens, 0, 0, 1, 0, null));
    }

    @Test
    void uploadsLandInStableMemoryWithTheirLengthAndDigestAndSurviveAnUpgrade() throws Exception {
        JvmCanister canister = new JvmCanister().uploaded();
        Status status = canister.core.status();
        assertEquals(config.length, status.configBytes());
        assertEquals(safetensors.length, status.safetensorsBytes());
        assertEquals(tokenizer.length, status.tokenizerBytes());
        assertArrayEquals(sha256(config), status.configSha256());
        assertArrayEquals(sha256(safetensors), status.safetensorsSha256());
        assertArrayEquals(sha256(tokenizer), status.tokenizerSha256());
        assertEquals(canister.storage.size() * 65536, status.stableMemoryBytes());
        assertTrue(status.stableMemoryBytes() >= File.SAFETENSORS.start + safetensors.length);
        byte[] stored = new byte[safetensors.length];
        canister.core.uploads().staged().read(File.SAFETENSORS, 0, stored, 0, stored.length);
        assertArrayEquals(safetensors, stored);

        canister.upgrade();
        Status after = canister.core.status();
        assertEquals(config.length, after.configBytes());
        assertArrayEquals(sha256(safetensors), after.safetensorsSha256());
        assertArrayEquals(sha256(tokenizer), after.tokenizerSha256());
        assertFalse(after.modelLoaded(), "nothing was set up, so nothing is reloaded");
        assertEquals(List.of(), log);

        // An upload interrupted by an upgrade resumes where it stopped; the digest covers the whole file.
        canister.core.uploads().clear(File.CONFIG);
        assertEquals(0, canister.core.status().configBytes());
        assertArrayEquals(sha256(new byte[0]), canister.core.status().configSha256());
        canister.core.uploads().append(File.CONFIG, Arrays.copyOf(config, 10));
        canister.upgrade();
        canister.core.uploads().append(File.CONFIG, Arrays.copyOfRange(config, 10, config.length));
        assertArrayEquals(sha256(config), canister.core.status().configSha256());
        assertArrayEquals(config, canister.core.uploads().staged().readAll(File.CONFIG));
    }

    @Test
    void upgradeRestoresTheModelInItsPrecisionAndTheTokenizer() {
        JvmCanister canister = new JvmCanister().uploaded();
        canister.core.setupModel(Precision.INT8);
        canister.core.setupTokenizer();
        int[] prompt = canister.core.tokenize("what is the capital of France?").tokenIds();
        int[] before = canister.greedy(prompt, 6);
        String answer = canister.core.generate(CONTROLLER, 0, "hello", 5, 0);

        canister.upgrade();
        Status status = canister.core.status();
        assertTrue(status.modelLoaded());
        assertTrue(status.tokenizerLoaded());
        assertEquals(Precision.INT8, status.precision());
        assertEquals(List.of(), log);
        assertArrayEquals(before, canister.greedy(prompt, 6));
        assertEquals(answer, canister.core.generate(CONTROLLER, 0, "hello", 5, 0));

        canister.core.setupModel(Precision.F32);
        canister.upgrade();
        assertEquals(Precision.F32, canister.core.status().precision());
    }

    @Test
    void anUpgradeDuringAReUploadRestoresWhatWasSetUp() {
        JvmCanister canister = new JvmCanister().uploaded();
        canister.core.setupModel(Precision.F32);
        canister.core.setupTokenizer();
        int[] answer = canister.greedy(new int[]{1, 2, 3}, 4);
        canister.core.uploads().clear(File.CONFIG);
        canister.core.uploads().append(File.CONFIG, "{\"n_layer\": ".getBytes(StandardCharsets.UTF_8));
        canister.core.uploads().clear(File.SAFETENSORS);
        canister.core.uploads().append(File.SAFETENSORS, Arrays.copyOf(safetensors, 1000));

        canister.upgrade();
        assertEquals(List.of(), log);
        assertTrue(canister.core.status().modelLoaded());
        assertArrayEquals(answer, canister.greedy(new int[]{1, 2, 3}, 4));
        assertEquals(1000, canister.core.status().safetensorsBytes(), "the staged upload is kept too");
        // the new upload, completed and set up, replaces the old version; the next upgrade restores it
        canister.core.uploads().append(File.SAFETENSORS, Arrays.copyOfRange(safetensors, 1000, safetensors.length));
        canister.core.uploads().clear(File.CONFIG);
        canister.upload(File.CONFIG, config, 300);
        canister.core.setupModel(Precision.F32);
        canister.upgrade();
        assertArrayEquals(answer, canister.greedy(new int[]{1, 2, 3}, 4));
        assertArrayEquals(config, canister.core.uploads().setUp().readAll(File.CONFIG));
        byte[] head = new byte[64];
        canister.storage.read(File.SAFETENSORS.start, head, 0, head.length);
        assertArrayEquals(Arrays.copyOf(safetensors, 64), head, "the set-up version moved to its region's start");
    }

    @Test
    void aFileThatNoLongerLoadsIsReportedAndTheUpgradeGoesThrough() {
        JvmCanister canister = new JvmCanister().uploaded();
        canister.core.setupModel(Precision.F32);
        canister.core.setupTokenizer();
        // the set-up config's bytes damaged in stable memory
        canister.storage.write(File.CONFIG.start, "{\"n_layer\": ".getBytes(StandardCharsets.UTF_8), 0, 12);

        canister.upgrade();
        assertEquals(1, log.size(), log.toString());
        assertTrue(log.get(0).startsWith("post_upgrade: the model could not be reloaded: "), log.get(0));
        assertFalse(canister.core.status().modelLoaded());
        assertTrue(canister.core.status().tokenizerLoaded());
    }

    @Test
    void statusDescribesTheLoadedModel() {
        JvmCanister canister = new JvmCanister().uploaded();
        Status empty = canister.core.status();
        assertFalse(empty.modelLoaded());
        assertNull(empty.model());
        assertNull(empty.precision());
        assertEquals(0, empty.maxSessions());

        canister.core.setupModel(Precision.F32);
        Status status = canister.core.status();
        // GPT-2's parameters: embeddings, per layer 12 d^2 + 13 d (attention, MLP, two layer norms), final norm.
        long parameters = (long) VOCAB * EMBD + (long) POSITIONS * EMBD + LAYERS * (12L * EMBD * EMBD + 13L * EMBD)
                + 2L * EMBD;
        assertEquals(new ModelInfo(LAYERS, HEADS, EMBD, POSITIONS, VOCAB, parameters), status.model());
        assertEquals(Precision.F32, status.precision());
        assertFalse(status.tokenizerLoaded());
        assertTrue(status.maxSessions() > 0);
        assertTrue(status.heapBytes() > 0);
    }

    @Test
    void userErrorsChangeNothing() {
        JvmCanister canister = new JvmCanister();
        canister.upload(File.CONFIG, config, 1000);
        byte[] before = canister.storage.snapshot();

        byte[] tooLarge = new byte[(int) File.CONFIG.capacity() - config.length + 1];
        assertThrows(UserError.class, () -> canister.core.uploads().append(File.CONFIG, tooLarge));
        assertThrows(UserError.class, () -> canister.core.setupModel(Precision.F32), "no weights uploaded");
        assertThrows(UserError.class, () -> canister.core.setupTokenizer(), "no tokenizer uploaded");
        assertThrows(UserError.class, () -> canister.core.uploads().requireUploaded(File.SAFETENSORS));
        assertThrows(UserError.class, () -> canister.core.tokenize("hi"), "tokenizer not loaded");
        assertThrows(UserError.class, () -> canister.core.startTurn(STRANGER, 0, turn(null, "hi", 3)), "model not loaded");
        // the failed turn was charged to the caller's hourly usage: nothing else changed
        assertArrayEquals(withoutUsage(before), withoutUsage(canister.storage.snapshot()));
        canister.upgrade();
        assertEquals(List.of(), log, "the failed set-ups left no flag for post_upgrade");

        // A broken config while a model is loaded: the old model keeps serving, its flags stay.
        canister.uploaded();
        canister.core.uploads().clear(File.CONFIG);
        canister.upload(File.CONFIG, config, 1000);
        canister.core.setupModel(Precision.F32);
        int[] prompt = {464, 3139, 286};
        int[] answer = canister.greedy(prompt, 4);
        canister.core.uploads().clear(File.CONFIG);
        canister.core.uploads().append(File.CONFIG, "not json".getBytes(StandardCharsets.UTF_8));
        byte[] loaded = canister.storage.snapshot();
        assertThrows(UserError.class, () -> canister.core.setupModel(Precision.INT8));
        assertArrayEquals(loaded, canister.storage.snapshot());
        assertArrayEquals(answer, canister.greedy(prompt, 4));
        assertEquals(Precision.F32, canister.core.status().precision());
    }

    @Test
    void authorizationCoversControllersAndAuthorizedPrincipalsAcrossUpgrades() {
        JvmCanister canister = new JvmCanister();
        assertTrue(canister.core.isAuthorized(CONTROLLER));
        assertFalse(canister.core.isAuthorized(STRANGER));
        canister.core.authorize(STRANGER);
        canister.core.authorize(STRANGER);
        assertTrue(canister.core.isAuthorized(STRANGER));
        canister.upgrade();
        assertTrue(canister.core.isAuthorized(STRANGER));
        assertFalse(canister.core.isAuthorized(new byte[] {9}));

        for (int i = 1; i < UploadStore.MAX_AUTHORIZED; i++) {
            canister.core.authorize(new byte[] {7, (byte) i});
        }
        byte[] full = canister.storage.snapshot();
        assertThrows(UserError.class, () -> canister.core.authorize(new byte[] {8}));
        assertArrayEquals(full, canister.storage.snapshot());
    }

    @Test
    void turnsAnswerAsOneShotGenerationDoesAndBelongToTheirCaller() {
        JvmCanister canister = new JvmCanister().uploaded();
        canister.core.setupModel(Precision.F32);
        canister.core.setupTokenizer();
        String expected = canister.core.generate(CONTROLLER, 0, "hello", 5, 0);

        TurnProgress progress = canister.core.startTurn(STRANGER, 0, turn(null, "hello", 5));
        StringBuilder text = new StringBuilder(progress.text());
        while (!progress.done()) {
            progress = canister.core.continueTurn(STRANGER, 0, progress.sessionId());
            text.append(progress.text());
        }
        assertEquals(expected, text.toString());
        assertTrue(progress.stopReason() == StopReason.MAX_TOKENS || progress.stopReason() == StopReason.END_OF_TEXT);
        assertEquals(1, canister.core.status().sessions());

        long session = progress.sessionId();
        assertThrows(UserError.class, () -> canister.core.continueTurn(CONTROLLER, 0, session), "another caller's session");
        assertThrows(UserError.class, () -> canister.core.endSession(CONTROLLER, session));
        canister.core.endSession(STRANGER, session);
        assertEquals(0, canister.core.status().sessions());
        assertThrows(UserError.class, () -> canister.core.continueTurn(STRANGER, 0, session));
    }

    // ---- parallel chunks ----

    private static final int CHUNK = UploadStore.CHUNK_BYTES;

    private static byte[] randomBytes(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static byte[] chunk(byte[] file, int id) {
        return Arrays.copyOfRange(file, id * CHUNK, Math.min(file.length, (id + 1) * CHUNK));
    }

    @Test
    void chunksInAnyOrderAndSentTwiceMakeTheFileWhoseHashIsFinishedOverSeveralCallsAcrossAnUpgrade() throws Exception {
        // Each reading of the counter moves it on by 1 B instructions: under the 30 B budget a call hashes 29
        // blocks of 64 KiB (the 30th reading is at the budget).
        AtomicLong counter = new AtomicLong();
        JvmCanister canister = new JvmCanister(() -> counter.addAndGet(1_000_000_000L));
        byte[] file = randomBytes(3 * CHUNK + 12_345, 1);
        UploadStore uploads = canister.core.uploads();
        assertArrayEquals(new int[] {0, 1, 2, 3}, uploads.missingChunks(File.SAFETENSORS, file.length));
        uploads.putChunk(File.SAFETENSORS, 1, randomBytes(CHUNK, 2)); // wrong bytes, replaced below
        for (int id : new int[] {3, 1, 0, 2, 0}) {
            uploads.putChunk(File.SAFETENSORS, id, chunk(file, id));
        }
        assertArrayEquals(new int[0], uploads.missingChunks(File.SAFETENSORS, file.length));
        assertEquals(0, canister.core.status().safetensorsBytes(), "nothing is hashed before finishing");

        counter.set(0);
        UploadProgress first = canister.core.finishUpload(File.SAFETENSORS, file.length);
        assertFalse(first.done());
        assertNull(first.sha256());
        final int perCall = 29 << 16;
        assertEquals(perCall, first.hashedBytes());
        assertEquals(first.hashedBytes(), canister.core.status().safetensorsBytes());

        canister.upgrade(); // the chunk table and the running hash live in stable memory
        UploadProgress progress = first;
        int calls = 1;
        while (!progress.done()) {
            counter.set(0);
            progress = canister.core.finishUpload(File.SAFETENSORS, file.length);
            calls++;
        }
        assertEquals((file.length + perCall - 1) / perCall, calls);
        assertArrayEquals(sha256(file), progress.sha256());
        assertEquals(file.length, canister.core.status().safetensorsBytes());
        assertArrayEquals(sha256(file), canister.core.status().safetensorsSha256());
        byte[] stored = new byte[file.length];
        canister.core.uploads().staged().read(File.SAFETENSORS, 0, stored, 0, stored.length);
        assertArrayEquals(file, stored);
        // Done: finishing again answers the same; the sequential path's store_* accepts the file.
        assertArrayEquals(sha256(file), canister.core.finishUpload(File.SAFETENSORS, file.length).sha256());
        canister.core.uploads().requireUploaded(File.SAFETENSORS);
    }

    @Test
    void missingShortOrSurplusChunksKeepTheFileUnfinishedAndAreNamed() {
        JvmCanister canister = new JvmCanister();
        UploadStore uploads = canister.core.uploads();
        byte[] file = randomBytes(4 * CHUNK + 5, 3);
        for (int id : new int[] {0, 2, 4}) {
            uploads.putChunk(File.SAFETENSORS, id, chunk(file, id));
        }
        uploads.putChunk(File.SAFETENSORS, 3, Arrays.copyOf(chunk(file, 3), 100)); // short, and not the last
        assertArrayEquals(new int[] {1, 3}, uploads.missingChunks(File.SAFETENSORS, file.length));
        UserError missing = assertThrows(UserError.class, () -> canister.core.finishUpload(File.SAFETENSORS, file.length));
        assertEquals("safetensors: 2 of 5 chunks missing or of the wrong length (1, 3): send them again", missing.getMessage());
        // A chunk sent full where the total says the last one is short is wrong too.
        assertArrayEquals(new int[] {1, 2}, uploads.missingChunks(File.SAFETENSORS, 3L * CHUNK - 1));

        uploads.putChunk(File.SAFETENSORS, 1, chunk(file, 1));
        uploads.putChunk(File.SAFETENSORS, 3, chunk(file, 3));
        uploads.putChunk(File.SAFETENSORS, 7, new byte[] {1});
        UserError beyond = assertThrows(UserError.class, () -> canister.core.finishUpload(File.SAFETENSORS, file.length));
        assertTrue(beyond.getMessage().startsWith("safetensors chunk 7 lies beyond the 5 chunks"), beyond.getMessage());
        assertEquals(0, canister.core.status().safetensorsBytes());

        canister.core.uploads().clear(File.SAFETENSORS);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, uploads.missingChunks(File.SAFETENSORS, file.length));
    }

    @Test
    void chunksAndAppendsDoNotMixAndBadChunksChangeNothing() {
        JvmCanister canister = new JvmCanister();
        UploadStore uploads = canister.core.uploads();
        uploads.append(File.TOKENIZER, new byte[] {1, 2, 3});
        UserError appended = assertThrows(UserError.class, () -> uploads.putChunk(File.TOKENIZER, 0, new byte[] {1}));
        assertEquals("tokenizer holds 3 bytes already: clear_tokenizer_bytes before sending chunks", appended.getMessage());
        assertArrayEquals(new int[] {0}, uploads.missingChunks(File.TOKENIZER, 10));
        assertArrayEquals(new int[0], uploads.missingChunks(File.TOKENIZER, 3));

        uploads.putChunk(File.CONFIG, 0, new byte[] {'{', '}'});
        assertThrows(UserError.class, () -> uploads.append(File.CONFIG, new byte[] {1}));
        assertThrows(UserError.class, () -> uploads.requireUploaded(File.CONFIG));
        byte[] before = canister.storage.snapshot();
        for (Runnable bad : List.<Runnable>of(
                () -> uploads.putChunk(File.CONFIG, 1, new byte[] {1}),
                () -> uploads.putChunk(File.CONFIG, 0, new byte[(int) File.CONFIG.capacity() + 1]),
                () -> uploads.putChunk(File.SAFETENSORS, -1, new byte[] {1}),
                () -> uploads.putChunk(File.SAFETENSORS, File.SAFETENSORS.maxChunks(), new byte[] {1}),
                () -> uploads.putChunk(File.SAFETENSORS, 0, new byte[0]),
                () -> uploads.putChunk(File.SAFETENSORS, 0, new byte[CHUNK + 1]),
                () -> uploads.missingChunks(File.SAFETENSORS, File.SAFETENSORS.capacity() + 1),
                () -> uploads.missingChunks(File.SAFETENSORS, 0))) {
            assertThrows(UserError.class, bad::run);
        }
        assertArrayEquals(before, canister.storage.snapshot(), "refused chunks leave stable memory as it was");
        assertEquals("[2, 2]", Arrays.toString(new long[] {
            canister.core.finishUpload(File.CONFIG, 2).totalBytes(), canister.core.status().configBytes()}));
        uploads.append(File.SAFETENSORS, new byte[] {5}); // the other files are unaffected
    }

    @Test
    void loadCountsTheTurnsUnderWayAndTheSessions() {
        JvmCanister canister = new JvmCanister().uploaded();
        // Every read of the instruction counter spends 100 M, so a turn with a 1 B budget needs several calls.
        AtomicLong instructions = new AtomicLong();
        AtomicLong now = new AtomicLong(42);
        canister.core = new CanisterCore(canister.storage, new JavaKernels(), () -> instructions.addAndGet(100_000_000L),
                now::get, p -> Arrays.equals(p, CONTROLLER), () -> Runtime.getRuntime().maxMemory(), new byte[]{42});
        assertEquals(new Load(0, 0, 0, 0, 0), canister.core.load(), "before set-up");
        canister.core.setupModel(Precision.F32);
        canister.core.setupTokenizer();

        TurnRequest request = new TurnRequest(null, "hello there", null, new SamplingSettings(8, 0, 0, 1, 0, 1_000_000_000L));
        TurnProgress first = canister.core.startTurn(STRANGER, 0, request);
        assertFalse(first.done(), "the budget should cut the turn");
        Load running = canister.core.load();
        assertEquals(1, running.activeTurns());
        assertEquals(1, running.sessions());
        assertEquals(1, running.sessionsInUse());
        assertEquals(canister.core.status().maxSessions(), running.maxSessions());
        assertEquals(canister.core.status().lastCallInstructions(), running.lastCallInstructions());
        assertTrue(running.lastCallInstructions() > 0);

        canister.core.startTurn(CONTROLLER, 0, request);
        assertEquals(2, canister.core.load().activeTurns());
        TurnProgress progress = first;
        while (!progress.done()) {
            progress = canister.core.continueTurn(STRANGER, 0, progress.sessionId());
        }
        assertEquals(1, canister.core.load().activeTurns(), "the finished turn no longer counts");
        assertEquals(2, canister.core.load().sessions());
        now.addAndGet(Conversations.TURN_ACTIVE_NANOS);
        assertEquals(0, canister.core.load().activeTurns(), "a turn nobody continued for 10 s was stopped or abandoned");
        assertEquals(2, canister.core.load().sessions());
        assertEquals(2, canister.core.load().sessionsInUse(), "their users may still be writing the next question");
        now.addAndGet(Conversations.IDLE_NANOS - Conversations.TURN_ACTIVE_NANOS);
        assertEquals(2, canister.core.load().sessions());
        assertEquals(0, canister.core.load().sessionsInUse(), "no call for 5 minutes: the users left");
    }

    @Test
    void laterCallsAreShortWhileOtherTurnsAreUnderWayButForTheOlderOfTwo() {
        JvmCanister canister = new JvmCanister().uploaded();
        // Every read of the message's instruction counter spends 500 M: a token costs about 1.5 B, so a budget shows in
        // tokens. Each call starts the counter at 0, as a message does.
        AtomicLong instructions = new AtomicLong();
        canister.core = new CanisterCore(canister.storage, new JavaKernels(), () -> instructions.addAndGet(500_000_000L),
                () -> 42, p -> Arrays.equals(p, CONTROLLER), () -> Runtime.getRuntime().maxMemory(), new byte[]{42});
        canister.core.setupModel(Precision.F32);
        canister.core.setupTokenizer();
        TurnRequest adaptive = new TurnRequest(null, "hello there", null, new SamplingSettings(1000, 0, 0, 1, 0, null));
        long alone = canister.core.startTurn(STRANGER, 0, adaptive).sessionId();
        TurnProgress progress;
        do { // here a prompt token costs about a slice too: read the prompt first
            instructions.set(0);
            progress = canister.core.continueTurn(STRANGER, 0, alone);
        } while (progress.promptTokensRemaining() > 0);
        instructions.set(0);
        int aloneTokens = canister.core.continueTurn(STRANGER, 0, alone).tokenIds().length;
        assertEquals(2, aloneTokens, "alone, a later call gets 2 slices");

        instructions.set(0);
        long younger = canister.core.startTurn(CONTROLLER, 0, adaptive).sessionId();
        instructions.set(0);
        assertEquals(2, canister.core.continueTurn(STRANGER, 0, alone).tokenIds().length,
                "the older of two turns keeps 2 slices, so that it ends first");
        do {
            instructions.set(0);
            progress = canister.core.continueTurn(CONTROLLER, 0, younger);
        } while (progress.promptTokensRemaining() > 0);
        instructions.set(0);
        assertEquals(1, canister.core.continueTurn(CONTROLLER, 0, younger).tokenIds().length,
                "the younger of two turns, one slice");

        instructions.set(0);
        canister.core.startTurn(THIRD_CALLER, 0, adaptive);
        instructions.set(0);
        assertEquals(1, canister.core.continueTurn(STRANGER, 0, alone).tokenIds().length,
                "with two other turns under way, one slice even for the oldest");
    }
}
