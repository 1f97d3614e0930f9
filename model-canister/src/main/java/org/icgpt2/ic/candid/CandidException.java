package org.icgpt2.ic.candid;

/** A Candid message that is malformed, does not match the expected types, or a value that does not fit its type. */
public final class CandidException extends RuntimeException {
    public CandidException(String message) {
        super(message);
    }
}
