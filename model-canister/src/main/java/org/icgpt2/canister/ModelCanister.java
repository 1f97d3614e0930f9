package org.icgpt2.canister;

import static org.icgpt2.canister.CandidInterface.INFERENCE_RESULT;
import static org.icgpt2.canister.CandidInterface.PRECISION;
import static org.icgpt2.canister.CandidInterface.RESULT;
import static org.icgpt2.canister.CandidInterface.STATUS;
import static org.icgpt2.canister.CandidInterface.TEXT_RESULT;
import static org.icgpt2.canister.CandidInterface.TOKENIZE_RESULT;
import static org.icgpt2.canister.CandidInterface.TOKEN_IDS;
import static org.icgpt2.canister.CandidInterface.TURN_REQUEST;
import static org.icgpt2.canister.CandidInterface.TURN_RESULT;
import static org.icgpt2.canister.CandidInterface.USAGE;
import static org.icgpt2.canister.CandidInterface.USAGE_POLICY;
import static org.icgpt2.ic.candid.CandidType.BOOL;
import static org.icgpt2.ic.candid.CandidType.NAT64;
import static org.icgpt2.ic.candid.CandidType.PRINCIPAL;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.icgpt2.gpt2.Config;
import org.icgpt2.gpt2.Session;
import org.icgpt2.gpt2.Weights;
import org.icgpt2.ic.Api;
import org.icgpt2.ic.Entry;
import org.icgpt2.ic.SimdKernels;
import org.icgpt2.ic.StableMemory;
import org.icgpt2.ic.UserError;
import org.icgpt2.ic.candid.CandidReader;
import org.icgpt2.ic.candid.CandidType;
import org.icgpt2.ic.candid.CandidWriter;
import org.icgpt2.ic.candid.Opt;
import org.icgpt2.ic.candid.Principal;
import org.icgpt2.ic.candid.Record;
import org.icgpt2.ic.candid.Variant;
import org.teavm.interop.Export;

/**
 * The GPT-2 model canister's entry points (interface: candid/model.did): each decodes its Candid arguments, calls
 * {@link ModelService} and encodes the reply. Malformed Candid traps (the caller sees the decoder's message);
 * user mistakes are replied as {@code Err}; admin methods are for controllers and the principals they authorize.
 */
public final class ModelCanister {
    private static UploadStore store;
    private static Usage usage;
    private static final ModelService service = new ModelService(new SimdKernels(), Api::instructionCounter, Api::time,
            Api::heapBytesLeft);

    private ModelCanister() {
    }

    // ---- lifecycle ----

    @Export(name = "canister_init")
    public static void init() {
        Entry.run(() -> {
            store = new UploadStore();
            service.useSessionIds(SessionIds.seeded(seedMaterial()));
            usage = new Usage();
            store.saveUsage(usage.toBytes());
        });
    }

    /**
     * What this message offers as entropy for session ids (SessionIds explains why not raw_rand): its time, caller,
     * arguments, the canister's id, cycle balance and instruction counter.
     */
    private static byte[] seedMaterial() {
        byte[] caller = Api.caller();
        byte[] self = Api.self();
        byte[] arg = Api.argData();
        return ByteBuffer.allocate(24 + caller.length + self.length + arg.length).putLong(Api.time())
                .putLong(Api.cycleBalance()).putLong(Api.instructionCounter()).put(caller).put(self).put(arg).array();
    }

    /** Everything lives in stable memory already: nothing to save. */
    @Export(name = "canister_pre_upgrade")
    public static void preUpgrade() {
    }

    /**
     * The heap is new after an upgrade: reload the model and tokenizer that were set up before, from stable memory.
     * A file that no longer loads is reported in the log and left for the admin; the upgrade itself goes through.
     */
    @Export(name = "canister_post_upgrade")
    public static void postUpgrade() {
        Entry.run(() -> {
            store = new UploadStore();
            service.useSessionIds(SessionIds.seeded(seedMaterial()));
            usage = Usage.fromBytes(store.loadUsage());
            service.usePolicy(usage.policy());
            if (store.flag(UploadStore.FLAG_MODEL_SET_UP)) {
                Weights.Precision precision = store.flag(UploadStore.FLAG_INT8) ? Weights.Precision.INT8 : Weights.Precision.F32;
                reload("model", () -> service.setupModel(store.setUp(), precision));
            }
            if (store.flag(UploadStore.FLAG_TOKENIZER_SET_UP)) {
                reload("tokenizer", () -> service.setupTokenizer(store.setUp()));
            }
        });
    }

