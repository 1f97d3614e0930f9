package org.icgpt2.canister;

import static org.icgpt2.ic.candid.CandidType.BLOB;
import static org.icgpt2.ic.candid.CandidType.BOOL;
import static org.icgpt2.ic.candid.CandidType.FLOAT64;
import static org.icgpt2.ic.candid.CandidType.NAT32;
import static org.icgpt2.ic.candid.CandidType.NAT64;
import static org.icgpt2.ic.candid.CandidType.NULL;
import static org.icgpt2.ic.candid.CandidType.TEXT;
import static org.icgpt2.ic.candid.CandidType.field;
import static org.icgpt2.ic.candid.CandidType.opt;
import static org.icgpt2.ic.candid.CandidType.record;
import static org.icgpt2.ic.candid.CandidType.variant;
import static org.icgpt2.ic.candid.CandidType.vec;

import org.icgpt2.ic.candid.CandidType;

/** The Candid types of {@code candid/model.did}, as the codec sees them. */
final class CandidInterface {
    private CandidInterface() {
    }

    static final CandidType RESULT = result(NULL);
    static final CandidType TOKEN_IDS = vec(NAT32);
    static final CandidType INFERENCE_RESULT = result(record(field("result", result(TOKEN_IDS))));
    static final CandidType TEXT_RESULT = result(TEXT);
    static final CandidType TOKENIZE_RESULT = result(record(field("token_ids", TOKEN_IDS), field("tokens", vec(TEXT))));

    static final CandidType MODEL_INFO = record(
            field("n_layer", NAT32), field("n_head", NAT32), field("n_embd", NAT32),
            field("n_positions", NAT32), field("vocab_size", NAT32), field("parameters", NAT64));

    static final CandidType PRECISION = variant(field("F32", NULL), field("Int8", NULL));

    static final CandidType STATUS = record(
            field("config_bytes", NAT64), field("tokenizer_bytes", NAT64), field("safetensors_bytes", NAT64),
            field("config_sha256", BLOB), field("tokenizer_sha256", BLOB), field("safetensors_sha256", BLOB),
            field("model_loaded", BOOL), field("tokenizer_loaded", BOOL), field("model", opt(MODEL_INFO)),
            field("precision", opt(PRECISION)),
            field("heap_bytes", NAT64), field("stable_memory_bytes", NAT64),
            field("sessions", NAT32), field("max_sessions", NAT32),
            field("setup_instructions", NAT64), field("last_call_instructions", NAT64),
            field("last_call_tokens", NAT32));

    static final CandidType SAMPLING_SETTINGS = record(
            field("max_new_tokens", NAT32), field("temperature", FLOAT64), field("top_k", NAT32),
            field("top_p", FLOAT64), field("seed", NAT64), field("call_budget", opt(NAT64)));

    static final CandidType TURN_REQUEST = record(
            field("session_id", opt(NAT64)), field("prompt", TEXT), field("prompt_ids", opt(TOKEN_IDS)),
            field("settings", SAMPLING_SETTINGS));

    static final CandidType STOP_REASON = variant(field("EndOfText", NULL), field("MaxTokens", NULL), field("ContextFull", NULL));

    static final CandidType TURN_PROGRESS = record(
            field("session_id", NAT64), field("token_ids", TOKEN_IDS), field("text", TEXT),
            field("prompt_tokens_remaining", NAT32), field("generated_tokens", NAT32), field("context_tokens", NAT32),
            field("done", BOOL), field("stop_reason", opt(STOP_REASON)), field("instructions", NAT64));

    static final CandidType TURN_RESULT = result(TURN_PROGRESS);

    static final CandidType USAGE_POLICY = record(
            field("allow_anonymous", BOOL), field("allowlist_only", BOOL),
            field("per_caller_instructions_per_hour", NAT64), field("total_instructions_per_hour", NAT64),
            field("max_sessions_per_caller", NAT32));

    static final CandidType USAGE = record(
            field("policy", USAGE_POLICY), field("caller_instructions_this_hour", NAT64),
            field("total_instructions_this_hour", NAT64), field("caller_instructions_left", NAT64),
            field("hour_ends_at", NAT64));

    /** {@code variant { Ok : ok; Err : text }}, the shape of every fallible reply. */
    private static CandidType result(CandidType ok) {
        return variant(field("Ok", ok), field("Err", TEXT));
    }
}
