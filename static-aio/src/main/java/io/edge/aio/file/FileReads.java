package io.edge.aio.file;

import io.netty.buffer.ByteBuf;
import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.FileChannel;

/** Range checks and the blocking positional read that the engines share. */
final class FileReads {

    private FileReads() {
    }

    /** Rejects directories and ranges that are empty or reach outside the file as opened. */
    static void checkRange(OpenFile file, long offset, long length) {
        if (file.isDirectory()) {
            throw new IllegalArgumentException("a directory has no content");
        }
        if (offset < 0 || length < 1 || offset > file.size() - length) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " (expected: non-empty, within "
                    + file.size() + " bytes)");
        }
    }

    /**
     * Fills {@code buffer}'s writable bytes from {@code channel} at {@code offset} with positional reads.
     *
     * @throws EOFException if the file ends first (it shrank after it was opened)
     */
    static void readFully(FileChannel channel, ByteBuf buffer, long offset) throws IOException {
        long end = offset + buffer.writableBytes();
        long position = offset;
        while (buffer.isWritable()) {
            int n = buffer.writeBytes(channel, position, buffer.writableBytes());
            if (n < 0) {
                throw new EOFException("file shrank below " + end + " bytes while being read");
            }
            position += n;
        }
    }
}
