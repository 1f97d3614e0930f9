package org.icgpt2.canister;

import java.util.Arrays;
import java.util.function.LongSupplier;
import org.icgpt2.ic.StableStorage;
import org.icgpt2.ic.UserError;

/**
 * The canister's stable memory: a small header, then one fixed region per uploaded file. Uploaded bytes go
 * straight into their region (no copy in the heap), so an upgrade, or an upload interrupted halfway, loses
 * nothing. The header holds each file's length and running SHA-256, the set-up flags, the authorized
 * principals, and for each file the length and SHA-256 of the version last set up.
 *
 * <p>A file arrives either appended in order ({@link #append}) or in parallel chunks ({@link #putChunk}, as
 * ic-file-uploader --parallel sends them): chunk {@code id} holds the file's bytes from {@code id × CHUNK_BYTES},
 * every chunk but the last {@link #CHUNK_BYTES} long, in any order. A chunk table per file records the length of
 * each chunk received; {@link #finishChunks} checks that the chunks make the whole file, then hashes it into the
 * same running SHA-256 as appends, over several calls when one call's budget does not cover it. Until then the
 * file's length is what has been hashed.
 *
 * <pre>
 * [0, 4 KiB)          header
 * [4 KiB, 64 KiB)     usage policy and ledger (length-prefixed)
 * [64 KiB, 128 KiB)   chunk tables (config, tokenizer, safetensors): chunks received, then one int per chunk
 * [128 KiB, 1 MiB)    config.json
 * [1 MiB, 32 MiB)     tokenizer.json
 * [32 MiB, 8 GiB)     model.safetensors
 * </pre>
 *
 * <p>The version set up ({@link #setUp()}) stays at the start of its region. A new upload of a file that is set up
 * ({@link #staged()}: after its {@code clear_*}) goes right after it, so that an upgrade in the middle of it reloads
 * what was set up; setting the new one up moves it to the start ({@link #commitSetUp}).
 */
final class UploadStore {
    enum File {
        CONFIG("config", 128L << 10, 1L << 20),
        TOKENIZER("tokenizer", 1L << 20, 32L << 20),
        SAFETENSORS("safetensors", 32L << 20, 8L << 30);

        final String label;
        final long start;
        final long end;

        File(String label, long start, long end) {
            this.label = label;
            this.start = start;
            this.end = end;
        }

        long capacity() {
            return end - start;
        }

        /** The most chunks the region holds. */
        int maxChunks() {
            return (int) ((capacity() + CHUNK_BYTES - 1) / CHUNK_BYTES);
        }
    }

    /** A parallel upload's chunk: chunk id × CHUNK_BYTES is the offset of its bytes (ic-file-uploader's size). */
    static final int CHUNK_BYTES = 2_000_000;
    /** Bytes read from stable memory and hashed at a time while finishing a parallel upload. */
    private static final int HASH_BLOCK_BYTES = 1 << 16;
    /** The chunk tables (about 17 KiB for the three regions) sit between the usage area and config.json. */
    private static final long CHUNK_TABLES_AT = 64 << 10;

    static final int MAX_AUTHORIZED = 64;
    private static final long USAGE_AT = 4096;
    /** The most bytes of saved usage: a length, then the bytes, before the chunk tables. */
    static final int MAX_USAGE_BYTES = (int) (64 * 1024 - USAGE_AT) - 4;
    static final int MAX_PRINCIPAL_BYTES = 29;

    private static final byte[] MAGIC = {'G', 'P', 'T', '2', 'I', 'C', 'v', '1'};
    private static final int HEADER_BYTES = 4096;
    private static final int FLAGS_AT = 8;
    private static final int FILES_AT = 16;
    private static final int FILE_RECORD_BYTES = Sha256.STATE_BYTES;
    private static final int AUTHORIZED_AT = FILES_AT + 3 * FILE_RECORD_BYTES;
    private static final int PRINCIPAL_SLOT_BYTES = 1 + MAX_PRINCIPAL_BYTES;
    /** Per file: where its staged upload starts (0 = the region's start), then the digest state of its set-up version. */
    private static final int SETUP_AT = 2304;
    private static final int SETUP_RECORD_BYTES = 8 + Sha256.STATE_BYTES;
    /** Stable memory is allocated in pages: a staged upload after the set-up version starts on the next one. */
    private static final long ALIGNMENT = StableStorage.PAGE_SIZE;
    /** Bytes moved per stable-memory read and write when a set-up version moves to the start of its region. */
    private static final int MOVE_CHUNK = 1 << 20;

