package io.edge.it;

import java.util.ArrayList;
import java.util.List;

/** The curl command line of the tests that run curl: the machine's curl settings left out. */
final class Curl {

    private Curl() {
    }

    /**
     * curl with {@code args}, silent but for errors, reading no ~/.curlrc ({@code -q}, which must come first) and going
     * through no proxy whatever http_proxy, https_proxy or all_proxy the build's environment has (curl sends a request
     * to 127.0.0.1 through them as well). A list the caller may add to.
     */
    static List<String> command(String... args) {
        List<String> command = new ArrayList<>(List.of("curl", "-q", "--noproxy", "*", "-sS"));
        command.addAll(List.of(args));
        return command;
    }
}
