package org.icgpt2.canister;

import java.util.Arrays;
import java.util.function.Consumer;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.icgpt2.canister.ModelInterface.Encoding;
import org.icgpt2.canister.ModelInterface.InferenceRecord;
import org.icgpt2.canister.ModelInterface.Load;
import org.icgpt2.canister.ModelInterface.ModelInfo;
import org.icgpt2.canister.ModelInterface.Precision;
import org.icgpt2.canister.ModelInterface.SamplingSettings;
import org.icgpt2.canister.ModelInterface.Status;
import org.icgpt2.canister.ModelInterface.StopReason;
import org.icgpt2.canister.ModelInterface.TokenIdsResult;
import org.icgpt2.canister.ModelInterface.TurnProgress;
import org.icgpt2.canister.ModelInterface.TurnRequest;
import org.icgpt2.canister.ModelInterface.UsagePolicy;
import org.icgpt2.canister.ModelInterface.UsageReport;
import org.icgpt2.canister.ModelInterface.UploadProgress;
import org.icgpt2.gpt2.Config;
import org.icgpt2.gpt2.Kernels;
import org.icgpt2.gpt2.Weights;
import org.icgpt2.ic.StableStorage;
import org.icgpt2.ic.UserError;
import org.icgpt2.ic.candid.Principal;

/**
 * The canister's state and behaviour behind its entry points, in plain Java (it runs on the JVM in tests): the
 * uploads in stable memory, who is authorized, the set-up and its recovery after an upgrade, the status, and
 * generation ({@link ModelService}). User mistakes throw {@link UserError} and change nothing.
 */
final class CanisterCore {
    private final StableStorage storage;
    private final UploadStore uploads;
    private final ModelService service;
    private final Predicate<byte[]> isController;
    private final LongSupplier instructionCounter;
    private final LongSupplier clock;
    /** The usage policy and this hour's ledger, saved in stable memory at every change. */
    private final Usage usage;

    /** Instructions one finish_*_upload call may spend hashing, well under the 40 B of a message. */
    static final long FINISH_UPLOAD_BUDGET = 30_000_000_000L;

    /**
     * Opens the canister's stable memory (a fresh one gets an empty layout and the default usage policy).
     * {@code instructionCounter} counts the current message's instructions, {@code clock} is the time in ns,
     * {@code isController} tells the controllers, {@code heapBytesLeft} the heap allocations can still get, and
     * {@code seed} is the entropy of session ids (see {@link SessionIds}).
     */
    CanisterCore(StableStorage storage, Kernels kernels, LongSupplier instructionCounter, LongSupplier clock,
                 Predicate<byte[]> isController, LongSupplier heapBytesLeft, byte[] seed) {
        this.storage = storage;
        this.uploads = new UploadStore(storage);
        this.service = new ModelService(kernels, instructionCounter, clock, heapBytesLeft);
        this.isController = isController;
        this.instructionCounter = instructionCounter;
        this.clock = clock;
        this.usage = Usage.fromBytes(uploads.loadUsage());
        uploads.saveUsage(usage.toBytes());
        service.useSessionIds(SessionIds.seeded(seed));
        service.usePolicy(usage.policy());
    }

    /**
     * After an upgrade (the heap is new): reloads the model, in its precision, and the tokenizer that were set up
     * before, whatever has been uploaded since. A file that no longer loads is reported to {@code log} and left for
     * the admin; the upgrade goes through.
     */
    void restore(Consumer<String> log) {
        if (uploads.flag(UploadStore.FLAG_MODEL_SET_UP)) {
            Weights.Precision precision = uploads.flag(UploadStore.FLAG_INT8) ? Weights.Precision.INT8 : Weights.Precision.F32;
            reload("model", () -> service.setupModel(uploads.setUp(), precision), log);
        }
        if (uploads.flag(UploadStore.FLAG_TOKENIZER_SET_UP)) {
            reload("tokenizer", () -> service.setupTokenizer(uploads.setUp()), log);
        }
    }

    private static void reload(String what, Runnable setup, Consumer<String> log) {
        try {
            setup.run();
        } catch (UserError e) {
            log.accept("post_upgrade: the " + what + " could not be reloaded: " + e.getMessage());
        }
    }