    static final int FLAG_MODEL_SET_UP = 1;
    static final int FLAG_TOKENIZER_SET_UP = 2;
    /** The model was set up with int8 weights: post_upgrade reloads it so. */
    static final int FLAG_INT8 = 4;
    /** The header records the set-up versions (canisters installed before this kept none). */
    private static final int FLAG_SETUP_RECORDED = 8;

    private final StableStorage storage;
    /** The header is small: it is read once per message that needs it and written back whole. */
    private final byte[] header = new byte[HEADER_BYTES];
    private final Sha256 digest = new Sha256();
    private final byte[] word = new byte[4];

    /** Reads the header from stable memory, creating an empty one on a fresh canister. */
    UploadStore(StableStorage storage) {
        this.storage = storage;
        if (storage.size() == 0) {
            storage.ensureCapacity(File.CONFIG.start);
            System.arraycopy(MAGIC, 0, header, 0, MAGIC.length);
            for (File file : File.values()) {
                digest.reset();
                digest.saveTo(header, recordAt(file));
            }
            flush();
            return;
        }
        storage.read(0, header, 0, HEADER_BYTES);
        for (int i = 0; i < MAGIC.length; i++) {
            if (header[i] != MAGIC[i]) {
                throw new IllegalStateException("stable memory does not hold this canister's layout (bad magic)");
            }
        }
    }

    long length(File file) {
        digest.loadFrom(header, recordAt(file));
        return digest.length();
    }

    /** Read access to one version of the uploaded files. */
    interface Files {
        long length(File file);

        /** Reads {@code len} bytes of the file starting at {@code offset}; the caller checks the range. */
        void read(File file, long offset, byte[] dst, int dstOff, int len);

        /** Reads {@code count} raw little-endian floats of the file straight into {@code dst}. */
        void readFloats(File file, long offset, float[] dst, int dstOff, int count);

        /** The whole file as one array (for the small files: config and tokenizer). */
        default byte[] readAll(File file) {
            byte[] bytes = new byte[(int) length(file)];
            read(file, 0, bytes, 0, bytes.length);
            return bytes;
        }
    }

    /** The files as uploaded: what set-up reads. */
    Files staged() {
        return new Files() {
            public long length(File file) {
                return UploadStore.this.length(file);
            }

            public void read(File file, long offset, byte[] dst, int dstOff, int len) {
                storage.read(stagedStart(file) + offset, dst, dstOff, len);
            }

            public void readFloats(File file, long offset, float[] dst, int dstOff, int count) {
                storage.readFloats(stagedStart(file) + offset, dst, dstOff, count);
            }
        };
    }

    /**
     * The files as last set up, whatever has been uploaded since: what post_upgrade reloads. Without a record (a
     * canister set up before records were kept), the staged files.
     */
    Files setUp() {
        if (!flag(FLAG_SETUP_RECORDED)) {
            return staged();
        }
        return new Files() {
            public long length(File file) {
                digest.loadFrom(header, setUpRecordAt(file) + 8);
                return digest.length();
            }

            public void read(File file, long offset, byte[] dst, int dstOff, int len) {
                storage.read(file.start + offset, dst, dstOff, len);
            }

            public void readFloats(File file, long offset, float[] dst, int dstOff, int count) {
                storage.readFloats(file.start + offset, dst, dstOff, count);
            }
        };
    }

    /**
     * Records the staged version of {@code file} as set up (after its set-up succeeded), first moving it to the start
     * of its region if it was uploaded after the previous set-up version.
     */
    void commitSetUp(File file) {
        long from = stagedStart(file);
        long length = length(file);
        if (from != file.start) {
            byte[] chunk = new byte[(int) Math.min(MOVE_CHUNK, Math.max(1, length))];
            // moving down: each chunk is read before anything at or after it is written
            for (long done = 0; done < length; done += chunk.length) {
                int n = (int) Math.min(chunk.length, length - done);
                storage.read(from + done, chunk, 0, n);
                storage.write(file.start + done, chunk, 0, n);
            }
            putLong(setUpRecordAt(file), 0);
        }
        System.arraycopy(header, recordAt(file), header, setUpRecordAt(file) + 8, Sha256.STATE_BYTES);
        if (!flag(FLAG_SETUP_RECORDED)) {
            // the other files' set-up versions, as far as they are known, are what is staged now
            for (File other : File.values()) {
                if (other != file) {
                    System.arraycopy(header, recordAt(other), header, setUpRecordAt(other) + 8, Sha256.STATE_BYTES);
                }
            }
        }
        setFlag(FLAG_SETUP_RECORDED, true);
    }

