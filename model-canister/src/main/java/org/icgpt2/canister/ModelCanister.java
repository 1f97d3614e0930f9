package org.icgpt2.canister;

import org.icgpt2.ic.Api;
import org.icgpt2.ic.Entry;
import org.teavm.interop.Export;

/**
 * The GPT-2 model canister's entry points (interface: candid/model.did). Each IC entry point is a public static
 * void method exported under the IC's name: {@code canister_init}, {@code canister_post_upgrade}, ...,
 * {@code "canister_query <method>"} and {@code "canister_update <method>"} (exactly one space). Bodies run
 * inside {@link Entry#run} so that exceptions trap cleanly. Stubs until the service layer lands.
 */
public final class ModelCanister {
    private static long pingCount;

    private ModelCanister() {
    }

    @Export(name = "canister_init")
    public static void init() {
    }

    @Export(name = "canister_pre_upgrade")
    public static void preUpgrade() {
    }

    /** The Wasm heap is gone after an upgrade; state will be reloaded from stable memory here. */
    @Export(name = "canister_post_upgrade")
    public static void postUpgrade() {
    }

    /** Ingress update calls are accepted unless rejected here (queries and inter-canister calls skip it). */
    @Export(name = "canister_inspect_message")
    public static void inspectMessage() {
        Api.acceptMessage();
    }

    @Export(name = "canister_query status")
    public static void status() {
        Entry.run(() -> Api.reply(CandidReplies.text("GPT-2 model canister: no model loaded")));
    }

    @Export(name = "canister_update ping")
    public static void ping() {
        Entry.run(() -> Api.reply(CandidReplies.text("pong " + ++pingCount)));
    }

    /** TeaVM needs a main class; the IC never calls it (the module's start function initializes the runtime). */
    public static void main(String[] args) {
    }
}
