package org.icgpt2.gpt2;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.icgpt2.gpt2.ModelFormatException.Reason;

/**
 * GPT-2's byte-level BPE, read from a Hugging Face tokenizer.json, encoding and decoding exactly as Hugging Face
 * tokenizers does (ByteLevel pre-tokenizer with the GPT-2 pattern, no normalizer, added tokens).
 *
 * <p>{@link #encode} treats all text as plain text: "### Instruction:" typed by a user stays ordinary tokens, so users
 * cannot inject the chat framing. {@link #encodeWithSpecialTokens} also matches added tokens, as HF does.
 *
 * <p>Unpaired UTF-16 surrogates (which UTF-8 cannot encode, and Candid text never contains) are encoded as three
 * U+FFFD, as Hugging Face sees them through DJL.
 */
public final class Tokenizer {
    /** Heap the word cache may hold before it is cleared (estimated per entry); bounds a long-lived canister. */
    static final long WORD_CACHE_BYTES = 1 << 20;
    /** Longer words are not cached: they are rare, and one would take a large share of the cache. */
    static final int MAX_CACHED_WORD_CHARS = 64;
    /** Bytes of a word the BPE work buffers keep between calls; a longer word's buffers are dropped after use. */
    static final int KEPT_SCRATCH_BYTES = 1024;
    /** Estimated heap per cache entry besides its chars and ids: map node, String and array headers. */
    private static final int CACHE_ENTRY_OVERHEAD = 96;

    /** UTF-8 bytes of every token id; added tokens map to their content. */
    private final byte[][] tokenBytes;
    /** OpenAI's byte-to-character table, to name tokens as Hugging Face does. */
    private final char[] byteToChar = byteToUnicode();
    private final boolean[] special;
    /** Token id of each single byte. */
    private final int[] byteTokens = new int[256];
    private final PairRanks pairRanks;
    /** The token a merge of rank r produces. */
    private final int[] mergeResult;
    private final Map<String, Integer> addedTokens = new HashMap<>();
    private final String[] addedContents;
    /** UTF-8 length of the longest token: a text of n bytes cannot be fewer than n / maxTokenBytes tokens. */
    private final int maxTokenBytes;
    private final Map<String, int[]> wordCache = new HashMap<>();
    private long wordCacheBytes;
    // BPE work buffers, grown for long words and shrunk back after them (KEPT_SCRATCH_BYTES)
    private byte[] wordBytes = new byte[64];
    private int[] symbols = new int[0];
    private int[] nextSymbol;
    private int[] previousSymbol;
    /** Min-heap of (rank << 32 | left symbol index). */
    private long[] heap;
    private int heapSize;

