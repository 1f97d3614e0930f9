package org.icgpt2.canister;

import java.util.Arrays;
import org.icgpt2.ic.StableStorage;
import org.icgpt2.ic.UserError;

/**
 * The canister's stable memory: a small header, then one fixed region per uploaded file. Uploaded bytes go
 * straight into their region (no copy in the heap), so an upgrade, or an upload interrupted halfway, loses
 * nothing. The header holds each file's length and running SHA-256, the set-up flags, the authorized
 * principals, and for each file the length and SHA-256 of the version last set up.
 *
 * <pre>
 * [0, 4 KiB)          header
 * [4 KiB, 64 KiB)     usage policy and ledger (length-prefixed)
 * [64 KiB, 1 MiB)     config.json
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
        CONFIG("config", 64L << 10, 1L << 20),
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
    }

    static final int MAX_AUTHORIZED = 64;
    private static final long USAGE_AT = 4096;
    /** The most bytes of saved usage: a length, then the bytes, before config.json's region. */
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