    /** Where the staged version of {@code file} starts: its region's start, or right after the set-up version. */
    private long stagedStart(File file) {
        long at = getLong(setUpRecordAt(file));
        return at == 0 ? file.start : at;
    }

    byte[] sha256(File file) {
        digest.loadFrom(header, recordAt(file));
        return digest.digest();
    }

    /** Appends {@code bytes} to the file's region, updating its length and digest. */
    void append(File file, byte[] bytes) {
        requireNoChunks(file);
        int record = recordAt(file);
        digest.loadFrom(header, record);
        long start = stagedStart(file);
        long at = start + digest.length();
        if (at + bytes.length > file.end) {
            throw new UserError(file.label + " is too large: at most " + (file.end - start) + " bytes"
                    + (start == file.start ? "" : " while the set-up version is kept"));
        }
        storage.ensureCapacity(at + bytes.length);
        storage.write(at, bytes, 0, bytes.length);
        digest.update(bytes, 0, bytes.length);
        digest.saveTo(header, record);
        flush();
    }

    /** For the original upload sequence's store_* and load_* calls, which only confirm that bytes arrived. */
    void requireUploaded(File file) {
        requireNoChunks(file);
        if (length(file) == 0) {
            throw new UserError("no " + file.label + " bytes uploaded yet");
        }
    }