    private static void reload(String what, Runnable setup) {
        try {
            setup.run();
        } catch (UserError e) {
            Api.print("post_upgrade: the " + what + " could not be reloaded: " + e.getMessage());
        }
    }

    /**
     * Rejects, before they cost the canister anything (ingress only), admin calls from strangers and generating calls
     * the usage policy would refuse: the caller sees why (a trap's message).
     */
    @Export(name = "canister_inspect_message")
    public static void inspectMessage() {
        String method = Api.methodName();
        byte[] caller = Api.caller();
        if (isControllerMethod(method) ? !Api.isController(caller) : isAdminMethod(method) && !isAuthorized(caller)) {
            return;
        }
        if (isGeneratingMethod(method)) {
            String refusal = usage.inspectRefusal(caller, isAuthorized(caller), Api.time(), Api.argDataSize(),
                    service.maxArgumentBytes());
            if (refusal != null) {
                throw Api.trap(refusal);
            }
        }
        Api.acceptMessage();
    }

    // ---- uploads (admin) ----

    @Export(name = "canister_update append_safetensors_bytes")
    public static void appendSafetensorsBytes() {
        append(UploadStore.File.SAFETENSORS);
    }

    @Export(name = "canister_update append_config_bytes")
    public static void appendConfigBytes() {
        append(UploadStore.File.CONFIG);
    }

    @Export(name = "canister_update append_tokenizer_bytes")
    public static void appendTokenizerBytes() {
        append(UploadStore.File.TOKENIZER);
    }

    @Export(name = "canister_query safetensors_bytes_length")
    public static void safetensorsBytesLength() {
        length(UploadStore.File.SAFETENSORS);
    }

    @Export(name = "canister_query config_bytes_length")
    public static void configBytesLength() {
        length(UploadStore.File.CONFIG);
    }

    @Export(name = "canister_query tokenizer_bytes_length")
    public static void tokenizerBytesLength() {
        length(UploadStore.File.TOKENIZER);
    }

    @Export(name = "canister_update clear_safetensors_bytes")
    public static void clearSafetensorsBytes() {
        clear(UploadStore.File.SAFETENSORS);
    }

    @Export(name = "canister_update clear_config_bytes")
    public static void clearConfigBytes() {
        clear(UploadStore.File.CONFIG);
    }

    @Export(name = "canister_update clear_tokenizer_bytes")
    public static void clearTokenizerBytes() {
        clear(UploadStore.File.TOKENIZER);
    }

    /** Kept for the original upload sequence: appended bytes are already in stable memory. */
    @Export(name = "canister_update store_safetensors_bytes_to_stable")
    public static void storeSafetensorsBytesToStable() {
        confirmUploaded(UploadStore.File.SAFETENSORS);
    }

    /** Kept for the original upload sequence: setup_model reads the weights straight from stable memory. */
    @Export(name = "canister_update load_safetensors_bytes_from_stable")
    public static void loadSafetensorsBytesFromStable() {
        confirmUploaded(UploadStore.File.SAFETENSORS);
    }

    @Export(name = "canister_update store_tokenizer_bytes_to_stable")
    public static void storeTokenizerBytesToStable() {
        confirmUploaded(UploadStore.File.TOKENIZER);
    }

    @Export(name = "canister_update load_tokenizer_bytes_from_stable")
    public static void loadTokenizerBytesFromStable() {
        confirmUploaded(UploadStore.File.TOKENIZER);
    }

    /** Loads f32 weights, as the original canister did. */
    @Export(name = "canister_update setup_model")
    public static void setupModel() {
        admin(RESULT, in -> {
            in.end();
            return setUp(Weights.Precision.F32);
        });
    }

    @Export(name = "canister_update setup_model_with_precision")
    public static void setupModelWithPrecision() {
        admin(RESULT, in -> {
            Variant precision = (Variant) in.value(PRECISION);
            in.end();
            return setUp(precision.is("Int8") ? Weights.Precision.INT8 : Weights.Precision.F32);
        });
    }