    UploadStore uploads() {
        return uploads;
    }

    // ---- authorization ----

    boolean isAuthorized(byte[] principal) {
        return isController.test(principal) || uploads.isAuthorized(principal);
    }

    void authorize(byte[] principal) {
        uploads.authorize(principal);
    }

    void deauthorize(byte[] principal) {
        if (!uploads.deauthorize(principal)) {
            throw new UserError(Principal.of(principal) + " is not an authorized principal");
        }
    }

    // ---- usage ----

    UsagePolicy policy() {
        UsageRules p = usage.policy();
        return new UsagePolicy(p.allowAnonymous(), p.allowlistOnly(), p.perCallerInstructionsPerHour(),
                p.totalInstructionsPerHour(), p.maxSessionsPerCaller());
    }

    /** @throws UserError if the values cannot be a policy */
    void setPolicy(UsagePolicy p) {
        UsageRules rules = new UsageRules(p.allowAnonymous(), p.allowlistOnly(), p.perCallerInstructionsPerHour(),
                p.totalInstructionsPerHour(), p.maxSessionsPerCaller());
        usage.setPolicy(rules);
        service.usePolicy(rules);
        uploads.saveUsage(usage.toBytes());
    }

    /** The policy and this hour's spend, the caller's and the total. */
    UsageReport usage(byte[] caller) {
        long now = clock.getAsLong();
        UsageLedger ledger = usage.ledger();
        return new UsageReport(policy(), ledger.callerSpent(caller, now), ledger.totalSpent(now),
                ledger.remaining(caller, now, usage.policy()), UsageLedger.nextHour(now));
    }

    /**
     * Why canister_inspect_message should refuse a generating call of {@code argBytes} from {@code caller} before
     * the canister pays for it, or null.
     */
    String generatingRefusal(byte[] caller, long argBytes) {
        return usage.inspectRefusal(caller, isAuthorized(caller), clock.getAsLong(), argBytes,
                service.maxArgumentBytes());
    }

    /**
     * Runs a generating call within the budget the usage policy leaves {@code caller}, and charges what the message
     * spent, whether it ends in a result or an Err.
     */
    private <T> T generating(byte[] caller, long argBytes, LongFunction<T> call) {
        long now = clock.getAsLong();
        long budget = usage.admit(caller, isAuthorized(caller), now, argBytes, ModelService.MAX_CALL_BUDGET,
                service.minimumCallInstructions());
        try {
            return call.apply(budget);
        } finally {
            usage.charge(caller, now, instructionCounter.getAsLong(), argBytes);
            uploads.saveUsage(usage.toBytes());
        }
    }

    // ---- parallel uploads ----

    /** Checks a parallel upload of {@code total} bytes and hashes on, within one call's budget. */
    UploadProgress finishUpload(UploadStore.File file, long total) {
        UploadStore.Finish finish = uploads.finishChunks(file, total, instructionCounter, FINISH_UPLOAD_BUDGET);
        return new UploadProgress(finish.done(), finish.hashedBytes(), finish.totalBytes(), finish.sha256());
    }

    // ---- set-up ----

    /** Loads the uploaded model in {@code precision}; an upgrade reloads it so. */
    void setupModel(Precision precision) {
        Weights.Precision weights = precision == Precision.INT8 ? Weights.Precision.INT8 : Weights.Precision.F32;
        service.setupModel(uploads.staged(), weights);
        uploads.commitSetUp(UploadStore.File.CONFIG);
        uploads.commitSetUp(UploadStore.File.SAFETENSORS);
        uploads.setFlag(UploadStore.FLAG_MODEL_SET_UP, true);
        uploads.setFlag(UploadStore.FLAG_INT8, weights == Weights.Precision.INT8);
    }

    void setupTokenizer() {
        service.setupTokenizer(uploads.staged());
        uploads.commitSetUp(UploadStore.File.TOKENIZER);
        uploads.setFlag(UploadStore.FLAG_TOKENIZER_SET_UP, true);
    }

