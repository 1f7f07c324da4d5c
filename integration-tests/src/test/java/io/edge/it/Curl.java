package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

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

    /**
     * What curl with {@code args} writes to its standard output (bytes as ISO-8859-1 chars: a binary body kept byte
     * for byte), once it has exited 0.
     */
    static String output(String... args) throws Exception {
        Process curl = new ProcessBuilder(command(args)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] out = curl.getInputStream().readAllBytes();
        assertThat(curl.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(curl.exitValue()).as(new String(out, StandardCharsets.ISO_8859_1)).isZero();
        return new String(out, StandardCharsets.ISO_8859_1);
    }
}
