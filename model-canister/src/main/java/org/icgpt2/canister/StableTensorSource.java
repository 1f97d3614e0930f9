package org.icgpt2.canister;

import org.icgpt2.gpt2.TensorSource;

/** An uploaded file read in place from stable memory: tensors are copied straight into their float arrays. */
final class StableTensorSource implements TensorSource {
    private final UploadStore.Files store;
    private final UploadStore.File file;
    private final long size;

    StableTensorSource(UploadStore.Files store, UploadStore.File file) {
        this.store = store;
        this.file = file;
        this.size = store.length(file);
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void readBytes(long offset, byte[] dst, int dstOff, int len) {
        store.read(file, offset, dst, dstOff, len);
    }

    @Override
    public void readFloats(long offset, float[] dst, int dstOff, int count) {
        store.readFloats(file, offset, dst, dstOff, count);
    }
}
