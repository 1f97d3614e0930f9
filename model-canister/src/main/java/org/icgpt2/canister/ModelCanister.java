package org.icgpt2.canister;

import org.teavm.interop.Address;
import org.teavm.interop.Export;
import org.teavm.interop.Import;

public final class ModelCanister {
    @Import(module = "ic0", name = "msg_arg_data_size") static native int argSize();
    @Import(module = "ic0", name = "msg_arg_data_copy") static native void argCopy(int dst, int off, int size);
    @Import(module = "ic0", name = "msg_reply_data_append") static native void replyAppend(int src, int size);
    @Import(module = "ic0", name = "msg_reply") static native void reply();

    @Export(name = "canister_update echo")
    public static void echo() {
        int n = argSize();
        byte[] buf = new byte[n];
        argCopy(Address.ofData(buf).toInt(), 0, n);
        replyAppend(Address.ofData(buf).toInt(), n);
        reply();
    }

    public static void main(String[] args) {
    }
}
