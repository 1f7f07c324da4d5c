package io.edge.fastcgi;

/**
 * What a backend sends, made safe for one log line. A script's messages and headers carry what its users sent: a
 * carriage return or a terminal's escape sequence, logged raw, could hide what precedes it on the line or drive the
 * terminal that shows the log.
 */
public final class LogText {

    private LogText() {
    }

    /** {@code text} with each control character (C0 but tab, DEL, C1) written as {@code \xNN}. */
    public static String escapeControls(String text) {
        StringBuilder escaped = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean control = c != '\t' && Character.isISOControl(c);
            if (control && escaped == null) {
                escaped = new StringBuilder(text.length() + 8).append(text, 0, i);
            }
            if (control) {
                escaped.append(String.format("\\x%02x", (int) c));
            } else if (escaped != null) {
                escaped.append(c);
            }
        }
        return escaped == null ? text : escaped.toString();
    }
}
