package org.icgpt2.gpt2;

import org.icgpt2.gpt2.ModelFormatException.Reason;

/**
 * The instruction format of vicgalle/gpt2-open-instruct-v1 and its special tokens:
 * {@code [### Instruction:] \n <user text> \n\n [### Response:\n] \n}, ending with {@code ### End} (or
 * {@code <|endoftext|>}). The framing ids are added here, never parsed from user text.
 */
public final class ChatFormat {
    private final Tokenizer tokenizer;
    private final int instruction;
    private final int response;
    private final int end;
    private final int endOfText;
    private final int newline;
    private final int blankLine;

    public ChatFormat(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
        instruction = required("### Instruction:");
        response = required("### Response:\n");
        end = required("### End");
        endOfText = required("<|endoftext|>");
        newline = singleToken("\n");
        blankLine = singleToken("\n\n");
    }

    private int required(String content) {
        int id = tokenizer.addedTokenId(content);
        if (id < 0) {
            throw new ModelFormatException(Reason.BAD_TOKENIZER, content, "the chat format needs this added token");
        }
        return id;
    }

    private int singleToken(String text) {
        int[] ids = tokenizer.encode(text);
        if (ids.length != 1) {
            throw new ModelFormatException(Reason.BAD_TOKENIZER, text.replace("\n", "\\n"), "expected a single token");
        }
        return ids[0];
    }

    /** Tokens the framing adds around the user's text. */
    static final int FRAMING_TOKENS = 5;

    /** {@code [50258, 198] + encode(userText) + [628, 50259, 198]} for the published model. */
    public int[] encodeInstruction(String userText) {
        return encodeInstruction(userText, Integer.MAX_VALUE);
    }

    /**
     * {@link #encodeInstruction(String)} of at most {@code maxTokens} tokens in all.
     *
     * @throws TooManyTokensException if there would be more, before the work of tokenizing a text that is far too long
     */
    public int[] encodeInstruction(String userText, int maxTokens) {
        if (maxTokens < FRAMING_TOKENS) {
            throw new TooManyTokensException(maxTokens, "the chat framing alone has " + FRAMING_TOKENS + " tokens");
        }
        int[] text = tokenizer.encode(userText, maxTokens - FRAMING_TOKENS);
        int[] ids = new int[text.length + FRAMING_TOKENS];
        ids[0] = instruction;
        ids[1] = newline;
        System.arraycopy(text, 0, ids, 2, text.length);
        ids[text.length + 2] = blankLine;
        ids[text.length + 3] = response;
        ids[text.length + 4] = newline;
        return ids;
    }

    /**
     * The next user message of a conversation whose tokens so far are {@code history}: a blank line after an answer
     * that was cut short (one that ended with "### End" needs none), then the framed instruction.
     */
    public int[] encodeFollowUp(int[] history, String userText) {
        return encodeFollowUp(history, userText, Integer.MAX_VALUE);
    }

    /**
     * {@link #encodeFollowUp(int[], String)} with at most {@code maxTokens} new tokens.
     *
     * @throws TooManyTokensException if there would be more
     */
    public int[] encodeFollowUp(int[] history, String userText, int maxTokens) {
        boolean needsBlankLine = history.length > 0 && !isStopToken(history[history.length - 1]);
        int[] instructionIds = encodeInstruction(userText, needsBlankLine ? maxTokens - 1 : maxTokens);
        if (!needsBlankLine) {
            return instructionIds;
        }
        int[] ids = new int[instructionIds.length + 1];
        ids[0] = blankLine;
        System.arraycopy(instructionIds, 0, ids, 1, instructionIds.length);
        return ids;
    }

    private boolean isStopToken(int id) {
        return id == end || id == endOfText;
    }

    /** Generation stops at "### End" (what the fine-tune emits) or "<|endoftext|>". */
    public int[] stopTokens() {
        return new int[]{end, endOfText};
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }
}