    private static byte[] setUp(Weights.Precision precision) {
        service.setupModel(store.staged(), precision);
        store.commitSetUp(UploadStore.File.CONFIG);
        store.commitSetUp(UploadStore.File.SAFETENSORS);
        store.setFlag(UploadStore.FLAG_MODEL_SET_UP, true);
        store.setFlag(UploadStore.FLAG_INT8, precision == Weights.Precision.INT8);
        return ok(RESULT, null);
    }

    @Export(name = "canister_update setup_tokenizer")
    public static void setupTokenizer() {
        admin(RESULT, in -> {
            service.setupTokenizer(store.staged());
            store.commitSetUp(UploadStore.File.TOKENIZER);
            store.setFlag(UploadStore.FLAG_TOKENIZER_SET_UP, true);
            return ok(RESULT, null);
        });
    }

    @Export(name = "canister_update add_authorized_principal")
    public static void addAuthorizedPrincipal() {
        Entry.run(() -> {
            CandidReader in = new CandidReader(Api.argData());
            Principal principal = (Principal) in.value(PRINCIPAL);
            in.end();
            requireController();
            store.authorize(principal.bytes());
            Api.reply(new CandidWriter().toBytes());
        });
    }

    @Export(name = "canister_update remove_authorized_principal")
    public static void removeAuthorizedPrincipal() {
        Entry.run(() -> {
            CandidReader in = new CandidReader(Api.argData());
            Principal principal = (Principal) in.value(PRINCIPAL);
            in.end();
            requireController();
            Api.reply(store.deauthorize(principal.bytes()) ? ok(RESULT, null)
                    : err(RESULT, Principal.of(principal.bytes()) + " is not an authorized principal"));
        });
    }

    @Export(name = "canister_query get_usage_policy")
    public static void getUsagePolicy() {
        Entry.run(() -> {
            new CandidReader(Api.argData()).end();
            Api.reply(new CandidWriter(USAGE_POLICY).value(USAGE_POLICY, policyRecord(usage.policy())).toBytes());
        });
    }

    @Export(name = "canister_update set_usage_policy")
    public static void setUsagePolicy() {
        Entry.run(() -> {
            CandidReader in = new CandidReader(Api.argData());
            Record r = (Record) in.value(USAGE_POLICY);
            in.end();
            requireController();
            UsagePolicy policy;
            try {
                policy = new UsagePolicy((Boolean) r.get("allow_anonymous"), (Boolean) r.get("allowlist_only"),
                        (Long) r.get("per_caller_instructions_per_hour"), (Long) r.get("total_instructions_per_hour"),
                        (Integer) r.get("max_sessions_per_caller"));
            } catch (UserError e) {
                Api.reply(err(RESULT, e.getMessage()));
                return;
            }
            usage.setPolicy(policy);
            service.usePolicy(policy);
            store.saveUsage(usage.toBytes());
            Api.reply(ok(RESULT, null));
        });
    }

    /** The policy and this hour's spend, the caller's and the total. */
    @Export(name = "canister_query usage")
    public static void usage() {
        Entry.run(() -> {
            new CandidReader(Api.argData()).end();
            byte[] caller = Api.caller();
            long now = Api.time();
            UsageLedger ledger = usage.ledger();
            Record report = new Record().put("policy", policyRecord(usage.policy()))
                    .put("caller_instructions_this_hour", ledger.callerSpent(caller, now))
                    .put("total_instructions_this_hour", ledger.totalSpent(now))
                    .put("caller_instructions_left", ledger.remaining(caller, now, usage.policy()))
                    .put("hour_ends_at", UsageLedger.nextHour(now));
            Api.reply(new CandidWriter(USAGE).value(USAGE, report).toBytes());
        });
    }

    private static Record policyRecord(UsagePolicy p) {
        return new Record().put("allow_anonymous", p.allowAnonymous()).put("allowlist_only", p.allowlistOnly())
                .put("per_caller_instructions_per_hour", p.perCallerInstructionsPerHour())
                .put("total_instructions_per_hour", p.totalInstructionsPerHour())
                .put("max_sessions_per_caller", p.maxSessionsPerCaller());
    }

