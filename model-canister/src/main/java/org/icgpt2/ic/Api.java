package org.icgpt2.ic;

import java.nio.charset.StandardCharsets;
import org.teavm.interop.Address;

/**
 * The System API as plain Java: byte arrays, strings and longs instead of pointers (the counterpart of
 * ic-cdk's {@code api} module). Every address is taken right before its ic0 call, because TeaVM's GC may
 * move arrays at any allocation.
 */
public final class Api {
    private Api() {
    }

    /** The raw argument bytes of the current message (Candid for ordinary calls). */
    public static byte[] argData() {
        return copyBlob(Ic0.msgArgDataSize(), Ic0::msgArgDataCopy);
    }

    /** Replies with {@code data} (appended in one go) and ends the reply. Call at most once per message. */
    public static void reply(byte[] data) {
        Ic0.msgReplyDataAppend(Address.ofData(data).toInt(), data.length);
        Ic0.msgReply();
    }

    /** The caller's principal as raw bytes. */
    public static byte[] caller() {
        return copyBlob(Ic0.msgCallerSize(), Ic0::msgCallerCopy);
    }

    public static boolean isController(byte[] principal) {
        return Ic0.isController(Address.ofData(principal).toInt(), principal.length) != 0;
    }

    /** Nanoseconds since 1970-01-01; constant within one message execution. */
    public static long time() {
        return Ic0.time();
    }

    /** Wasm instructions executed by the current message execution so far ({@code performance_counter(0)}). */
    public static long instructionCounter() {
        return Ic0.performanceCounter(0);
    }

    /** The method name of the ingress message being inspected (only inside {@code canister_inspect_message}). */
    public static String methodName() {
        return new String(copyBlob(Ic0.msgMethodNameSize(), Ic0::msgMethodNameCopy), StandardCharsets.UTF_8);
    }

    /** Accepts the ingress message (only inside {@code canister_inspect_message}, at most once). */
    public static void acceptMessage() {
        Ic0.acceptMessage();
    }

    /** Writes a line to the canister's debug log (replica log / dfx output); never traps. */
    public static void print(String message) {
        byte[] utf8 = message.getBytes(StandardCharsets.UTF_8);
        Ic0.debugPrint(Address.ofData(utf8).toInt(), utf8.length);
    }

    /**
     * Traps with {@code message}: the message's state changes are rolled back and the caller sees the text.
     * Never returns; the return type lets callers write {@code throw Api.trap(...)} to tell the compiler so.
     */
    public static RuntimeException trap(String message) {
        byte[] utf8 = message.getBytes(StandardCharsets.UTF_8);
        Ic0.trap(Address.ofData(utf8).toInt(), utf8.length);
        return new IllegalStateException("ic0.trap returned");
    }

    @FunctionalInterface
    private interface BlobCopy {
        void copy(int dst, int offset, int size);
    }

    /** The IC's blob idiom: learn the size, allocate, then copy into the array. */
    private static byte[] copyBlob(int size, BlobCopy copy) {
        byte[] blob = new byte[size];
        copy.copy(Address.ofData(blob).toInt(), 0, size);
        return blob;
    }
}
