package io.edge.conf;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Finds bytes in a configuration file that are not UTF-8. HOCON files are UTF-8, and Typesafe reads any other byte
 * as U+FFFD without a word: a Latin-1 {@code café} in a root or a server name became another name, reported (if at
 * all) as a directory that does not exist.
 */
final class Utf8Check {

    private static final String EXPECTED = "a file in UTF-8";

    private Utf8Check() {
    }

    /**
     * The first sequence of {@code file}'s {@code bytes} that is not UTF-8, as a problem at its line; {@code null} when
     * they are all UTF-8.
     */
    static ConfigProblem problem(Path file, byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(4096);
        while (true) {
            CoderResult result = decoder.decode(in, out, true);
            if (result.isError()) {
                int offset = in.position(); // the decoder stops before the bad sequence
                StringBuilder sequence = new StringBuilder();
                for (int i = offset; i < offset + result.length(); i++) {
                    sequence.append(sequence.length() == 0 ? "" : " ").append(String.format("0x%02X", bytes[i] & 0xff));
                }
                return new ConfigProblem(file, lineAt(bytes, offset), null,
                        "not UTF-8 at byte offset " + offset + " (" + sequence + ")", EXPECTED);
            }
            if (result.isUnderflow()) {
                return null;
            }
            out.clear(); // overflow: only the errors matter, not the text
        }
    }

    /** The 1-based line holding byte {@code offset}: lines end at {@code \n}, as HOCON counts them. */
    private static int lineAt(byte[] bytes, int offset) {
        int line = 1;
        for (int i = 0; i < offset; i++) {
            if (bytes[i] == '\n') {
                line++;
            }
        }
        return line;
    }
}