    /** Starts the file's upload again; a set-up version at the start of the region is kept, the upload goes after it. */
    void clear(File file) {
        if (flag(FLAG_SETUP_RECORDED) && stagedStart(file) == file.start) {
            long kept = setUp().length(file);
            putLong(setUpRecordAt(file), kept == 0 ? 0 : file.start + (kept + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT);
        }
        digest.reset();
        digest.saveTo(header, recordAt(file));
        flush();
        clearChunkTable(file);
    }

    // ---- parallel chunks ----

    /**
     * Writes chunk {@code id} (a nat32: negative here means 2^31 or more) straight to its place in the file's region;
     * a chunk sent again replaces itself. Refused: ids beyond the region, empty or oversized chunks, chunks over bytes
     * already hashed by {@link #finishChunks}, and chunks of a file that holds appended bytes.
     */
    void putChunk(File file, int id, byte[] bytes) {
        long offset = (long) id * CHUNK_BYTES;
        long start = stagedStart(file);
        if (id < 0 || start + offset + bytes.length > file.end) {
            throw new UserError(file.label + " chunk " + Integer.toUnsignedString(id) + " lies beyond the file's region of "
                    + (file.end - start) + " bytes (chunks of " + CHUNK_BYTES + " bytes"
                    + (start == file.start ? "" : ", while the set-up version is kept") + ")");
        }
        if (bytes.length == 0 || bytes.length > CHUNK_BYTES) {
            throw new UserError("a chunk holds 1 to " + CHUNK_BYTES + " bytes, not " + bytes.length);
        }
        long hashed = length(file);
        int received = chunksReceived(file);
        if (received == 0 && hashed > 0) {
            throw new UserError(file.label + " holds " + hashed + " bytes already: clear_" + file.label
                    + "_bytes before sending chunks");
        }
        if (offset < hashed) {
            throw new UserError(file.label + " chunk " + id + " is already hashed by finish_" + file.label
                    + "_upload; clear_" + file.label + "_bytes to start over");
        }
        storage.ensureCapacity(start + offset + bytes.length);
        storage.write(start + offset, bytes, 0, bytes.length);
        if (chunkLength(file, id) == 0) {
            writeInt(chunkTableAt(file), received + 1);
        }
        writeInt(chunkTableAt(file) + 4 + 4L * id, bytes.length);
    }

    /**
     * The chunks that a file of {@code total} bytes still lacks, in order: absent, or of the wrong length (every chunk
     * but the last holds {@link #CHUNK_BYTES}). None when the file is complete, however it arrived.
     */
    int[] missingChunks(File file, long total) {
        int count = chunkCount(file, total);
        if (chunksReceived(file) == 0) {
            return length(file) == total ? new int[0] : range(count);
        }
        int[] lengths = chunkLengths(file);
        int[] missing = new int[count];
        int n = 0;
        for (int id = 0; id < count; id++) {
            if (lengths[id] != expectedLength(id, count, total)) {
                missing[n++] = id;
            }
        }
        return Arrays.copyOf(missing, n);
    }

    /** Where finishing a parallel upload stands: the bytes hashed of {@code total}, and the digest once done. */
    record Finish(long hashedBytes, long totalBytes, byte[] sha256) {
        boolean done() {
            return sha256 != null;
        }
    }

    /**
     * Checks that the chunks received make a file of {@code total} bytes (every chunk present with its length, none
     * beyond), then hashes it on from where the last call stopped, until {@code instructions} passes {@code budget}.
     * When the whole file is hashed the chunk table is cleared: the file is then complete, as if appended.
     */
    Finish finishChunks(File file, long total, LongSupplier instructions, long budget) {
        int count = chunkCount(file, total);
        if (chunksReceived(file) == 0) {
            long length = length(file);
            if (length == total) {
                return new Finish(total, total, sha256(file));
            }
            throw new UserError("no " + file.label + " chunks received (put_" + file.label + "_chunk), and " + length
                    + " of " + total + " bytes appended");
        }
        int[] missing = missingChunks(file, total);
        if (missing.length > 0) {
            StringBuilder ids = new StringBuilder();
            for (int i = 0; i < Math.min(missing.length, 10); i++) {
                ids.append(i == 0 ? "" : ", ").append(missing[i]);
            }
            throw new UserError(file.label + ": " + missing.length + " of " + count + " chunks missing or of the wrong length ("
                    + ids + (missing.length > 10 ? ", …" : "") + "): send them again");
        }
        int[] lengths = chunkLengths(file);
        for (int id = count; id < lengths.length; id++) {
            if (lengths[id] != 0) {
                throw new UserError(file.label + " chunk " + id + " lies beyond the " + count + " chunks of a " + total
                        + "-byte file: clear_" + file.label + "_bytes and upload again");
            }
        }
        int record = recordAt(file);
        digest.loadFrom(header, record);
        byte[] block = new byte[HASH_BLOCK_BYTES];
        long at = digest.length();
        while (at < total && instructions.getAsLong() < budget) {
            int len = (int) Math.min(HASH_BLOCK_BYTES, total - at);
            storage.read(stagedStart(file) + at, block, 0, len);
            digest.update(block, 0, len);
            at += len;
        }
        digest.saveTo(header, record);
        flush();
        if (at < total) {
            return new Finish(at, total, null);
        }
        clearChunkTable(file);
        return new Finish(total, total, digest.digest());
    }

    private void requireNoChunks(File file) {
        if (chunksReceived(file) > 0) {
            throw new UserError("a parallel upload of " + file.label + " is under way: finish_" + file.label
                    + "_upload(total bytes) completes it, clear_" + file.label + "_bytes drops it");
        }
    }

    /** The number of chunks of a {@code total}-byte file; the total must fit the file's region. */
    private static int chunkCount(File file, long total) {
        if (total <= 0 || total > file.capacity()) {
            throw new UserError(file.label + " holds 1 to " + file.capacity() + " bytes, not " + total);
        }
        return (int) ((total + CHUNK_BYTES - 1) / CHUNK_BYTES);
    }

    private static int expectedLength(int id, int count, long total) {
        return id < count - 1 ? CHUNK_BYTES : (int) (total - (long) (count - 1) * CHUNK_BYTES);
    }

    private static int[] range(int count) {
        int[] ids = new int[count];
        for (int i = 0; i < count; i++) {
            ids[i] = i;
        }
        return ids;
    }

    /** A file's chunk table: the number of chunks received, then each chunk's length (0: not received). */
    private static long chunkTableAt(File file) {
        long at = CHUNK_TABLES_AT;
        for (File before : File.values()) {
            if (before == file) {
                return at;
            }
            at += 4 + 4L * before.maxChunks();
        }
        throw new IllegalArgumentException(file.name());
    }

    private int chunksReceived(File file) {
        return readInt(chunkTableAt(file));
    }

    private int chunkLength(File file, int id) {
        return readInt(chunkTableAt(file) + 4 + 4L * id);
    }

    private int[] chunkLengths(File file) {
        byte[] table = new byte[4 * file.maxChunks()];
        storage.read(chunkTableAt(file) + 4, table, 0, table.length);
        int[] lengths = new int[file.maxChunks()];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = getInt(table, 4 * i);
        }
        return lengths;
    }

    private void clearChunkTable(File file) {
        if (chunksReceived(file) > 0) {
            storage.write(chunkTableAt(file), new byte[4 + 4 * file.maxChunks()], 0, 4 + 4 * file.maxChunks());
        }
    }

    private int readInt(long at) {
        storage.read(at, word, 0, 4);
        return getInt(word, 0);
    }

    private void writeInt(long at, int value) {
        word[0] = (byte) (value >>> 24);
        word[1] = (byte) (value >>> 16);
        word[2] = (byte) (value >>> 8);
        word[3] = (byte) value;
        storage.write(at, word, 0, 4);
    }