    @Export(name = "canister_query is_principal_authorized")
    public static void isPrincipalAuthorized() {
        Entry.run(() -> {
            CandidReader in = new CandidReader(Api.argData());
            Principal principal = (Principal) in.value(PRINCIPAL);
            in.end();
            Api.reply(new CandidWriter(BOOL).bool(isAuthorized(principal.bytes())).toBytes());
        });
    }

    // ---- open methods ----

    @Export(name = "canister_query tokenize")
    public static void tokenize() {
        call(TOKENIZE_RESULT, in -> {
            String text = in.text();
            in.end();
            int[] ids = service.tokenize(text);
            List<Object> tokens = new ArrayList<>(ids.length);
            for (int id : ids) {
                tokens.add(service.tokenString(id));
            }
            return ok(TOKENIZE_RESULT, new Record().put("token_ids", boxed(ids)).put("tokens", tokens));
        });
    }

    @Export(name = "canister_query decode")
    public static void decode() {
        call(TEXT_RESULT, in -> {
            int[] ids = in.fixed32Vector(false);
            in.end();
            return new CandidWriter(TEXT_RESULT).variantTag(TEXT_RESULT, "Ok").text(service.decode(ids)).toBytes();
        });
    }

    @Export(name = "canister_update inference")
    public static void inference() {
        generating(INFERENCE_RESULT, (in, budget) -> {
            int[] ids = in.fixed32Vector(false);
            int n = in.nat8();
            double temperature = in.float64();
            in.end();
            int[] generated = service.inference(ids, n, temperature, budget);
            Record result = new Record().put("result", Variant.of("Ok", boxed(generated)));
            return ok(INFERENCE_RESULT, result);
        });
    }

    @Export(name = "canister_update generate")
    public static void generate() {
        generating(TEXT_RESULT, (in, budget) -> {
            String text = in.text();
            int n = in.nat8();
            double temperature = in.float64();
            in.end();
            String answer = service.generate(text, n, temperature, budget);
            return new CandidWriter(TEXT_RESULT).variantTag(TEXT_RESULT, "Ok").text(answer).toBytes();
        });
    }

    @Export(name = "canister_update start_turn")
    public static void startTurn() {
        generating(TURN_RESULT, (in, budget) -> {
            Record request = (Record) in.value(TURN_REQUEST);
            in.end();
            Record settings = (Record) request.get("settings");
            Opt sessionId = (Opt) request.get("session_id");
            Opt promptIds = (Opt) request.get("prompt_ids");
            ModelService.TurnSettings turn = new ModelService.TurnSettings(
                    unsignedInt((Integer) settings.get("max_new_tokens")),
                    (Double) settings.get("temperature"),
                    unsignedInt((Integer) settings.get("top_k")),
                    (Double) settings.get("top_p"),
                    (Long) settings.get("seed"),
                    Math.min(budget, callBudget((Opt) settings.get("call_budget"))));
            ModelService.Progress progress = service.startTurn(Api.caller(),
                    sessionId.isPresent() ? (Long) sessionId.get() : null, (String) request.get("prompt"),
                    promptIds.isPresent() ? unboxed((List<?>) promptIds.get()) : null, turn);
            return ok(TURN_RESULT, progress(progress));
        });
    }

    @Export(name = "canister_update continue_turn")
    public static void continueTurn() {
        generating(TURN_RESULT, (in, budget) -> {
            long sessionId = in.nat64();
            in.end();
            return ok(TURN_RESULT, progress(service.continueTurn(Api.caller(), sessionId, budget)));
        });
    }

    @Export(name = "canister_update end_session")
    public static void endSession() {
        call(RESULT, in -> {
            long sessionId = in.nat64();
            in.end();
            service.endSession(Api.caller(), sessionId);
            return ok(RESULT, null);
        });
    }

