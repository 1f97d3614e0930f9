package org.icgpt2.ic;

import org.teavm.interop.Import;

/**
 * The IC System API imports this project uses, with the exact Wasm signatures of platform/ic0-imports.json
 * (checked by Ic0ImportsTest; wasm32: pointers and sizes are i32, stable64_* and counters i64). Pointers are
 * linear-memory addresses: take them with {@code Address.ofData(array).toInt()} right before the call, never
 * earlier, because TeaVM's GC may move arrays at any allocation. Prefer {@link Api} and {@link StableMemory}.
 */
public final class Ic0 {
    private Ic0() {
    }

    @Import(module = "ic0", name = "msg_arg_data_size")
    public static native int msgArgDataSize();

    @Import(module = "ic0", name = "msg_arg_data_copy")
    public static native void msgArgDataCopy(int dst, int offset, int size);

    @Import(module = "ic0", name = "msg_caller_size")
    public static native int msgCallerSize();

    @Import(module = "ic0", name = "msg_caller_copy")
    public static native void msgCallerCopy(int dst, int offset, int size);

    @Import(module = "ic0", name = "msg_reply_data_append")
    public static native void msgReplyDataAppend(int src, int size);

    @Import(module = "ic0", name = "msg_reply")
    public static native void msgReply();

    @Import(module = "ic0", name = "msg_method_name_size")
    public static native int msgMethodNameSize();

    @Import(module = "ic0", name = "msg_method_name_copy")
    public static native void msgMethodNameCopy(int dst, int offset, int size);

    @Import(module = "ic0", name = "accept_message")
    public static native void acceptMessage();

    @Import(module = "ic0", name = "time")
    public static native long time();

    @Import(module = "ic0", name = "performance_counter")
    public static native long performanceCounter(int counterType);

    @Import(module = "ic0", name = "is_controller")
    public static native int isController(int src, int size);

    @Import(module = "ic0", name = "debug_print")
    public static native void debugPrint(int src, int size);

    @Import(module = "ic0", name = "trap")
    public static native void trap(int src, int size);

    @Import(module = "ic0", name = "stable64_size")
    public static native long stable64Size();

    @Import(module = "ic0", name = "stable64_grow")
    public static native long stable64Grow(long newPages);

    @Import(module = "ic0", name = "stable64_write")
    public static native void stable64Write(long offset, long src, long size);

    @Import(module = "ic0", name = "stable64_read")
    public static native void stable64Read(long dst, long offset, long size);
}
