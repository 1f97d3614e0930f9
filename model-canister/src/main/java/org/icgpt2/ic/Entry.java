package org.icgpt2.ic;

/**
 * Runs the body of an exported entry point so that failures end cleanly:
 * <pre>{@code
 * @Export(name = "canister_query status")
 * public static void status() {
 *     Entry.run(() -> Api.reply(encodeStatus()));
 * }
 * }</pre>
 * An uncaught exception traps with its class and message (state changes are rolled back, the caller sees
 * the text). A {@link UserError} is an expected failure: with an {@link ErrorReply} it becomes an ordinary
 * reply (for example Candid {@code variant { Err = ... }}) instead of a trap.
 */
public final class Entry {
    private Entry() {
    }

    @FunctionalInterface
    public interface Body {
        void run();
    }

    /** Encodes a user error as the method's reply, e.g. the {@code Err} case of a Candid result. */
    @FunctionalInterface
    public interface ErrorReply {
        byte[] encode(UserError error);
    }

    /** Runs {@code body}; any exception, {@link UserError} included, traps with its message. */
    public static void run(Body body) {
        try {
            body.run();
        } catch (Throwable t) {
            throw Api.trap(describe(t));
        }
    }

    /** Runs {@code body}; a {@link UserError} is replied with {@code errorReply}, anything else traps. */
    public static void run(Body body, ErrorReply errorReply) {
        try {
            body.run();
        } catch (UserError e) {
            Api.reply(errorReply.encode(e));
        } catch (Throwable t) {
            throw Api.trap(describe(t));
        }
    }

    private static String describe(Throwable t) {
        String message = t.getMessage();
        String name = t.getClass().getName();
        return message == null ? name : name + ": " + message;
    }
}