    @Export(name = "canister_query status")
    public static void status() {
        Entry.run(() -> {
            new CandidReader(Api.argData()).end();
            Record status = new Record()
                    .put("config_bytes", store.length(UploadStore.File.CONFIG))
                    .put("tokenizer_bytes", store.length(UploadStore.File.TOKENIZER))
                    .put("safetensors_bytes", store.length(UploadStore.File.SAFETENSORS))
                    .put("config_sha256", store.sha256(UploadStore.File.CONFIG))
                    .put("tokenizer_sha256", store.sha256(UploadStore.File.TOKENIZER))
                    .put("safetensors_sha256", store.sha256(UploadStore.File.SAFETENSORS))
                    .put("model_loaded", service.modelLoaded())
                    .put("tokenizer_loaded", service.tokenizerLoaded())
                    .put("model", service.modelLoaded() ? Opt.some(modelInfo()) : Opt.NONE)
                    .put("precision", service.modelLoaded() ? Opt.some(Variant.of(
                            service.precision() == Weights.Precision.INT8 ? "Int8" : "F32", null)) : Opt.NONE)
                    .put("heap_bytes", Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory())
                    .put("stable_memory_bytes", StableMemory.size() * StableMemory.PAGE_SIZE)
                    .put("sessions", service.conversationCount())
                    .put("max_sessions", service.conversationCapacity())
                    .put("setup_instructions", service.setupInstructions)
                    .put("last_call_instructions", service.lastCallInstructions)
                    .put("last_call_tokens", service.lastCallTokens);
            Api.reply(new CandidWriter(STATUS).value(STATUS, status).toBytes());
        });
    }

    /** TeaVM needs a main class; the IC never calls it (the module's start function initializes the runtime). */
    public static void main(String[] args) {
    }

    // ---- helpers ----

    @FunctionalInterface
    private interface Method {
        /** Reads the arguments from {@code in} and returns the encoded reply. */
        byte[] handle(CandidReader in);
    }

    @FunctionalInterface
    private interface GeneratingMethod {
        /** Reads the arguments from {@code in} and returns the encoded reply, spending at most {@code budget}. */
        byte[] handle(CandidReader in, long budget);
    }

    /**
     * A method that spends the canister's cycles on generation: the usage policy admits the caller and caps the
     * call's budget at what its hourly share and the total have left; what the call spent is charged whatever its
     * outcome. Malformed arguments are rejected (not trapped), so that the charge is kept.
     */
    private static void generating(CandidType resultType, GeneratingMethod method) {
        Entry.run(() -> {
            byte[] caller = Api.caller();
            long now = Api.time();
            byte[] arg = Api.argData();
            byte[] reply;
            try {
                long budget = usage.admit(caller, isAuthorized(caller), now, arg.length, ModelService.MAX_CALL_BUDGET,
                        service.minimumCallInstructions());
                reply = method.handle(new CandidReader(arg), budget);
            } catch (UserError e) {
                reply = err(resultType, e.getMessage());
            } catch (RuntimeException e) {
                charge(caller, now, arg.length);
                Api.reject(e.getMessage() == null ? e.getClass().getName() : e.getMessage());
                return;
            }
            charge(caller, now, arg.length);
            Api.reply(reply);
        });
    }

    private static void charge(byte[] caller, long now, long argBytes) {
        usage.charge(caller, now, Api.instructionCounter(), argBytes);
        store.saveUsage(usage.toBytes());
    }

    /** An open method: user errors become the {@code Err} case of {@code resultType}. */
    private static void call(CandidType resultType, Method method) {
        Entry.run(() -> Api.reply(method.handle(new CandidReader(Api.argData()))), e -> err(resultType, e.getMessage()));
    }

    /** An admin method returning a result: strangers are rejected (not answered with Err), before any work. */
    private static void admin(CandidType resultType, Method method) {
        Entry.run(() -> {
            CandidReader in = new CandidReader(Api.argData());
            requireAuthorized();
            Api.reply(method.handle(in));
        }, e -> err(resultType, e.getMessage()));
    }

    private static void append(UploadStore.File file) {
        Entry.run(() -> {
            CandidReader in = new CandidReader(Api.argData());
            byte[] chunk = in.blob();
            in.end();
            requireAuthorized();
            store.append(file, chunk);
            Api.reply(new CandidWriter().toBytes());
        });
    }

    private static void length(UploadStore.File file) {
        Entry.run(() -> {
            new CandidReader(Api.argData()).end();
            Api.reply(new CandidWriter(NAT64).fixed64(store.length(file)).toBytes());
        });
    }