    Status status() {
        boolean loaded = service.modelLoaded();
        Runtime runtime = Runtime.getRuntime();
        return new Status(
                uploads.length(UploadStore.File.CONFIG), uploads.length(UploadStore.File.TOKENIZER),
                uploads.length(UploadStore.File.SAFETENSORS),
                uploads.sha256(UploadStore.File.CONFIG), uploads.sha256(UploadStore.File.TOKENIZER),
                uploads.sha256(UploadStore.File.SAFETENSORS),
                loaded, service.tokenizerLoaded(),
                loaded ? modelInfo() : null,
                loaded ? (service.precision() == Weights.Precision.INT8 ? Precision.INT8 : Precision.F32) : null,
                runtime.totalMemory() - runtime.freeMemory(),
                loaded ? service.model().weights().screenBytes() : 0L, storage.size() * StableStorage.PAGE_SIZE,
                service.conversationCount(), service.conversationCapacity(),
                service.setupInstructions(), service.lastCallInstructions(), service.lastCallTokens());
    }

    Load load() {
        return new Load(service.activeTurns(), service.conversationCount(), service.conversationsInUse(),
                service.conversationCapacity(), service.lastCallInstructions());
    }

    private ModelInfo modelInfo() {
        Config c = service.model().config();
        return new ModelInfo(c.nLayer(), c.nHead(), c.nEmbd(), c.nPositions(), c.vocabSize(),
                service.model().weights().parameterCount());
    }

    // ---- tokenizer and one-shot generation ----

    Encoding tokenize(String text) {
        int[] ids = service.tokenize(text);
        String[] tokens = new String[ids.length];
        for (int i = 0; i < ids.length; i++) {
            tokens[i] = service.tokenString(ids[i]);
        }
        return new Encoding(ids, Arrays.asList(tokens));
    }

    String decode(int[] ids) {
        return service.decode(ids);
    }

    InferenceRecord inference(byte[] caller, long argBytes, int[] ids, int maxNewTokens, double temperature) {
        return generating(caller, argBytes, budget -> new InferenceRecord(TokenIdsResult.ok(
                service.inference(ids, maxNewTokens, temperature, budget))));
    }

    String generate(byte[] caller, long argBytes, String prompt, int maxNewTokens, double temperature) {
        return generating(caller, argBytes, budget -> service.generate(prompt, maxNewTokens, temperature, budget));
    }

    // ---- generation across calls ----

    TurnProgress startTurn(byte[] caller, long argBytes, TurnRequest request) {
        SamplingSettings s = request.settings();
        return generating(caller, argBytes, budget -> progress(service.startTurn(caller, request.sessionId(),
                request.prompt(), request.promptIds(), new ModelService.TurnSettings(unsignedInt(s.maxNewTokens()),
                        s.temperature(), unsignedInt(s.topK()), s.topP(), s.seed(), callBudget(s.callBudget())),
                budget)));
    }

    TurnProgress continueTurn(byte[] caller, long argBytes, long sessionId) {
        return generating(caller, argBytes, budget -> progress(service.continueTurn(caller, sessionId, budget)));
    }

    void endSession(byte[] caller, long sessionId) {
        service.endSession(caller, sessionId);
    }

    private static TurnProgress progress(ModelService.Progress p) {
        StopReason stopReason = switch (p.finish()) {
            case STOP_TOKEN -> StopReason.END_OF_TEXT;
            case MAX_NEW_TOKENS -> StopReason.MAX_TOKENS;
            case CONTEXT_FULL -> StopReason.CONTEXT_FULL;
            case NOT_FINISHED -> null;
        };
        return new TurnProgress(p.sessionId(), p.tokens(), p.text(), p.promptTokensRemaining(), p.generatedTokens(),
                p.contextTokens(), stopReason != null, stopReason, p.instructions());
    }

    /** The per-call budget asked for; nat64 values beyond the signed range mean "as much as allowed". */
    /**
     * The per-call budget asked for; nat64 values beyond the signed range mean "as much as allowed", none means the
     * streaming schedule ({@link CallBudgetSchedule}).
     */
    private static long callBudget(Long asked) {
        if (asked == null) {
            return CallBudgetSchedule.ADAPTIVE;
        }
        return asked < 0 ? ModelService.MAX_CALL_BUDGET : asked;
    }

    /** nat32 arrives as a Java int; values above 2^31 saturate instead of turning negative. */
    private static int unsignedInt(int v) {
        return v < 0 ? Integer.MAX_VALUE : v;
    }
}
