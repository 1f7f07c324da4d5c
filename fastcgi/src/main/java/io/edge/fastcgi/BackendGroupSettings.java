package io.edge.fastcgi;

import io.edge.fastcgi.tls.RevocationList;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A named group of FastCGI backend addresses sharing one wait queue.
 *
 * @param name            the group's name, as referenced by locations
 * @param addresses       "unix:/path/to.sock" or "host:port"
 * @param balance         how a free address is chosen
 * @param maxConnections  connections per address, summed over all event loops (= php-fpm pm.max_children)
 * @param queue           the bounded wait queue used when every connection slot is busy
 * @param timeouts        connect, read and write timeouts
 * @param keepAlive       reuse of backend connections
 * @param health          passive health checking
 * @param spawn           a php-fpm that edge starts and supervises, or {@code null}
 * @param responseBuffer  how much of a response its client is slow to take is held, so the backend is freed
 * @param awaitWorker     whether a slot is held past the answer until the backend's worker reads again (the
 *                        FCGI_GET_VALUES probe; see FcgiExchange), or freed at END_REQUEST as nginx does
 * @param tls             TLS to the backend (an HTTP group's {@code https://} backends), or {@code null}: plain
 */
public record BackendGroupSettings(
        String name,
        List<String> addresses,
        Balance balance,
        int maxConnections,
        Queue queue,
        Timeouts timeouts,
        KeepAlive keepAlive,
        Health health,
        Spawn spawn,
        ResponseBuffer responseBuffer,
        boolean awaitWorker,
        Tls tls) {

    public BackendGroupSettings {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(responseBuffer, "responseBuffer");
        addresses = List.copyOf(addresses);
    }

    /** A group without TLS to its backends. */
    public BackendGroupSettings(String name, List<String> addresses, Balance balance, int maxConnections, Queue queue,
                                Timeouts timeouts, KeepAlive keepAlive, Health health, Spawn spawn,
                                ResponseBuffer responseBuffer, boolean awaitWorker) {
        this(name, addresses, balance, maxConnections, queue, timeouts, keepAlive, health, spawn, responseBuffer,
                awaitWorker, null);
    }

    /** A group whose slots are held until the worker is free (await-worker's default). */
    public BackendGroupSettings(String name, List<String> addresses, Balance balance, int maxConnections, Queue queue,
                                Timeouts timeouts, KeepAlive keepAlive, Health health, Spawn spawn,
                                ResponseBuffer responseBuffer) {
        this(name, addresses, balance, maxConnections, queue, timeouts, keepAlive, health, spawn, responseBuffer, true);
    }

    /** The same group, its php-fpm spawned as {@code spawn} says. */
    public BackendGroupSettings withSpawn(Spawn spawn) {
        return new BackendGroupSettings(name, addresses, balance, maxConnections, queue, timeouts, keepAlive, health,
                spawn, responseBuffer, awaitWorker, tls);
    }

    /**
     * TLS on each connection to the backends, nginx's {@code proxy_pass https://} with its {@code proxy_ssl_*}
     * directives; the handshake is part of the connect.
     *
     * @param verify       check the backend's chain against {@code trusted} and its name against {@code name}
     *                     ({@code proxy_ssl_verify}, off by default as nginx's)
     * @param trusted      the CA certificates a chain must lead to ({@code proxy_ssl_trusted_certificate})
     * @param verifyDepth  how many certificates above the backend's may lead to a trusted one
     *                     ({@code proxy_ssl_verify_depth})
     * @param serverName   send {@code name} as SNI ({@code proxy_ssl_server_name})
     * @param name         the name checked and sent ({@code proxy_ssl_name}, by default the host of the group's first
     *                     address, nginx's {@code $proxy_host})
     * @param protocols    the TLS versions offered, JDK names ("TLSv1.2", "TLSv1.3")
     * @param sessionReuse resume TLS sessions on new connections ({@code proxy_ssl_session_reuse})
     * @param ciphers      the suites offered for TLSv1.2 and below, IANA's names ({@code proxy_ssl_ciphers}); empty:
     *                     the provider's own list
     * @param certificate  the certificate (then its intermediates) presented when a backend asks for one
     *                     ({@code proxy_ssl_certificate}); empty: none
     * @param key          its private key ({@code proxy_ssl_certificate_key}); null without a certificate
     * @param revocations  the CRLs a verified backend's chain is checked against ({@code proxy_ssl_crl}): where there
     *                     are any, every certificate of the chain must be on one of its issuer's and not revoked there
     */
    public record Tls(boolean verify, List<X509Certificate> trusted, int verifyDepth, boolean serverName, String name,
                      List<String> protocols, boolean sessionReuse, List<String> ciphers,
                      List<X509Certificate> certificate, PrivateKey key, List<RevocationList> revocations) {
        public Tls {
            trusted = List.copyOf(trusted);
            protocols = List.copyOf(protocols);
            ciphers = List.copyOf(ciphers);
            certificate = List.copyOf(certificate);
            revocations = List.copyOf(revocations);
            Objects.requireNonNull(name, "name");
            if (certificate.isEmpty() != (key == null)) {
                throw new IllegalArgumentException("a certificate without its key, or a key without its certificate");
            }
        }

        /** TLS without a client certificate, CRLs or a cipher list of its own. */
        public Tls(boolean verify, List<X509Certificate> trusted, int verifyDepth, boolean serverName, String name,
                   List<String> protocols, boolean sessionReuse) {
            this(verify, trusted, verifyDepth, serverName, name, protocols, sessionReuse, List.of(), List.of(), null,
                    List.of());
        }
    }

    /**
     * Response buffering (nginx's {@code fastcgi_buffering on}): the backend is read as fast as it sends, and what
     * the client cannot take yet is held, so the worker is free when the script ends.
     *
     * @param memory      bytes of one response held in memory (beyond the client connection's own send buffer)
     * @param maxTempFile bytes of one response held in a temporary file beyond that; past it, the backend is read
     *                    only as fast as the client takes (0: no temporary file)
     * @param enabled     false: nginx's {@code fastcgi_buffering off}, every answer unbuffered (held in memory alone,
     *                    not cached) as if its script sent {@code X-Accel-Buffering: no}, unless it sends {@code yes}
     * @param headSize    bytes a script's head (status and header lines) may take, read whole before its body; a
     *                    longer one is a 502 (nginx's {@code fastcgi_buffer_size}: "upstream sent too big header")
     */
    public record ResponseBuffer(int memory, long maxTempFile, boolean enabled, int headSize) {
        public ResponseBuffer {
            if (memory < 0 || maxTempFile < 0 || headSize <= 0) {
                throw new IllegalArgumentException("memory: " + memory + ", maxTempFile: " + maxTempFile
                        + ", headSize: " + headSize + " (expected: >= 0, a head size > 0)");
            }
        }

        /** A head of up to 32 KiB, reference.conf's response-buffer.head-size. */
        public ResponseBuffer(int memory, long maxTempFile, boolean enabled) {
            this(memory, maxTempFile, enabled, 32 * 1024);
        }

        /** Buffering on (the default, nginx's too). */
        public ResponseBuffer(int memory, long maxTempFile) {
            this(memory, maxTempFile, true);
        }
    }

    /** Address selection among those with a free slot. */
    public enum Balance { LEAST_CONNECTIONS, ROUND_ROBIN }

    /**
     * @param maxWaiters requests that may wait at once; one more gets 503 at once
     * @param timeout    how long a request may wait for a slot before 503 + Retry-After
     * @param retryAfter what that 503's Retry-After says, in whole seconds rounded up; zero leaves it out
     */
    public record Queue(int maxWaiters, Duration timeout, Duration retryAfter) {

        public Queue {
            if (retryAfter == null || retryAfter.isNegative()) {
                throw new IllegalArgumentException("retryAfter: " + retryAfter + " (expected: 0 or more)");
            }
        }

        /** {@link #retryAfter} in the whole seconds of an HTTP Retry-After, rounded up (500 ms says 1); 0: none. */
        public int retryAfterSeconds() {
            long seconds = retryAfter.getSeconds() + (retryAfter.getNano() > 0 ? 1 : 0);
            return (int) Math.min(Integer.MAX_VALUE, seconds);
        }
    }

    /** @param connect connect timeout; @param read time without backend data; @param write time without write progress */
    public record Timeouts(Duration connect, Duration read, Duration write) {
    }

    /**
     * @param enabled     send FCGI_KEEP_CONN and reuse connections
     * @param idleTimeout an idle pooled connection is closed after this
     * @param maxRequests a connection is closed after this many exchanges (0 = no limit)
     */
    public record KeepAlive(boolean enabled, Duration idleTimeout, int maxRequests) {
    }

    /**
     * The {@code request_terminate_timeout} a php-fpm serving this group needs: the read timeout, plus the idle timeout
     * when connections are kept. php-fpm starts a worker's clock when the worker begins to wait for its next request,
     * so on a kept connection the time it sat idle in edge's pool counts against the next script: with the read
     * timeout alone, a script sent over a connection idle for 50 s of 60 was killed 10 s in (502, or a GET run twice).
     * Edge closes a connection idle for the idle timeout, so a script gets at least the read timeout; and a hung
     * script is killed at most the idle timeout after edge gave up on it ({@link #lingerAfterTimeout}). A null part
     * (a setting that did not map) counts as zero.
     */
    public static Duration requestTerminateTimeout(Timeouts timeouts, KeepAlive keepAlive) {
        Duration read = timeouts == null || timeouts.read() == null ? Duration.ZERO : timeouts.read();
        return keepAlive != null && keepAlive.enabled() && keepAlive.idleTimeout() != null
                ? read.plus(keepAlive.idleTimeout()) : read;
    }

    /**
     * How long a worker may still run a script after edge closed its connection in a read timeout (php-fpm does not
     * stop a script when its connection closes): the read timeout; for a php-fpm edge spawns, the idle timeout of kept
     * connections if it is longer, since its {@link #requestTerminateTimeout} kills the script at most that long after.
     * (Another php-fpm's request_terminate_timeout edge does not know: the read timeout is the guess.) Zero without
     * timeouts.
     */
    public Duration lingerAfterTimeout() {
        if (timeouts == null || timeouts.read() == null) {
            return Duration.ZERO;
        }
        Duration idle = spawn != null && keepAlive != null && keepAlive.enabled() && keepAlive.idleTimeout() != null
                ? keepAlive.idleTimeout() : Duration.ZERO;
        return idle.compareTo(timeouts.read()) > 0 ? idle : timeouts.read();
    }

    /** @param maxFails consecutive failures that take an address out; @param failTimeout for how long */
    public record Health(int maxFails, Duration failTimeout) {
    }

    /**
     * A php-fpm started by edge, with a pool config it writes (socket in the run directory).
     *
     * @param command  the php-fpm binary
     * @param workers  pm.max_children (also the group's max-connections)
     * @param extraIni extra php.ini lines (php_admin_value style "key = value")
     * @param runDir   where the pool config, pid file, socket and php-fpm's log go
     * @param runDirTemporary whether {@code runDir} is in the temporary directory edge removes when it stops
     *                 ({@code server.run-dir = ""}): a failed start then quotes the log instead of naming it
     * @param requestTerminateTimeout php-fpm's {@code request_terminate_timeout} ({@link #requestTerminateTimeout}):
     *                 after it php-fpm kills a worker still running its script; zero for none (php-fpm's default)
     * @param user     the account php-fpm's workers run as when edge runs as root (the pool's {@code user}), or null:
     *                 as edge
     * @param group    their group, or null: the user's own
     * @param maxBody  the largest request body edge passes to the pool, bytes (the largest body limit of the locations
     *                 it serves; 0: no limit), written as its {@code post_max_size} and {@code upload_max_filesize}
     *                 where {@code extraIni} does not set them, so that PHP takes what edge took (with PHP's defaults,
     *                 8M and 2M, a 10 MB upload edge accepted reached the script as an empty form);
     *                 {@link #PHP_DEFAULT_MAX_BODY}: PHP's own settings
     */
    public record Spawn(Path command, int workers, List<String> extraIni, Path runDir, boolean runDirTemporary,
            Duration requestTerminateTimeout, String user, String group, long maxBody) {

        /** {@link #maxBody}: leave PHP's {@code post_max_size} and {@code upload_max_filesize} as its php.ini has them. */
        public static final long PHP_DEFAULT_MAX_BODY = -1;

        /** What php-fpm takes as a {@code php_admin_value} key. */
        private static final Pattern INI_KEY = Pattern.compile("[A-Za-z0-9_.]+");

        /** The socket php-fpm listens on, in its run directory. */
        public static final String SOCKET_NAME = "php-fpm.sock";
        /**
         * The longest socket path edge can probe a spawned php-fpm by: the JDK's Unix sockets take 106 bytes
         * (sun_path's 108 less two; Netty, which connects to it, takes 107).
         */
        public static final int MAX_SOCKET_PATH_BYTES = 106;
        /**
         * What a reload may add to the run directory's name ({@code .N}, N from 2 up to 99: the run directory of a
         * php-fpm started while a generation still draining holds the configured one), and so what the configuration
         * check keeps free of {@link #MAX_SOCKET_PATH_BYTES}.
         */
        public static final int RELOAD_SUFFIX_BYTES = 3;

        /** How many of {@link #MAX_SOCKET_PATH_BYTES} a socket path takes: its UTF-8 bytes, as the kernel counts. */
        public static int socketPathBytes(Path socket) {
            return socket.toString().getBytes(StandardCharsets.UTF_8).length;
        }

        public Spawn {
            extraIni = List.copyOf(extraIni);
            requestTerminateTimeout = requestTerminateTimeout == null ? Duration.ZERO : requestTerminateTimeout;
        }

        /** Where php-fpm listens: {@link #SOCKET_NAME} in {@link #runDir}. */
        public Path socketPath() {
            return runDir.resolve(SOCKET_NAME);
        }

        /** The same spawn, its run directory {@code dir}. */
        public Spawn inRunDir(Path dir) {
            return new Spawn(command, workers, extraIni, dir, runDirTemporary, requestTerminateTimeout, user, group,
                    maxBody);
        }

        /** The same spawn, passed bodies of at most {@code bytes} (0: no limit). */
        public Spawn withMaxBody(long bytes) {
            return new Spawn(command, workers, extraIni, runDir, runDirTemporary, requestTerminateTimeout, user, group,
                    bytes);
        }

        /** Workers that run as {@code user}, PHP's own body limits. */
        public Spawn(Path command, int workers, List<String> extraIni, Path runDir, boolean runDirTemporary,
                Duration requestTerminateTimeout, String user, String group) {
            this(command, workers, extraIni, runDir, runDirTemporary, requestTerminateTimeout, user, group,
                    PHP_DEFAULT_MAX_BODY);
        }

        /** Workers that run as edge does. */
        public Spawn(Path command, int workers, List<String> extraIni, Path runDir, boolean runDirTemporary,
                Duration requestTerminateTimeout) {
            this(command, workers, extraIni, runDir, runDirTemporary, requestTerminateTimeout, null, null);
        }

        /** What {@code user} and {@code group} may be: they go into php-fpm.conf. */
        public static final Pattern ACCOUNT_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]*");

        /** Without a {@code request_terminate_timeout}: php-fpm lets a script run as long as it likes. */
        public Spawn(Path command, int workers, List<String> extraIni, Path runDir, boolean runDirTemporary) {
            this(command, workers, extraIni, runDir, runDirTemporary, Duration.ZERO);
        }

        /** What {@link #iniPathProblem} wants, for a message. */
        public static final String INI_PATH_EXPECTED =
                "a path without '\"', '$' or control characters (it goes into php-fpm.conf)";

        /**
         * The one rule for a path written into the pool config ({@code command}, {@code runDir}), applied where
         * the configuration is checked and again where the pool config is written: it goes there in double
         * quotes, and php-fpm expands {@code ${...}} in values, so it holds no {@code "}, {@code $} or control
         * character.
         *
         * @return {@code null} when {@code path} is fine, else what is wrong with it
         */
        public static String iniPathProblem(String path) {
            for (int i = 0; i < path.length(); i++) {
                char c = path.charAt(i);
                if (c == '"' || c == '$') {
                    return "contains '" + c + "'";
                }
                if (Character.isISOControl(c)) {
                    return String.format(Locale.ROOT, "contains a control character (U+%04X)", (int) c);
                }
            }
            return null;
        }

        /**
         * The one rule for an {@code extraIni} line, applied where the configuration is checked and again where
         * the pool config is written: blank (ignored), or {@code key = value} with a key of {@code [A-Za-z0-9_.]}
         * and a value on one line.
         *
         * @return {@code null} when {@code line} is fine, else what is wrong with it
         */
        public static String iniLineProblem(String line) {
            if (line.isBlank()) {
                return null;
            }
            int eq = line.indexOf('=');
            if (eq < 0) {
                return "has no \"=\"";
            }
            String key = iniKey(line);
            if (!INI_KEY.matcher(key).matches()) {
                return key.isEmpty() ? "has no key before \"=\"" : "key \"" + key + "\" is not of [A-Za-z0-9_.]";
            }
            String value = line.substring(eq + 1).strip();
            if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0 || value.indexOf('\0') >= 0) {
                return "value of " + key + " spans lines";
            }
            return null;
        }

        /** The key of an {@code extraIni} line: what stands before its first "=", stripped; "" without one. */
        public static String iniKey(String line) {
            int eq = line.indexOf('=');
            return eq < 0 ? "" : line.substring(0, eq).strip();
        }
    }
}