    private static void clear(UploadStore.File file) {
        Entry.run(() -> {
            new CandidReader(Api.argData()).end();
            requireAuthorized();
            store.clear(file);
            Api.reply(new CandidWriter().toBytes());
        });
    }

    private static void confirmUploaded(UploadStore.File file) {
        admin(RESULT, in -> {
            in.end();
            if (store.length(file) == 0) {
                throw new UserError("no " + file.label + " bytes uploaded yet");
            }
            return ok(RESULT, null);
        });
    }

    /** Admin methods reject strangers: the caller gets a reject, as ic-file-uploader ignores replies. */
    private static void requireAuthorized() {
        if (!isAuthorized(Api.caller())) {
            throw Api.trap("only controllers and authorized principals may call this method");
        }
    }

    /** Who may be trusted with the canister's policy and its list of authorized principals. */
    private static void requireController() {
        if (!Api.isController(Api.caller())) {
            throw Api.trap("only controllers may call this method");
        }
    }

    private static boolean isControllerMethod(String method) {
        return method.equals("add_authorized_principal") || method.equals("remove_authorized_principal")
                || method.equals("set_usage_policy");
    }

    private static boolean isAuthorized(byte[] principal) {
        return Api.isController(principal) || store.isAuthorized(principal);
    }

    private static boolean isGeneratingMethod(String method) {
        return method.equals("generate") || method.equals("inference") || method.equals("start_turn")
                || method.equals("continue_turn");
    }

    private static boolean isAdminMethod(String method) {
        return method.startsWith("append_") || method.startsWith("clear_") || method.startsWith("store_")
                || method.startsWith("load_") || method.startsWith("setup_");
    }

    private static Record modelInfo() {
        Config c = service.model().config();
        return new Record().put("n_layer", c.nLayer()).put("n_head", c.nHead()).put("n_embd", c.nEmbd())
                .put("n_positions", c.nPositions()).put("vocab_size", c.vocabSize())
                .put("parameters", service.model().weights().parameterCount());
    }

    private static Record progress(ModelService.Progress p) {
        Session.FinishReason finish = p.finish();
        Opt stopReason = switch (finish) {
            case STOP_TOKEN -> Opt.some(Variant.of("EndOfText", null));
            case MAX_NEW_TOKENS -> Opt.some(Variant.of("MaxTokens", null));
            case CONTEXT_FULL -> Opt.some(Variant.of("ContextFull", null));
            case NOT_FINISHED -> Opt.NONE;
        };
        return new Record()
                .put("session_id", p.sessionId())
                .put("token_ids", boxed(p.tokens()))
                .put("text", p.text())
                .put("prompt_tokens_remaining", p.promptTokensRemaining())
                .put("generated_tokens", p.generatedTokens())
                .put("context_tokens", p.contextTokens())
                .put("done", finish != Session.FinishReason.NOT_FINISHED)
                .put("stop_reason", stopReason)
                .put("instructions", p.instructions());
    }

    private static byte[] ok(CandidType resultType, Object value) {
        return new CandidWriter(resultType).value(resultType, Variant.of("Ok", value)).toBytes();
    }

    private static byte[] err(CandidType resultType, String message) {
        return new CandidWriter(resultType).value(resultType, Variant.of("Err", message)).toBytes();
    }

    /** The per-call budget asked for; nat64 values beyond the signed range mean "as much as allowed". */
    private static long callBudget(Opt budget) {
        long asked = budget.isPresent() ? (Long) budget.get() : ModelService.MAX_CALL_BUDGET;
        return asked < 0 ? ModelService.MAX_CALL_BUDGET : asked;
    }

    /** nat32 arrives as a Java int; values above 2^31 saturate instead of turning negative. */
    private static int unsignedInt(int v) {
        return v < 0 ? Integer.MAX_VALUE : v;
    }

    private static List<Object> boxed(int[] ids) {
        List<Object> list = new ArrayList<>(ids.length);
        for (int id : ids) {
            list.add(id);
        }
        return list;
    }

    private static int[] unboxed(List<?> ids) {
        int[] out = new int[ids.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (Integer) ids.get(i);
        }
        return out;
    }
}
