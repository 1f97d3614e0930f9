package org.icgpt2.canister;

import org.icgpt2.ic.Api;
import org.icgpt2.ic.Entry;
import org.icgpt2.ic.StableMemory;
import org.icgpt2.ic.candid.CandidType;
import org.icgpt2.ic.candid.CandidWriter;
import org.teavm.interop.Address;
import org.teavm.interop.Export;
import org.teavm.interop.Import;

/**
 * A canister that exercises the ic layer (and later the Candid codec and the SIMD kernels) inside Wasm, for
 * tests that run target/test-canister.wasm. Unless noted, arguments and replies are raw little-endian bytes,
 * not Candid, so tests need no codec. Add a method: one more exported static method.
 */
public final class TestCanister {
    private TestCanister() {
    }

    /** Replies with the argument bytes unchanged. */
    @Export(name = "canister_update echo")
    public static void echo() {
        Entry.run(() -> Api.reply(Api.argData()));
    }

    /** Candid {@code () -> (text)}. */
    @Export(name = "canister_query hello")
    public static void hello() {
        Entry.run(() -> Api.reply(new CandidWriter(CandidType.TEXT).text("hello from the test canister").toBytes()));
    }

    /** Arg: u64 offset, then the bytes to store there (stable memory grows as needed). Reply: empty. */
    @Export(name = "canister_update stable_write")
    public static void stableWrite() {
        Entry.run(() -> {
            byte[] arg = Api.argData();
            long offset = readLong(arg, 0);
            StableMemory.ensureCapacity(offset + arg.length - 8);
            StableMemory.write(offset, arg, 8, arg.length - 8);
            Api.reply(new byte[0]);
        });
    }

    /** Arg: u64 offset, u32 length. Reply: those bytes of stable memory. */
    @Export(name = "canister_query stable_read")
    public static void stableRead() {
        Entry.run(() -> {
            byte[] arg = Api.argData();
            byte[] data = new byte[readInt(arg, 8)];
            StableMemory.read(readLong(arg, 0), data, 0, data.length);
            Api.reply(data);
        });
    }

    /**
     * Arg: u64 offset, u32 count. Reads count f32 straight into a float[] (at index 1, to test the offset),
     * then replies f32 sum followed by the floats re-encoded from the array.
     */
    @Export(name = "canister_query stable_read_floats")
    public static void stableReadFloats() {
        Entry.run(() -> {
            byte[] arg = Api.argData();
            int count = readInt(arg, 8);
            float[] values = new float[count + 1];
            StableMemory.readFloats(readLong(arg, 0), values, 1, count);
            float sum = 0;
            byte[] reply = new byte[4 + 4 * count];
            for (int i = 0; i < count; i++) {
                sum += values[i + 1];
                writeInt(reply, 4 + 4 * i, Float.floatToRawIntBits(values[i + 1]));
            }
            writeInt(reply, 0, Float.floatToRawIntBits(sum));
            Api.reply(reply);
        });
    }

    /** Reply: u64 stable memory size in pages. */
    @Export(name = "canister_query stable_size")
    public static void stableSize() {
        Entry.run(() -> Api.reply(longBytes(StableMemory.size())));
    }

    /** Reply: u64 instruction counter, u64 call-context instruction counter, u64 time. */
    @Export(name = "canister_query counters")
    public static void counters() {
        Entry.run(() -> {
            byte[] reply = new byte[24];
            System.arraycopy(longBytes(Api.instructionCounter()), 0, reply, 0, 8);
            System.arraycopy(longBytes(Api.callContextInstructionCounter()), 0, reply, 8, 8);
            System.arraycopy(longBytes(Api.time()), 0, reply, 16, 8);
            Api.reply(reply);
        });
    }

    /** Arg: principal bytes. Reply: 1 if it controls this canister, else 0. Then the caller's bytes. */
    @Export(name = "canister_query is_controller")
    public static void isController() {
        Entry.run(() -> {
            byte[] caller = Api.caller();
            byte[] reply = new byte[1 + caller.length];
            reply[0] = (byte) (Api.isController(Api.argData()) ? 1 : 0);
            System.arraycopy(caller, 0, reply, 1, caller.length);
            Api.reply(reply);
        });
    }

    /** Traps through ic0.trap with a fixed message. */
    @Export(name = "canister_update trap")
    public static void trap() {
        throw Api.trap("trap requested");
    }

    /** Throws a Java exception; Entry turns it into a trap carrying the exception's message. */
    @Export(name = "canister_update throw")
    public static void throwException() {
        Entry.run(() -> {
            throw new IllegalStateException("thrown on purpose");
        });
    }

    /** Arg: two f32 vectors of equal length, back to back. Reply: f32 dot product from the merged Wasm kernel. */
    @Export(name = "canister_query kernel_dot")
    public static void kernelDot() {
        Entry.run(() -> {
            byte[] arg = Api.argData();
            int n = arg.length / 8;
            float[] ab = new float[2 * n];
            for (int i = 0; i < 2 * n; i++) {
                ab[i] = Float.intBitsToFloat(readInt(arg, 4 * i));
            }
            float dot = dot(Address.ofData(ab).toInt(), Address.ofData(ab).add(4 * n).toInt(), n);
            byte[] reply = new byte[4];
            writeInt(reply, 0, Float.floatToRawIntBits(dot));
            Api.reply(reply);
        });
    }

    /** src/test/wat/test-kernels.wat, merged into this canister by the post-processing step. */
    @Import(module = "test_kernels", name = "dot")
    private static native float dot(int a, int b, int n);

    private static long readLong(byte[] b, int at) {
        return (readInt(b, at) & 0xFFFFFFFFL) | ((long) readInt(b, at + 4) << 32);
    }

    private static int readInt(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16 | (b[at + 3] & 0xFF) << 24;
    }

    private static void writeInt(byte[] b, int at, int value) {
        for (int i = 0; i < 4; i++) {
            b[at + i] = (byte) (value >>> (8 * i));
        }
    }

    private static byte[] longBytes(long value) {
        byte[] b = new byte[8];
        writeInt(b, 0, (int) value);
        writeInt(b, 4, (int) (value >>> 32));
        return b;
    }

    public static void main(String[] args) {
    }
}
