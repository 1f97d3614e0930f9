package org.icgpt2.ic;

/** An expected failure caused by the caller's input (bad argument, not authorized, ...), not a bug. */
public class UserError extends RuntimeException {
    public UserError(String message) {
        super(message);
    }
}