    private Tokenizer(Map<String, Object> json) {
        Map<String, Object> model = Json.asObject(json.get("model"), "model");
        if (!"BPE".equals(model.get("type"))) {
            throw bad("model.type", "only BPE is supported, got " + model.get("type"));
        }
        Object preTokenizer = json.get("pre_tokenizer");
        if (preTokenizer == null || !"ByteLevel".equals(Json.asObject(preTokenizer, "pre_tokenizer").get("type"))) {
            throw bad("pre_tokenizer", "only the ByteLevel pre-tokenizer is supported");
        }
        if (json.get("normalizer") != null) {
            throw bad("normalizer", "normalizers are not supported");
        }

        int[] charToByte = new int[0x200];
        Arrays.fill(charToByte, -1);
        for (int b = 0; b < 256; b++) {
            charToByte[byteToChar[b]] = b;
        }

        Map<String, Object> vocab = Json.asObject(model.get("vocab"), "model.vocab");
        List<Object> added = json.get("added_tokens") == null ? new ArrayList<>() : Json.asList(json.get("added_tokens"), "added_tokens");
        int size = 0;
        for (Map.Entry<String, Object> e : vocab.entrySet()) {
            size = Math.max(size, checkedId(e.getValue(), e.getKey()) + 1);
        }
        for (Object a : added) {
            size = Math.max(size, checkedId(Json.asObject(a, "added_tokens").get("id"), "added_tokens") + 1);
        }
        tokenBytes = new byte[size][];
        special = new boolean[size];
        for (Map.Entry<String, Object> e : vocab.entrySet()) {
            tokenBytes[(int) (long) (Long) e.getValue()] = toBytes(e.getKey(), charToByte);
        }
        addedContents = new String[added.size()];
        for (int i = 0; i < added.size(); i++) {
            Map<String, Object> a = Json.asObject(added.get(i), "added_tokens");
            int id = (int) Json.asLong(a.get("id"), "added_tokens.id");
            String content = Json.asString(a.get("content"), "added_tokens.content");
            tokenBytes[id] = content.getBytes(StandardCharsets.UTF_8);
            special[id] = Boolean.TRUE.equals(a.get("special"));
            addedTokens.put(content, id);
            addedContents[i] = content;
        }
        for (int b = 0; b < 256; b++) {
            Object id = vocab.get(String.valueOf(byteToChar[b]));
            if (id == null) {
                throw bad("model.vocab", "no token for byte " + b);
            }
            byteTokens[b] = (int) (long) (Long) id;
        }
        int longest = 1;
        for (byte[] t : tokenBytes) {
            if (t != null) {
                longest = Math.max(longest, t.length);
            }
        }
        maxTokenBytes = longest;

        List<Object> merges = Json.asList(model.get("merges"), "model.merges");
        pairRanks = new PairRanks(merges.size());
        mergeResult = new int[merges.size()];
        for (int rank = 0; rank < merges.size(); rank++) {
            String left;
            String right;
            Object m = merges.get(rank);
            if (m instanceof String) {
                String s = (String) m;
                int space = s.indexOf(' ');
                if (space < 0 || s.indexOf(' ', space + 1) >= 0) {
                    throw bad("model.merges", "merge " + rank + " is not two space-separated tokens: " + s);
                }
                left = s.substring(0, space);
                right = s.substring(space + 1);
            } else {
                List<Object> pair = Json.asList(m, "model.merges");
                if (pair.size() != 2) {
                    throw bad("model.merges", "merge " + rank + " is not a pair");
                }
                left = Json.asString(pair.get(0), "model.merges");
                right = Json.asString(pair.get(1), "model.merges");
            }
            Object result = vocab.get(left + right);
            if (vocab.get(left) == null || vocab.get(right) == null || result == null) {
                throw bad("model.merges", "merge " + rank + " '" + left + " " + right + "' uses a token that is not in the vocabulary");
            }
            pairRanks.putIfAbsent((int) (long) (Long) vocab.get(left), (int) (long) (Long) vocab.get(right), rank);
            mergeResult[rank] = (int) (long) (Long) result;
        }
    }

    /** Parses tokenizer.json text. */
    public static Tokenizer parse(String tokenizerJson) {
        return new Tokenizer(Json.parseObject(tokenizerJson, "tokenizer.json"));
    }

    private static int checkedId(Object value, String what) {
        if (!(value instanceof Long) || (Long) value < 0 || (Long) value >= Config.MAX_VOCAB) {
            throw bad(what, "bad token id " + value);
        }
        return (int) (long) (Long) value;
    }

    private static byte[] toBytes(String token, int[] charToByte) {
        byte[] bytes = new byte[token.length()];
        for (int i = 0; i < bytes.length; i++) {
            char c = token.charAt(i);
            if (c >= charToByte.length || charToByte[c] < 0) {
                throw bad("model.vocab", "token '" + token + "' has a character outside the byte-level alphabet");
            }
            bytes[i] = (byte) charToByte[c];
        }
        return bytes;
    }

