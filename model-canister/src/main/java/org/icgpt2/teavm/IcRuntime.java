package org.icgpt2.teavm;

import org.icgpt2.ic.Ic0;
import org.teavm.backend.wasm.WasmHeap;
import org.teavm.interop.Address;
import org.teavm.interop.Unmanaged;

/**
 * IC implementations of the host functions TeaVM's runtime imports ({@code teavm.*}, {@code teavmMath.*}),
 * with the names and descriptors of the methods they replace in {@code WasmSupport} and {@code System}
 * (see {@link IcRuntimeTransformer}). Output goes to {@code ic0.debug_print}, time comes from {@code ic0.time}.
 * The printing methods run while the runtime is reporting a failure (uncaught exception, out of memory),
 * so they are {@code @Unmanaged} and must not allocate: they stage bytes in TeaVM's scratch buffer.
 * After such a report TeaVM executes {@code unreachable}, which traps the message.
 * No static initializer allowed (see {@link IcMath}).
 */
public final class IcRuntime {
    private IcRuntime() {
    }

    /** {@code System.out}: bytes already encoded by the PrintStream. */
    @Unmanaged
    public static void putCharsStdout(Address address, int count) {
        Ic0.debugPrint(address.toInt(), count);
    }

    /** {@code System.err}. */
    @Unmanaged
    public static void putCharsStderr(Address address, int count) {
        Ic0.debugPrint(address.toInt(), count);
    }

    /** TeaVM's runtime messages (uncaught exception, stack trace lines), UTF-8 encoded in chunks. */
    @Unmanaged
    public static void printString(String s) {
        Address buffer = WasmHeap.buffer;
        int capacity = WasmHeap.bufferSize - 3;
        int used = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                buffer.add(used++).putByte((byte) c);
            } else if (c < 0x800) {
                buffer.add(used++).putByte((byte) (0xC0 | (c >> 6)));
                buffer.add(used++).putByte((byte) (0x80 | (c & 0x3F)));
            } else {
                buffer.add(used++).putByte((byte) (0xE0 | (c >> 12)));
                buffer.add(used++).putByte((byte) (0x80 | ((c >> 6) & 0x3F)));
                buffer.add(used++).putByte((byte) (0x80 | (c & 0x3F)));
            }
            if (used >= capacity) {
                Ic0.debugPrint(buffer.toInt(), used);
                used = 0;
            }
        }
        if (used > 0) {
            Ic0.debugPrint(buffer.toInt(), used);
        }
    }

    @Unmanaged
    public static void printInt(int value) {
        Address end = WasmHeap.buffer.add(WasmHeap.bufferSize);
        Address start = end;
        long magnitude = Math.abs((long) value);
        do {
            start = start.add(-1);
            start.putByte((byte) ('0' + magnitude % 10));
            magnitude /= 10;
        } while (magnitude > 0);
        if (value < 0) {
            start = start.add(-1);
            start.putByte((byte) '-');
        }
        Ic0.debugPrint(start.toInt(), end.toInt() - start.toInt());
    }

    @Unmanaged
    public static void printOutOfMemory() {
        printString("Out of memory");
    }

    /** {@code System.currentTimeMillis}: the IC's block time (constant within one message). */
    public static double currentTimeMillisImpl() {
        return Ic0.time() / 1_000_000.0;
    }

    /** {@code System.nanoTime} (TeaVM expects milliseconds here): the IC block time, constant within a message. */
    public static double nanoTimeWasm() {
        return Ic0.time() / 1_000_000.0;
    }

    /** {@code Math.pow}. */
    public static double pow(double x, double y) {
        return IcMath.pow(x, y);
    }
}
