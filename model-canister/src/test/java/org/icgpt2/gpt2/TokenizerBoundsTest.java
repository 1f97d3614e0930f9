package org.icgpt2.gpt2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What hostile prompts can make the tokenizer hold: bounds checked before work, caches bounded in bytes. */
class TokenizerBoundsTest {
    private static String json;
    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() throws IOException {
        json = Files.readString(TestFiles.TOKENIZER_JSON);
        tokenizer = Tokenizer.parse(json);
    }

    /** The longest token of the tokenizer.json, counted independently of the Tokenizer class. */
    private static int longestTokenBytes() {
        int longest = 0;
        for (int id = 0; id < tokenizer.size(); id++) {
            longest = Math.max(longest, tokenizer.decode(new int[]{id}, false).getBytes(StandardCharsets.UTF_8).length);
        }
        return longest;
    }

    @Test
    void theByteBoundIsAValidLowerBoundOnTokens() {
        // decode can turn invalid UTF-8 bytes into 3-byte U+FFFD, so it overestimates: the real bound is at most that
        long bound = tokenizer.maxTextBytes(1);
        assertTrue(bound >= 1 && bound <= longestTokenBytes(), "max token bytes " + bound);
        String[] texts = {"Hello world, what is the capital of France?", "日本語のテキストです。 😀😀",
                "a".repeat(5000), " ".repeat(777), "ÃÂ".repeat(300)};
        for (String text : texts) {
            int tokens = tokenizer.encode(text).length;
            long bytes = text.getBytes(StandardCharsets.UTF_8).length;
            assertTrue(bytes <= tokenizer.maxTextBytes(tokens), text.length() + " chars: " + bytes + " bytes in " + tokens + " tokens");
            assertArrayEquals(tokenizer.encode(text), tokenizer.encode(text, tokens));
            assertThrows(TooManyTokensException.class, () -> tokenizer.encode(text, tokens - 1));
        }
    }

    @Test
    void anOversizePromptIsRefusedBeforeTokenizing() {
        String word = "x".repeat(1_900_000); // one pre-token: tokenizing it would allocate megabytes of BPE buffers
        long scratchBefore = tokenizer.scratchBytes();
        long cacheBefore = tokenizer.wordCacheBytes();
        TooManyTokensException e = assertThrows(TooManyTokensException.class, () -> tokenizer.encode(word, 1024));
        assertEquals(1024, e.limit());
        assertTrue(e.getMessage().contains("1900000 UTF-8 bytes"), e.getMessage());
        assertEquals(scratchBefore, tokenizer.scratchBytes());
        assertEquals(cacheBefore, tokenizer.wordCacheBytes());
    }

    @Test
    void encodingStopsOnceTheLimitIsPassed() {
        // under the byte bound but over the token limit: many short words, each its own token
        String text = " a".repeat(2000);
        assertEquals(2000, tokenizer.encode(text).length);
        assertTrue(text.length() <= tokenizer.maxTextBytes(1024));
        assertThrows(TooManyTokensException.class, () -> tokenizer.encode(text, 1024));
        ChatFormat chat = new ChatFormat(tokenizer);
        assertThrows(TooManyTokensException.class, () -> chat.encodeInstruction(text, 1024));
        assertEquals(2005, chat.encodeInstruction(text, 2005).length);
        assertThrows(TooManyTokensException.class, () -> chat.encodeInstruction(text, 2004));
        int[] history = {1, 2, 3}; // not ending in a stop token: the follow-up starts with a blank line
        assertEquals(2006, chat.encodeFollowUp(history, text, 2006).length);
        assertThrows(TooManyTokensException.class, () -> chat.encodeFollowUp(history, text, 2005));
    }

    @Test
    void longWordsLeaveNoScratchBehind() {
        Tokenizer t = Tokenizer.parse(json);
        t.encode("short words");
        long small = t.scratchBytes();
        int[] ids = t.encode("z".repeat(50_000));
        assertTrue(ids.length > 0);
        assertTrue(t.scratchBytes() <= small, "BPE buffers shrink back after a long word: " + t.scratchBytes());
        assertEquals(Arrays.toString(t.encode("short words")), Arrays.toString(tokenizer.encode("short words")));
    }

    @Test
    void theWordCacheIsBoundedInBytes() {
        Tokenizer t = Tokenizer.parse(json);
        long peak = 0;
        // distinct words of up to 64 chars: 20,000 of them would be ~4 MB if all were kept
        for (int i = 0; i < 20_000; i++) {
            t.encode(" w" + Integer.toString(i, 36).repeat(1 + i % 10));
            peak = Math.max(peak, t.wordCacheBytes());
        }
        assertTrue(peak > Tokenizer.WORD_CACHE_BYTES / 2, "the cache is used: " + peak);
        assertTrue(peak <= Tokenizer.WORD_CACHE_BYTES, "cache bytes " + peak);
        // longer words are never cached
        Tokenizer fresh = Tokenizer.parse(json);
        fresh.encode("q".repeat(Tokenizer.MAX_CACHED_WORD_CHARS + 1));
        assertEquals(0, fresh.wordCacheBytes());
    }

    @Test
    void aModelVocabularyLargerThanTheTokenizersIsRefused() {
        tokenizer.requireCovers(tokenizer.size());
        tokenizer.requireCovers(50257); // a smaller model vocabulary: fine
        for (int vocab : new int[]{50300, 50304}) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> tokenizer.requireCovers(vocab));
            assertEquals(ModelFormatException.Reason.BAD_TOKENIZER, e.reason());
            assertTrue(e.getMessage().contains("the model has " + vocab + " token ids"), e.getMessage());
        }
    }

    @Test
    void gapsInTheTokenizersIdsAreRefusedWhereTheModelUsesThem() {
        // the added token 50257 moved to 50261 leaves a gap at 50257
        Tokenizer gapped = Tokenizer.parse(json.replace("\"id\": 50257", "\"id\": 50261").replace("\"id\":50257", "\"id\":50261"));
        assertEquals(50262, gapped.size());
        assertTrue(!gapped.isKnown(50257) && gapped.isKnown(50261));
        gapped.requireCovers(50257);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> gapped.requireCovers(50260));
        assertTrue(e.getMessage().contains("has no token 50257"), e.getMessage());
    }
}
