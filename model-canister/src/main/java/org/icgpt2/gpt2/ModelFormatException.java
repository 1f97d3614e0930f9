package org.icgpt2.gpt2;

/** A model, config or tokenizer file that cannot be used, with what is wrong and the tensor or key it concerns. */
public final class ModelFormatException extends RuntimeException {

    /** What is wrong; tests and callers can tell failures apart without parsing messages. */
    public enum Reason {
        TRUNCATED, BAD_HEADER_LENGTH, BAD_JSON, BAD_HEADER, DUPLICATE_NAME, UNSUPPORTED_DTYPE, BAD_OFFSETS,
        OVERLAPPING_OFFSETS, OFFSET_OUT_OF_RANGE, SIZE_MISMATCH, MISSING_TENSOR, WRONG_SHAPE, BAD_CONFIG, BAD_TOKENIZER,
        /** The model does not fit in the heap that is left. */
        TOO_LARGE
    }

    private final Reason reason;
    private final String subject;

    /** @param subject the tensor name, config key or file part concerned (may be empty) */
    public ModelFormatException(Reason reason, String subject, String detail) {
        super(reason + (subject.isEmpty() ? "" : " '" + subject + "'") + ": " + detail);
        this.reason = reason;
        this.subject = subject;
    }

    public Reason reason() {
        return reason;
    }

    /** The tensor name, config key or file part concerned. */
    public String subject() {
        return subject;
    }
}
