package io.edge.fastcgi;

/**
 * What a backend sends, made safe for one log line. A script's messages and headers carry what its users sent: a
 * carriage return or a terminal's escape sequence, logged raw, could hide what precedes it on the line or drive the
 * terminal that shows the log.
 */
public final class LogText {

    private LogText() {
    }

    /**
     * {@code bytes}, what a client sent one byte per character (a request line, a header: ISO-8859-1), with each
     * control character and each byte above ASCII written as {@code \xNN}: UTF-8 a client sent raw ({@code caf\xc3\xa9})
     * is then written as the bytes it is, not as the characters each byte reads as in Latin-1 ({@code cafÃ©}).
     */
    public static String escapeBytes(String bytes) {
        return escape(bytes, true);
    }

    /** {@code text} with each control character (C0 but tab, DEL, C1) written as {@code \xNN}. */
    public static String escapeControls(String text) {
        return escape(text, false);
    }

    private static String escape(String text, boolean aboveAscii) {
        StringBuilder escaped = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean escape = c != '\t' && (Character.isISOControl(c) || aboveAscii && c > 0x7f);
            if (escape && escaped == null) {
                escaped = new StringBuilder(text.length() + 8).append(text, 0, i);
            }
            if (escape) {
                escaped.append(String.format("\\x%02x", (int) c));
            } else if (escaped != null) {
                escaped.append(c);
            }
        }
        return escaped == null ? text : escaped.toString();
    }
}