    /**
     * OpenAI's bytes_to_unicode: the 188 printable bytes map to themselves, the other 68 to U+0100.. in byte order,
     * so every byte has a visible character (' ' is 'Ġ', '\n' is 'Ċ').
     */
    private static char[] byteToUnicode() {
        char[] map = new char[256];
        int next = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char) b : (char) (0x100 + next++);
        }
        return map;
    }

    private static ModelFormatException bad(String key, String detail) {
        return new ModelFormatException(Reason.BAD_TOKENIZER, key, detail);
    }

    /** Number of token ids (vocabulary plus added tokens). */
    public int size() {
        return tokenBytes.length;
    }

    /** The id of an added token such as "### End", or -1. */
    public int addedTokenId(String content) {
        Integer id = addedTokens.get(content);
        return id == null ? -1 : id;
    }

    /** Whether {@code id} names a token (the ids of a vocabulary may have gaps). */
    public boolean isKnown(int id) {
        return id >= 0 && id < tokenBytes.length && tokenBytes[id] != null;
    }

    /**
     * Checks that a model with {@code modelVocabSize} logits only produces tokens this tokenizer can decode: a larger
     * model vocabulary (a padded 50304, or another model's) is refused. A smaller one is fine; the tokenizer's extra
     * ids are then refused as prompt ids by the model's bounds.
     */
    public void requireCovers(int modelVocabSize) {
        for (int id = 0; id < modelVocabSize; id++) {
            if (!isKnown(id)) {
                throw bad("model.vocab", "the model has " + modelVocabSize + " token ids, but the tokenizer "
                        + (id >= size() ? "has " + size() : "has no token " + id) + ": they do not belong together");
            }
        }
    }

    /**
     * The most UTF-8 bytes a text of {@code maxTokens} tokens can have: a longer text has more tokens, so it can be
     * refused before any work (for GPT-2's tokenizer, whose longest token is 128 bytes, 131,072 bytes for 1,024).
     */
    public long maxTextBytes(int maxTokens) {
        return (long) maxTokens * maxTokenBytes;
    }

    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    // ---- encoding ----

    /** Encodes plain text; added-token strings in it are ordinary text. */
    public int[] encode(String text) {
        return encode(text, Integer.MAX_VALUE);
    }

    /**
     * Encodes plain text of at most {@code maxTokens} tokens. A text whose UTF-8 length alone shows that it has more
     * is refused before any work; otherwise encoding stops as soon as the count is passed.
     *
     * @throws TooManyTokensException if the text has more than {@code maxTokens} tokens
     */
    public int[] encode(String text, int maxTokens) {
        long bytes = utf8Length(text);
        if (bytes > maxTextBytes(maxTokens)) {
            throw new TooManyTokensException(maxTokens, "the text has " + bytes + " UTF-8 bytes, so more than "
                    + maxTokens + " tokens");
        }
        IntList out = new IntList((int) Math.min(text.length() / 3 + 4, maxTokens));
        encodeOrdinary(text, out, maxTokens);
        return out.toArray();
    }

    /** Encodes text as Hugging Face does, turning occurrences of added tokens into their ids (leftmost, then longest). */
    public int[] encodeWithSpecialTokens(String text) {
        IntList out = new IntList(text.length() / 3 + 4);
        int start = 0;
        int pos = 0;
        while (pos < text.length()) {
            String match = null;
            for (String content : addedContents) {
                if (!content.isEmpty() && text.startsWith(content, pos) && (match == null || content.length() > match.length())) {
                    match = content;
                }
            }
            if (match == null) {
                pos++;
                continue;
            }
            encodeOrdinary(text.substring(start, pos), out, Integer.MAX_VALUE);
            out.add(addedTokens.get(match));
            pos += match.length();
            start = pos;
        }
        encodeOrdinary(text.substring(start), out, Integer.MAX_VALUE);
        return out.toArray();
    }

    private void encodeOrdinary(String text, IntList out, int maxTokens) {
        int[] cps = codePoints(text);
        int start = 0;
        while (start < cps.length) {
            int end = PreTokenizer.nextEnd(cps, start, cps.length);
            int[] ids = wordIds(cps, start, end);
            if (out.size() + ids.length > maxTokens) {
                throw new TooManyTokensException(maxTokens, "the text has more than " + maxTokens + " tokens");
            }
            out.addAll(ids);
            start = end;
        }
    }

    /** The tokens of one pre-token, from the cache when it is short enough to be cached. */
    private int[] wordIds(int[] cps, int start, int end) {
        if (end - start > MAX_CACHED_WORD_CHARS) {
            return bpe(cps, start, end);
        }
        String word = new String(cps, start, end - start);
        int[] ids = wordCache.get(word);
        if (ids == null) {
            ids = bpe(cps, start, end);
            long entryBytes = CACHE_ENTRY_OVERHEAD + 2L * word.length() + 4L * ids.length;
            if (wordCacheBytes + entryBytes > WORD_CACHE_BYTES) {
                wordCache.clear();
                wordCacheBytes = 0;
            }
            wordCache.put(word, ids);
            wordCacheBytes += entryBytes;
        }
        return ids;
    }

    /** Estimated heap of the word cache, for tests of its bound. */
    long wordCacheBytes() {
        return wordCacheBytes;
    }

    /** Heap held by the BPE work buffers between calls, for tests of their bound. */
    long scratchBytes() {
        return wordBytes.length + 4L * symbols.length + (nextSymbol == null ? 0 : 4L * (nextSymbol.length
                + previousSymbol.length + 2L * heap.length));
    }

    /**
     * UTF-8 length as this tokenizer reads the text: an unpaired surrogate counts 9 (three U+FFFD, see
     * {@link #codePoints}).
     */
    private static long utf8Length(String text) {
        long n = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += Character.isSurrogate(c) ? 9 : 3;
            }
        }
        return n;
    }

    /**
     * Code points of the text. An unpaired surrogate becomes three U+FFFD: its 3-byte (invalid) UTF-8 form decoded
     * lossily byte by byte, which is what Hugging Face tokenizers receives through DJL/JNI.
     */
    private static int[] codePoints(String text) {
        int[] cps = new int[text.length()];
        int n = 0;
        for (int i = 0; i < text.length(); ) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                cps[n++] = Character.toCodePoint(c, text.charAt(i + 1));
                i += 2;
            } else if (Character.isSurrogate(c)) {
                if (cps.length < n + 3 + (text.length() - i - 1)) {
                    cps = Arrays.copyOf(cps, n + 3 + 2 * (text.length() - i));
                }
                cps[n++] = 0xFFFD;
                cps[n++] = 0xFFFD;
                cps[n++] = 0xFFFD;
                i++;
            } else {
                cps[n++] = c;
                i++;
            }
        }
        return n == cps.length ? cps : Arrays.copyOf(cps, n);
    }

    /**
     * BPE over the UTF-8 bytes of one pre-token, as Hugging Face does it: a min-heap of (rank, position) over adjacent
     * pairs of a linked list of symbols, so that a long word costs O(n log n) rather than O(n^2).
     * Stale heap entries (a side already merged away) are skipped when popped.
     */
    private int[] bpe(int[] cps, int start, int end) {
        int n = utf8(cps, start, end);
        if (symbols.length < n) {
            symbols = new int[n];
            nextSymbol = new int[n];
            previousSymbol = new int[n];
            heap = new long[3 * n];
        }
        int[] sym = symbols;
        int[] next = nextSymbol;
        int[] prev = previousSymbol;
        heapSize = 0;
        for (int i = 0; i < n; i++) {
            sym[i] = byteTokens[wordBytes[i] & 0xFF];
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        for (int i = 0; i + 1 < n; i++) {
            pushPair(sym, i, i + 1);
        }
        while (heapSize > 0) {
            long top = popHeap();
            int rank = (int) (top >>> 32);
            int i = (int) top;
            int j = sym[i] < 0 ? -1 : next[i];
            if (j < 0 || pairRanks.rank(sym[i], sym[j]) != rank) {
                continue; // stale: a side of this pair was merged into something else
            }
            sym[i] = mergeResult[rank];
            sym[j] = -1;
            next[i] = next[j];
            if (next[j] >= 0) {
                prev[next[j]] = i;
            }
            if (prev[i] >= 0) {
                pushPair(sym, prev[i], i);
            }
            if (next[i] >= 0) {
                pushPair(sym, i, next[i]);
            }
        }
        int count = 0;
        for (int i = 0; i >= 0; i = next[i]) {
            sym[count++] = sym[i]; // i >= count, so compacting in place is safe
        }
        int[] ids = Arrays.copyOf(sym, count);
        if (n > KEPT_SCRATCH_BYTES) {
            releaseScratch();
        }
        return ids;
    }

    /** Drops work buffers grown for a long word, so that one long prompt does not keep megabytes on the heap. */
    private void releaseScratch() {
        wordBytes = new byte[64];
        symbols = new int[0];
        nextSymbol = null;
        previousSymbol = null;
        heap = null;
    }

    /** Pushes the pair starting at symbol {@code i} if it merges; ties in rank pop leftmost first. */
    private void pushPair(int[] sym, int i, int j) {
        int rank = pairRanks.rank(sym[i], sym[j]);
        if (rank == Integer.MAX_VALUE) {
            return;
        }
        long entry = (long) rank << 32 | i;
        int k = heapSize++;
        while (k > 0 && heap[(k - 1) >> 1] > entry) {
            heap[k] = heap[(k - 1) >> 1];
            k = (k - 1) >> 1;
        }
        heap[k] = entry;
    }

    private long popHeap() {
        long top = heap[0];
        long last = heap[--heapSize];
        int k = 0;
        while (true) {
            int child = 2 * k + 1;
            if (child >= heapSize) {
                break;
            }
            if (child + 1 < heapSize && heap[child + 1] < heap[child]) {
                child++;
            }
            if (heap[child] >= last) {
                break;
            }
            heap[k] = heap[child];
            k = child;
        }
        heap[k] = last;
        return top;
    }

    /** Writes the UTF-8 bytes of {@code cps[start..end)} into {@link #wordBytes}; returns their count. */
    private int utf8(int[] cps, int start, int end) {
        if (wordBytes.length < 4 * (end - start)) {
            wordBytes = new byte[4 * (end - start)];
        }
        byte[] b = wordBytes;
        int n = 0;
        for (int i = start; i < end; i++) {
            int c = cps[i];
            if (c < 0x80) {
                b[n++] = (byte) c;
            } else if (c < 0x800) {
                b[n++] = (byte) (0xC0 | c >> 6);
                b[n++] = (byte) (0x80 | (c & 0x3F));
            } else if (c < 0x10000) {
                b[n++] = (byte) (0xE0 | c >> 12);
                b[n++] = (byte) (0x80 | (c >> 6 & 0x3F));
                b[n++] = (byte) (0x80 | (c & 0x3F));
            } else {
                b[n++] = (byte) (0xF0 | c >> 18);
                b[n++] = (byte) (0x80 | (c >> 12 & 0x3F));
                b[n++] = (byte) (0x80 | (c >> 6 & 0x3F));
                b[n++] = (byte) (0x80 | (c & 0x3F));
            }
        }
        return n;
    }

    // ---- decoding ----

    /** The UTF-8 bytes of a token (shared: do not modify). */
    byte[] tokenBytes(int id) {
        if (id < 0 || id >= tokenBytes.length || tokenBytes[id] == null) {
            throw new IllegalArgumentException("unknown token id " + id);
        }
        return tokenBytes[id];
    }

    /** The token as Hugging Face names it: byte-level characters (' ' is 'Ġ'), or an added token's content. */
    public String tokenString(int id) {
        byte[] bytes = tokenBytes(id);
        if (addedTokens.containsValue(id)) {
            return new String(bytes, StandardCharsets.UTF_8);
        }
        char[] chars = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            chars[i] = byteToChar[bytes[i] & 0xff];
        }
        return new String(chars);
    }

    /** Decodes ids to text; invalid UTF-8 (a sequence cut off mid-character) becomes U+FFFD. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        int length = 0;
        for (int id : ids) {
            length += skipSpecialTokens && isSpecial(id) ? 0 : tokenBytes(id).length;
        }
        byte[] bytes = new byte[length];
        int n = 0;
        for (int id : ids) {
            if (!(skipSpecialTokens && isSpecial(id))) {
                byte[] t = tokenBytes(id);
                System.arraycopy(t, 0, bytes, n, t.length);
                n += t.length;
            }
        }
        return Utf8.decode(bytes, 0, bytes.length);
    }

    /** A decoder for tokens arriving one at a time that never splits a character. */
    public TokenDecoder newDecoder(boolean skipSpecialTokens) {
        return new TokenDecoder(this, skipSpecialTokens);
    }

    /** A growable int array (tokens of one encode call). */
    private static final class IntList {
        private int[] a;
        private int n;

        IntList(int capacity) {
            a = new int[capacity];
        }

        void add(int v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, 2 * n + 1);
            }
            a[n++] = v;
        }

        void addAll(int[] vs) {
            if (n + vs.length > a.length) {
                a = Arrays.copyOf(a, Math.max(2 * a.length, n + vs.length));
            }
            System.arraycopy(vs, 0, a, n, vs.length);
            n += vs.length;
        }

        int size() {
            return n;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
