package org.icgpt2.jvm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.icgpt2.gpt2.TensorSource;

/** A {@link TensorSource} reading a file on demand, so a 500 MB model is never held in the heap twice. */
public final class FileTensorSource implements TensorSource, AutoCloseable {
    private final FileChannel channel;
    private final long size;

    public FileTensorSource(Path path) throws IOException {
        channel = FileChannel.open(path, StandardOpenOption.READ);
        size = channel.size();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void readBytes(long offset, byte[] dst, int dstOff, int len) {
        read(offset, ByteBuffer.wrap(dst, dstOff, len));
    }

    @Override
    public void readFloats(long offset, float[] dst, int dstOff, int count) {
        ByteBuffer buffer = ByteBuffer.allocate(4 * count).order(ByteOrder.LITTLE_ENDIAN);
        read(offset, buffer);
        buffer.flip();
        buffer.asFloatBuffer().get(dst, dstOff, count);
    }

    private void read(long offset, ByteBuffer buffer) {
        try {
            long position = offset;
            while (buffer.hasRemaining()) {
                int n = channel.read(buffer, position);
                if (n < 0) {
                    throw new IOException("unexpected end of file at " + position);
                }
                position += n;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