    private static int getInt(byte[] bytes, int at) {
        return (bytes[at] & 0xff) << 24 | (bytes[at + 1] & 0xff) << 16 | (bytes[at + 2] & 0xff) << 8 | (bytes[at + 3] & 0xff);
    }

    /** Saves the usage policy and ledger (at most {@link #MAX_USAGE_BYTES}). */
    void saveUsage(byte[] usage) {
        if (usage.length > MAX_USAGE_BYTES) {
            throw new IllegalArgumentException("usage state of " + usage.length + " bytes");
        }
        byte[] out = new byte[4 + usage.length];
        out[0] = (byte) (usage.length >>> 24);
        out[1] = (byte) (usage.length >>> 16);
        out[2] = (byte) (usage.length >>> 8);
        out[3] = (byte) usage.length;
        System.arraycopy(usage, 0, out, 4, usage.length);
        storage.write(USAGE_AT, out, 0, out.length);
    }

    /** The saved usage, or an empty array when none was saved (or what is there cannot be a save). */
    byte[] loadUsage() {
        byte[] length = new byte[4];
        storage.read(USAGE_AT, length, 0, 4);
        int n = (length[0] & 0xff) << 24 | (length[1] & 0xff) << 16 | (length[2] & 0xff) << 8 | (length[3] & 0xff);
        if (n <= 0 || n > MAX_USAGE_BYTES) {
            return new byte[0];
        }
        byte[] usage = new byte[n];
        storage.read(USAGE_AT + 4, usage, 0, n);
        return usage;
    }

    boolean flag(int flag) {
        return (header[FLAGS_AT] & flag) != 0;
    }

    void setFlag(int flag, boolean on) {
        header[FLAGS_AT] = (byte) (on ? header[FLAGS_AT] | flag : header[FLAGS_AT] & ~flag);
        flush();
    }

    boolean isAuthorized(byte[] principal) {
        int count = header[AUTHORIZED_AT] & 0xff;
        for (int i = 0; i < count; i++) {
            if (slotEquals(AUTHORIZED_AT + 1 + i * PRINCIPAL_SLOT_BYTES, principal)) {
                return true;
            }
        }
        return false;
    }

    void authorize(byte[] principal) {
        if (isAuthorized(principal)) {
            return;
        }
        int count = header[AUTHORIZED_AT] & 0xff;
        if (count == MAX_AUTHORIZED) {
            throw new UserError("at most " + MAX_AUTHORIZED + " principals can be authorized");
        }
        int slot = AUTHORIZED_AT + 1 + count * PRINCIPAL_SLOT_BYTES;
        header[slot] = (byte) principal.length;
        System.arraycopy(principal, 0, header, slot + 1, principal.length);
        header[AUTHORIZED_AT] = (byte) (count + 1);
        flush();
    }

    /** Revokes an authorization; returns whether the principal was authorized. */
    boolean deauthorize(byte[] principal) {
        int count = header[AUTHORIZED_AT] & 0xff;
        for (int i = 0; i < count; i++) {
            int slot = AUTHORIZED_AT + 1 + i * PRINCIPAL_SLOT_BYTES;
            if (slotEquals(slot, principal)) {
                int last = AUTHORIZED_AT + 1 + (count - 1) * PRINCIPAL_SLOT_BYTES;
                System.arraycopy(header, last, header, slot, PRINCIPAL_SLOT_BYTES);
                Arrays.fill(header, last, last + PRINCIPAL_SLOT_BYTES, (byte) 0);
                header[AUTHORIZED_AT] = (byte) (count - 1);
                flush();
                return true;
            }
        }
        return false;
    }

    private boolean slotEquals(int slot, byte[] principal) {
        if ((header[slot] & 0xff) != principal.length) {
            return false;
        }
        for (int i = 0; i < principal.length; i++) {
            if (header[slot + 1 + i] != principal[i]) {
                return false;
            }
        }
        return true;
    }

    private static int recordAt(File file) {
        return FILES_AT + file.ordinal() * FILE_RECORD_BYTES;
    }

    /** The file's staged start (8 bytes), then the digest state of its set-up version. */
    private static int setUpRecordAt(File file) {
        return SETUP_AT + file.ordinal() * SETUP_RECORD_BYTES;
    }

    private long getLong(int at) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = v << 8 | (header[at + i] & 0xff);
        }
        return v;
    }

    private void putLong(int at, long v) {
        for (int i = 7; i >= 0; i--) {
            header[at + i] = (byte) v;
            v >>>= 8;
        }
    }

    private void flush() {
        storage.write(0, header, 0, HEADER_BYTES);
    }
}
