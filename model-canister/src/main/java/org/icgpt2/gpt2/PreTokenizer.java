package org.icgpt2.gpt2;

import static org.icgpt2.gpt2.UnicodeClasses.isLetter;
import static org.icgpt2.gpt2.UnicodeClasses.isNumber;
import static org.icgpt2.gpt2.UnicodeClasses.isWhitespace;

/**
 * GPT-2's pre-tokenization pattern, written out by hand (java.util.regex is too heavy for Wasm):
 * {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}
 * with Unicode classes as Hugging Face tokenizers (Oniguruma) sees them.
 */
final class PreTokenizer {
    private PreTokenizer() {
    }

    /** End (exclusive) of the pre-token that starts at {@code cps[start]}, with {@code start < n}. */
    static int nextEnd(int[] cps, int start, int n) {
        int c = cps[start];
        if (c == '\'' && start + 1 < n) {
            int c1 = cps[start + 1];
            if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
                return start + 2;
            }
            if (start + 2 < n) {
                int c2 = cps[start + 2];
                if ((c1 == 'r' || c1 == 'v') && c2 == 'e' || c1 == 'l' && c2 == 'l') {
                    return start + 3;
                }
            }
        }
        // " ?X+": an optional single space, then a run of one class; the class of the first character decides
        int first = c == ' ' && start + 1 < n ? start + 1 : start;
        int f = cps[first];
        if (isLetter(f)) {
            int i = first + 1;
            while (i < n && isLetter(cps[i])) {
                i++;
            }
            return i;
        }
        if (isNumber(f)) {
            int i = first + 1;
            while (i < n && isNumber(cps[i])) {
                i++;
            }
            return i;
        }
        if (!isWhitespace(f)) {
            int i = first + 1;
            while (i < n && isOther(cps[i])) {
                i++;
            }
            return i;
        }
        // whitespace run: "\s+(?!\S)" leaves the last space to prefix the next word; a lone one falls to "\s+"
        int i = start + 1;
        while (i < n && isWhitespace(cps[i])) {
            i++;
        }
        return i == n || i - start == 1 ? i : i - 1;
    }

    private static boolean isOther(int cp) {
        return !isWhitespace(cp) && !isLetter(cp) && !isNumber(cp);
    }
}
