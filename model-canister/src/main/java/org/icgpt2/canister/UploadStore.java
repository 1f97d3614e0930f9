package org.icgpt2.canister;

import org.icgpt2.ic.StableStorage;
import org.icgpt2.ic.UserError;

/**
 * The canister's stable memory: a small header, then one fixed region per uploaded file. Uploaded bytes go
 * straight into their region (no copy in the heap), so an upgrade, or an upload interrupted halfway, loses
 * nothing. The header holds each file's length and running SHA-256, the set-up flags and the authorized
 * principals.
 *
 * <pre>
 * [0, 4 KiB)          header
 * [64 KiB, 1 MiB)     config.json
 * [1 MiB, 32 MiB)     tokenizer.json
 * [32 MiB, 8 GiB)     model.safetensors
 * </pre>
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
    static final int MAX_PRINCIPAL_BYTES = 29;

    private static final byte[] MAGIC = {'G', 'P', 'T', '2', 'I', 'C', 'v', '1'};
    private static final int HEADER_BYTES = 4096;
    private static final int FLAGS_AT = 8;
    private static final int FILES_AT = 16;
    private static final int FILE_RECORD_BYTES = Sha256.STATE_BYTES;
    private static final int AUTHORIZED_AT = FILES_AT + 3 * FILE_RECORD_BYTES;
    private static final int PRINCIPAL_SLOT_BYTES = 1 + MAX_PRINCIPAL_BYTES;

    static final int FLAG_MODEL_SET_UP = 1;
    static final int FLAG_TOKENIZER_SET_UP = 2;
    /** The model was set up with int8 weights: post_upgrade reloads it so. */
    static final int FLAG_INT8 = 4;

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

    byte[] sha256(File file) {
        digest.loadFrom(header, recordAt(file));
        return digest.digest();
    }

    /** Appends {@code bytes} to the file's region, updating its length and digest. */
    void append(File file, byte[] bytes) {
        int record = recordAt(file);
        digest.loadFrom(header, record);
        long at = file.start + digest.length();
        if (digest.length() + bytes.length > file.capacity()) {
            throw new UserError(file.label + " is too large: at most " + file.capacity() + " bytes");
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

    void clear(File file) {
        digest.reset();
        digest.saveTo(header, recordAt(file));
        flush();
    }

    /** Reads {@code len} bytes of the file starting at {@code offset}; the caller checks the range. */
    void read(File file, long offset, byte[] dst, int dstOff, int len) {
        storage.read(file.start + offset, dst, dstOff, len);
    }

    /** Reads {@code count} raw little-endian floats of the file straight into {@code dst}. */
    void readFloats(File file, long offset, float[] dst, int dstOff, int count) {
        storage.readFloats(file.start + offset, dst, dstOff, count);
    }

    /** The whole file as one array (for the small files: config and tokenizer). */
    byte[] readAll(File file) {
        long length = length(file);
        byte[] bytes = new byte[(int) length];
        read(file, 0, bytes, 0, bytes.length);
        return bytes;
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

    private void flush() {
        storage.write(0, header, 0, HEADER_BYTES);
    }
}
