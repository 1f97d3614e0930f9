package org.icgpt2.canister;

import java.nio.ByteBuffer;
import org.icgpt2.canister.UploadStore.File;
import org.icgpt2.ic.Api;
import org.icgpt2.ic.Guard;
import org.icgpt2.ic.IcStableStorage;
import org.icgpt2.ic.SimdKernels;
import org.icgpt2.ic.candid.Principal;

/**
 * The GPT-2 model canister (interface: candid/model.did): each method forwards to {@link CanisterCore}. The
 * generated {@link ModelExports} decodes the arguments, checks {@link #guard}, and encodes the reply; a
 * {@link org.icgpt2.ic.UserError} becomes the {@code Err} of a result, anything else traps.
 */
final class ModelCanister implements ModelInterface {
    private CanisterCore core;

    @Override
    public Guard guard(Method method) {
        return switch (method) {
            case APPEND_SAFETENSORS_BYTES, APPEND_CONFIG_BYTES, APPEND_TOKENIZER_BYTES,
                 CLEAR_SAFETENSORS_BYTES, CLEAR_CONFIG_BYTES, CLEAR_TOKENIZER_BYTES,
                 STORE_SAFETENSORS_BYTES_TO_STABLE, LOAD_SAFETENSORS_BYTES_FROM_STABLE,
                 STORE_TOKENIZER_BYTES_TO_STABLE, LOAD_TOKENIZER_BYTES_FROM_STABLE,
                 SETUP_MODEL, SETUP_MODEL_WITH_PRECISION, SETUP_TOKENIZER,
                 PUT_SAFETENSORS_CHUNK, PUT_CONFIG_CHUNK, PUT_TOKENIZER_CHUNK,
                 FINISH_SAFETENSORS_UPLOAD, FINISH_CONFIG_UPLOAD, FINISH_TOKENIZER_UPLOAD -> Guard.AUTHORIZED;
            case ADD_AUTHORIZED_PRINCIPAL, REMOVE_AUTHORIZED_PRINCIPAL, SET_USAGE_POLICY -> Guard.CONTROLLER;
            case SAFETENSORS_BYTES_LENGTH, CONFIG_BYTES_LENGTH, TOKENIZER_BYTES_LENGTH, IS_PRINCIPAL_AUTHORIZED,
                 MISSING_SAFETENSORS_CHUNKS, MISSING_CONFIG_CHUNKS, MISSING_TOKENIZER_CHUNKS,
                 GET_USAGE_POLICY, USAGE, TOKENIZE, DECODE, INFERENCE, GENERATE, STATUS, LOAD, START_TURN, CONTINUE_TURN,
                 END_SESSION -> Guard.ANY_CALLER;
        };
    }

    /** Generating calls the usage policy would refuse (too long, refused caller, no quota left) stop here. */
    @Override
    public String inspect(Method method, byte[] caller, int argBytes) {
        return switch (method) {
            case INFERENCE, GENERATE, START_TURN, CONTINUE_TURN -> core.generatingRefusal(caller, argBytes);
            default -> null;
        };
    }

    @Override
    public boolean isAuthorized(byte[] principal) {
        return core.isAuthorized(principal);
    }

    @Override
    public void init() {
        core = newCore();
    }

    /** Everything lives in stable memory: a new core reads it and reloads what was set up. */
    @Override
    public void postUpgrade() {
        core = newCore();
        core.restore(Api::print);
    }

    private static CanisterCore newCore() {
        return new CanisterCore(new IcStableStorage(), new SimdKernels(), Api::instructionCounter, Api::time,
                Api::isController, Api::heapBytesLeft, seedMaterial());
    }

    /**
     * What this message offers as entropy for session ids (SessionIds says why not raw_rand): its time, caller,
     * arguments and instruction counter.
     */
    private static byte[] seedMaterial() {
        byte[] caller = Api.caller();
        byte[] arg = Api.argData();
        return ByteBuffer.allocate(16 + caller.length + arg.length).putLong(Api.time()).putLong(Api.instructionCounter())
                .put(caller).put(arg).array();
    }

    // ---- uploads ----

    @Override
    public void appendSafetensorsBytes(byte[] chunk) {
        core.uploads().append(File.SAFETENSORS, chunk);
    }

    @Override
    public void appendConfigBytes(byte[] chunk) {
        core.uploads().append(File.CONFIG, chunk);
    }

    @Override
    public void appendTokenizerBytes(byte[] chunk) {
        core.uploads().append(File.TOKENIZER, chunk);
    }

    @Override
    public long safetensorsBytesLength() {
        return core.uploads().length(File.SAFETENSORS);
    }

    @Override
    public long configBytesLength() {
        return core.uploads().length(File.CONFIG);
    }

