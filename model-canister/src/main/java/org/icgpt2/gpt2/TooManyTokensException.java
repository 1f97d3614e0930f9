package org.icgpt2.gpt2;

/** A text with more tokens than the limit it was encoded under; thrown before (or as soon as) the limit is passed. */
public final class TooManyTokensException extends RuntimeException {
    private final int limit;

    public TooManyTokensException(int limit, String detail) {
        super(detail);
        this.limit = limit;
    }

    /** The token limit that was passed. */
    public int limit() {
        return limit;
    }
}
