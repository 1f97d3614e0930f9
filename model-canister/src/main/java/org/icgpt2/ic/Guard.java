package org.icgpt2.ic;

import java.util.function.Predicate;

/**
 * Who may call a method (the counterpart of ic-cdk's {@code #[update(guard = ...)]}). Each method of a canister
 * declares one; the generated entry points check it before decoding the arguments, and
 * {@code canister_inspect_message} refuses ingress that would fail it.
 */
public enum Guard {
    /** Anyone, the anonymous principal included. */
    ANY_CALLER(null),
    /** Controllers and the principals the canister has authorized. */
    AUTHORIZED("only controllers and authorized principals may call this method"),
    /** Controllers only. */
    CONTROLLER("only controllers may call this method");

    private final String refusal;

    Guard(String refusal) {
        this.refusal = refusal;
    }

    /** Whether {@code caller} passes; {@code authorized} says whether a principal passes {@link #AUTHORIZED}. */
    public boolean admits(byte[] caller, Predicate<byte[]> authorized) {
        return switch (this) {
            case ANY_CALLER -> true;
            case AUTHORIZED -> authorized.test(caller);
            case CONTROLLER -> Api.isController(caller);
        };
    }

    /** Traps unless the current message's caller passes (a reject, not an Err: ic-file-uploader ignores replies). */
    public void require(Predicate<byte[]> authorized) {
        if (this != ANY_CALLER && !admits(Api.caller(), authorized)) {
            throw Api.trap(refusal);
        }
    }
}
