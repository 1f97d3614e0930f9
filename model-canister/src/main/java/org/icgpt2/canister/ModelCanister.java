package org.icgpt2.canister;

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
                 SETUP_MODEL, SETUP_MODEL_WITH_PRECISION, SETUP_TOKENIZER, ADD_AUTHORIZED_PRINCIPAL -> Guard.AUTHORIZED;
            case SAFETENSORS_BYTES_LENGTH, CONFIG_BYTES_LENGTH, TOKENIZER_BYTES_LENGTH, IS_PRINCIPAL_AUTHORIZED,
                 TOKENIZE, DECODE, INFERENCE, GENERATE, STATUS, LOAD, START_TURN, CONTINUE_TURN, END_SESSION -> Guard.ANY_CALLER;
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
                Api::isController);
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
        return core.inference(ids, maxNewTokens, temperature);
    }

    @Override
    public String generate(String prompt, int maxNewTokens, double temperature) {
        return core.generate(prompt, maxNewTokens, temperature);
    }

    @Override
    public TurnProgress startTurn(TurnRequest request) {
        return core.startTurn(Api.caller(), request);
    }

    @Override
    public TurnProgress continueTurn(long sessionId) {
        return core.continueTurn(Api.caller(), sessionId);
    }

    @Override
    public void endSession(long sessionId) {
        core.endSession(Api.caller(), sessionId);
    }
}
