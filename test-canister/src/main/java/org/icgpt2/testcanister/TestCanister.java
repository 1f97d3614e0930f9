package org.icgpt2.testcanister;

import org.icgpt2.ic.Api;
import org.icgpt2.ic.Entry;
import org.icgpt2.ic.Ic0;
import org.icgpt2.ic.StableMemory;
import org.icgpt2.gpt2.JavaKernels;
import org.icgpt2.gpt2.Kernels;
import org.icgpt2.gpt2.QuantizedActivations;
import org.icgpt2.ic.SimdKernels;
import org.icgpt2.ic.candid.CandidReader;
import org.icgpt2.ic.candid.CandidType;
import org.icgpt2.ic.candid.CandidWriter;
import org.teavm.interop.Address;
import org.teavm.interop.Export;
import org.teavm.interop.Import;

/**
 * A canister that exercises the ic layer (and later the Candid codec and the SIMD kernels) inside Wasm, for
 * tests that run test-canister/target/test-canister.wasm. Unless noted, arguments and replies are raw little-endian bytes,
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
            System.arraycopy(longBytes(Ic0.performanceCounter(1)), 0, reply, 8, 8);
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

    /**
     * Candid: decodes any argument tuple with its own types (our codec, inside Wasm) and replies with it re-encoded,
     * so a test can check a rich value survives the round trip byte for byte.
     */
    @Export(name = "canister_update candid_echo")
    public static void candidEcho() {
        Entry.run(() -> {
            CandidReader in = new CandidReader(Api.argData());
            CandidType[] types = new CandidType[in.argCount()];
            Object[] values = new Object[types.length];
            for (int i = 0; i < types.length; i++) {
                types[i] = in.argType(i);
                values[i] = in.value(types[i]);
            }
            in.end();
            CandidWriter out = new CandidWriter(types);
            for (int i = 0; i < types.length; i++) {
                out.value(types[i], values[i]);
            }
            Api.reply(out.toBytes());
        });
    }

    /**
     * Runs every kernel twice on the same seeded random data, with the merged SIMD kernels and with the plain Java
     * ones, and replies with the largest difference of each (f32 x4: matmul, weighted row sum, transpose, int8
     * matmul), relative to the largest |output|. Arg: u32 seed, rows, n, batch, offset (floats before each operand).
     */
    @Export(name = "canister_query kernels_vs_java")
    public static void kernelsVsJava() {
        Entry.run(() -> {
            byte[] arg = Api.argData();
            SplitMix random = new SplitMix(readInt(arg, 0));
            int rows = readInt(arg, 4);
            int n = readInt(arg, 8);
            int batch = readInt(arg, 12);
            int off = readInt(arg, 16);
            Kernels simd = new SimdKernels();
            Kernels java = new JavaKernels();
            float[] m = randomFloats(random, off + rows * n);
            float[] x = randomFloats(random, off + batch * n);
            float[] p = randomFloats(random, off + rows);
            int outLength = off + batch * rows;
            float[] a = new float[outLength];
            float[] b = new float[outLength];
            simd.matmul(a, off, rows, m, off, n, x, off, n, rows, n, batch);
            java.matmul(b, off, rows, m, off, n, x, off, n, rows, n, batch);
            float matmul = relativeDifference(a, b);
            a = new float[off + n];
            b = new float[off + n];
            simd.weightedRowSum(a, off, p, off, m, off, n, rows, n);
            java.weightedRowSum(b, off, p, off, m, off, n, rows, n);
            float weighted = relativeDifference(a, b);
            a = new float[off + rows * n];
            b = new float[off + rows * n];
            simd.transpose(a, off, m, off, rows, n);
            java.transpose(b, off, m, off, rows, n);
            float transpose = relativeDifference(a, b);
            byte[] q = new byte[off + rows * n];
            for (int i = 0; i < q.length; i++) {
                q[i] = (byte) (random.nextInt(255) - 127);
            }
            short[] xq = new short[off + batch * n];
            int limit = QuantizedActivations.limit(n);
            for (int i = 0; i < xq.length; i++) {
                xq[i] = (short) (random.nextInt(2 * limit + 1) - limit);
            }
            float[] scales = randomFloats(random, off + rows);
            float[] xScales = randomFloats(random, off + batch);
            a = new float[outLength];
            b = new float[outLength];
            simd.matmulQ8(a, off, rows, q, off, n, scales, off, xq, off, n, xScales, off, rows, n, batch);
            java.matmulQ8(b, off, rows, q, off, n, scales, off, xq, off, n, xScales, off, rows, n, batch);
            float q8 = relativeDifference(a, b);
            byte[] reply = new byte[16];
            writeInt(reply, 0, Float.floatToRawIntBits(matmul));
            writeInt(reply, 4, Float.floatToRawIntBits(weighted));
            writeInt(reply, 8, Float.floatToRawIntBits(transpose));
            writeInt(reply, 12, Float.floatToRawIntBits(q8));
            Api.reply(reply);
        });
    }

    /** Seeded random numbers (TeaVM's java.util.Random ignores its seed and imports Math.random). */
    private static final class SplitMix {
        private long state;

        SplitMix(long seed) {
            state = seed;
        }

        long next() {
            long z = (state += 0x9E3779B97F4A7C15L);
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }

        /** Uniform in [0, bound). */
        int nextInt(int bound) {
            return (int) ((next() >>> 33) % bound);
        }

        /** Uniform in [0, 1). */
        float nextFloat() {
            return (next() >>> 40) / (float) (1 << 24);
        }
    }

    private static float[] randomFloats(SplitMix random, int length) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = random.nextFloat() * 2 - 1;
        }
        return values;
    }

    /** max |a - b| / max |b| (0 when both are all zero). */
    private static float relativeDifference(float[] a, float[] b) {
        float difference = 0;
        float scale = 0;
        for (int i = 0; i < a.length; i++) {
            float d = Math.abs(a[i] - b[i]);
            difference = d > difference ? d : difference;
            float v = Math.abs(b[i]);
            scale = v > scale ? v : scale;
        }
        return scale == 0 ? difference : difference / scale;
    }

    /** src/main/wat/test-kernels.wat, merged into this canister by the post-processing step. */
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
