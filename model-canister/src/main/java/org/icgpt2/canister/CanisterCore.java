package org.icgpt2.canister;

import java.util.Arrays;
import java.util.function.Consumer;
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
import org.icgpt2.gpt2.Config;
import org.icgpt2.gpt2.Kernels;
import org.icgpt2.gpt2.Weights;
import org.icgpt2.ic.StableStorage;
import org.icgpt2.ic.UserError;

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

    /**
     * Opens the canister's stable memory (a fresh one gets an empty layout). {@code instructionCounter} counts the
     * current message's instructions, {@code clock} is the time in ns, {@code isController} tells the controllers.
     */
    CanisterCore(StableStorage storage, Kernels kernels, LongSupplier instructionCounter, LongSupplier clock,
                 Predicate<byte[]> isController) {
        this.storage = storage;
        this.uploads = new UploadStore(storage);
        this.service = new ModelService(kernels, instructionCounter, clock);
        this.isController = isController;
    }

    /**
     * After an upgrade (the heap is new): reloads the model, in its precision, and the tokenizer that were set up
     * before. A file that no longer loads is reported to {@code log} and left for the admin; the upgrade goes through.
     */
    void restore(Consumer<String> log) {
        if (uploads.flag(UploadStore.FLAG_MODEL_SET_UP)) {
            Weights.Precision precision = uploads.flag(UploadStore.FLAG_INT8) ? Weights.Precision.INT8 : Weights.Precision.F32;
            reload("model", () -> service.setupModel(uploads, precision), log);
        }
        if (uploads.flag(UploadStore.FLAG_TOKENIZER_SET_UP)) {
            reload("tokenizer", () -> service.setupTokenizer(uploads), log);
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

    // ---- set-up ----

    /** Loads the uploaded model in {@code precision}; an upgrade reloads it so. */
    void setupModel(Precision precision) {
        Weights.Precision weights = precision == Precision.INT8 ? Weights.Precision.INT8 : Weights.Precision.F32;
        service.setupModel(uploads, weights);
        uploads.setFlag(UploadStore.FLAG_MODEL_SET_UP, true);
        uploads.setFlag(UploadStore.FLAG_INT8, weights == Weights.Precision.INT8);
    }

    void setupTokenizer() {
        service.setupTokenizer(uploads);
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
                runtime.totalMemory() - runtime.freeMemory(), storage.size() * StableStorage.PAGE_SIZE,
                service.conversationCount(), service.conversationCapacity(),
                service.setupInstructions(), service.lastCallInstructions(), service.lastCallTokens());
    }

    Load load() {
        return new Load(service.activeTurns(), service.conversationCount(), service.conversationCapacity(),
                service.lastCallInstructions());
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

    InferenceRecord inference(int[] ids, int maxNewTokens, double temperature) {
        return new InferenceRecord(TokenIdsResult.ok(service.inference(ids, maxNewTokens, temperature)));
    }

    String generate(String prompt, int maxNewTokens, double temperature) {
        return service.generate(prompt, maxNewTokens, temperature);
    }

    // ---- generation across calls ----

    TurnProgress startTurn(byte[] caller, TurnRequest request) {
        SamplingSettings s = request.settings();
        ModelService.TurnSettings settings = new ModelService.TurnSettings(unsignedInt(s.maxNewTokens()),
                s.temperature(), unsignedInt(s.topK()), s.topP(), s.seed(), callBudget(s.callBudget()));
        return progress(service.startTurn(caller, request.sessionId(), request.prompt(), request.promptIds(), settings));
    }

    TurnProgress continueTurn(byte[] caller, long sessionId) {
        return progress(service.continueTurn(caller, sessionId, ModelService.MAX_CALL_BUDGET));
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