    @Override
    public long tokenizerBytesLength() {
        return core.uploads().length(File.TOKENIZER);
    }

    @Override
    public void clearSafetensorsBytes() {
        core.uploads().clear(File.SAFETENSORS);
    }

    @Override
    public void clearConfigBytes() {
        core.uploads().clear(File.CONFIG);
    }

    @Override
    public void clearTokenizerBytes() {
        core.uploads().clear(File.TOKENIZER);
    }

    // ---- parallel uploads (chunk id × 2,000,000 = offset) ----

    @Override
    public void putSafetensorsChunk(int id, byte[] chunk) {
        core.uploads().putChunk(File.SAFETENSORS, id, chunk);
    }

    @Override
    public void putConfigChunk(int id, byte[] chunk) {
        core.uploads().putChunk(File.CONFIG, id, chunk);
    }

    @Override
    public void putTokenizerChunk(int id, byte[] chunk) {
        core.uploads().putChunk(File.TOKENIZER, id, chunk);
    }

    @Override
    public int[] missingSafetensorsChunks(long totalBytes) {
        return core.uploads().missingChunks(File.SAFETENSORS, totalBytes);
    }

    @Override
    public int[] missingConfigChunks(long totalBytes) {
        return core.uploads().missingChunks(File.CONFIG, totalBytes);
    }

    @Override
    public int[] missingTokenizerChunks(long totalBytes) {
        return core.uploads().missingChunks(File.TOKENIZER, totalBytes);
    }

    @Override
    public UploadProgress finishSafetensorsUpload(long totalBytes) {
        return core.finishUpload(File.SAFETENSORS, totalBytes);
    }

    @Override
    public UploadProgress finishConfigUpload(long totalBytes) {
        return core.finishUpload(File.CONFIG, totalBytes);
    }

    @Override
    public UploadProgress finishTokenizerUpload(long totalBytes) {
        return core.finishUpload(File.TOKENIZER, totalBytes);
    }

    /** Kept for the original upload sequence: appended bytes are already in stable memory. */
    @Override
    public void storeSafetensorsBytesToStable() {
        core.uploads().requireUploaded(File.SAFETENSORS);
    }

    /** Kept for the original upload sequence: setup_model reads the weights straight from stable memory. */
    @Override
    public void loadSafetensorsBytesFromStable() {
        core.uploads().requireUploaded(File.SAFETENSORS);
    }

    @Override
    public void storeTokenizerBytesToStable() {
        core.uploads().requireUploaded(File.TOKENIZER);
    }

    @Override
    public void loadTokenizerBytesFromStable() {
        core.uploads().requireUploaded(File.TOKENIZER);
    }

    // ---- set-up and authorization ----

    /** Loads f32 weights, as the original canister did. */
    @Override
    public void setupModel() {
        core.setupModel(Precision.F32);
    }

    @Override
    public void setupModelWithPrecision(Precision precision) {
        core.setupModel(precision);
    }

    @Override
    public void setupTokenizer() {
        core.setupTokenizer();
    }

    @Override
    public void addAuthorizedPrincipal(Principal principal) {
        core.authorize(principal.bytes());
    }

    @Override
    public void removeAuthorizedPrincipal(Principal principal) {
        core.deauthorize(principal.bytes());
    }

    @Override
    public UsagePolicy getUsagePolicy() {
        return core.policy();
    }

    @Override
    public void setUsagePolicy(UsagePolicy policy) {
        core.setPolicy(policy);
    }

    @Override
    public UsageReport usage() {
        return core.usage(Api.caller());
    }

    @Override
    public boolean isPrincipalAuthorized(Principal principal) {
        return core.isAuthorized(principal.bytes());
    }

    @Override
    public Status status() {
        return core.status();
    }

    @Override
    public Load load() {
        return core.load();
    }

    // ---- tokenizer and generation ----

    @Override
    public Encoding tokenize(String text) {
        return core.tokenize(text);
    }

    @Override
    public String decode(int[] ids) {
        return core.decode(ids);
    }

    @Override
    public InferenceRecord inference(int[] ids, int maxNewTokens, double temperature) {
        return core.inference(Api.caller(), Api.argDataSize(), ids, maxNewTokens, temperature);
    }

    @Override
    public String generate(String prompt, int maxNewTokens, double temperature) {
        return core.generate(Api.caller(), Api.argDataSize(), prompt, maxNewTokens, temperature);
    }

    @Override
    public TurnProgress startTurn(TurnRequest request) {
        return core.startTurn(Api.caller(), Api.argDataSize(), request);
    }

    @Override
    public TurnProgress continueTurn(long sessionId) {
        return core.continueTurn(Api.caller(), Api.argDataSize(), sessionId);
    }

    @Override
    public void endSession(long sessionId) {
        core.endSession(Api.caller(), sessionId);
    }
}
