package io.edge.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The PHP scripts the FastCGI tests run; each says what it proves. */
final class PhpScripts {

    private PhpScripts() {
    }

    /**
     * Writes {@code stream.php} into {@code www}: a script streaming 40 MiB in 8 KiB lines, a millisecond apart, that
     * notes at its end in {@code ended} whether PHP saw its client go ({@code aborted=1}) and how many lines it wrote;
     * so a test tells, without a clock, that a client's leaving stopped it at its next output.
     */
    static void streamNotingItsEnd(Path www, Path ended) throws IOException {
        Files.writeString(www.resolve("stream.php"), """
                <?php
                register_shutdown_function(function () use (&$i) {
                    file_put_contents('%s', 'aborted=' . connection_aborted() . ' lines=' . $i);
                });
                header('Content-Type: text/plain');
                while (ob_get_level() > 0) { ob_end_flush(); }
                for ($i = 0; $i < 5000; $i++) { echo str_repeat('x', 8191), "\n"; flush(); usleep(1000); }
                """.formatted(ended));
    }

    /**
     * What a script wrote into {@code file} as it ended ({@link #streamNotingItsEnd}'s note), once it is there; fails
     * naming {@code what} when it never came. PHP creates the file before it writes into it: a test that read the file
     * as soon as it existed could read nothing.
     */
    static String noted(Path file, String what) throws Exception {
        return Awaits.until(() -> Files.exists(file) ? Files.readString(file) : "", note -> !note.isEmpty(), what);
    }

    /** Writes every script into {@code root} and returns it. */
    static Path install(Path root) throws IOException {
        Files.createDirectories(root.resolve("static"));
        Files.writeString(root.resolve("static/plain.txt"), "plain static file\n");
        Files.createDirectories(root.resolve("uploads"));
        Files.writeString(root.resolve("uploads/a.jpg"), "<?php echo 'a JPEG must never run';");
        // a location's fastcgi-params as PHP sees them (unset: "-")
        write(root, "params.php", """
                <?php
                header('Content-Type: text/plain');
                foreach (['HTTPS', 'REQUEST_SCHEME', 'SERVER_SOFTWARE', 'APP_ENV', 'APP_NAME', 'SCRIPT_NAME'] as $name) {
                    echo $name, '=', $_SERVER[$name] ?? '-', "\n";
                }
                """);
        write(root, "echo.php", """
                <?php
                header('Content-Type: text/plain');
                echo 'method=', $_SERVER['REQUEST_METHOD'], "\\n";
                echo 'query=', $_SERVER['QUERY_STRING'], "\\n";
                echo 'get=', json_encode($_GET), "\\n";
                echo 'script_name=', $_SERVER['SCRIPT_NAME'], "\\n";
                echo 'path_info=', $_SERVER['PATH_INFO'] ?? '', "\\n";
                echo 'path_info_hex=', bin2hex($_SERVER['PATH_INFO'] ?? ''), "\\n";
                echo 'request_uri=', $_SERVER['REQUEST_URI'], "\\n";
                echo 'cookies=', json_encode($_COOKIE), "\\n";
                echo 'http_proxy=', getenv('HTTP_PROXY') === false ? '' : getenv('HTTP_PROXY'), "\\n";
                echo 'x_forwarded_for=', $_SERVER['HTTP_X_FORWARDED_FOR'] ?? '', "\\n";
                echo 'content_length=', $_SERVER['CONTENT_LENGTH'] ?? '-', "\\n";
                echo 'protocol=', $_SERVER['SERVER_PROTOCOL'], "\\n";
                """);
        write(root, "hash.php", """
                <?php
                $ctx = hash_init('sha256');
                $in = fopen('php://input', 'rb');
                $n = 0;
                while (!feof($in)) { $chunk = fread($in, 65536); $n += strlen($chunk); hash_update($ctx, $chunk); }
                header('Content-Type: text/plain');
                echo $n, ' ', hash_final($ctx);
                """);
        write(root, "status404.php", """
                <?php
                header('Status: 404 Not Found');
                echo 'no such thing';
                """);
        write(root, "status.php", """
                <?php
                http_response_code((int)($_GET['s'] ?? 200));
                echo 'the script answered ', http_response_code();
                """);
        // One header line as the request's h says, whatever it is (PHP sends it on as written: a tab, an odd Status).
        write(root, "header.php", """
                <?php
                header($_GET['h']);
                echo 'the page';
                """);
        // Each of the request's h[] header lines, added (a Connection and the fields it names, hop-by-hop ones).
        write(root, "headers.php", """
                <?php
                foreach ((array) ($_GET['h'] ?? []) as $h) {
                    header($h, false);
                }
                echo 'the page';
                """);
        // Framing no client may see: a length that is no number, an interim status as the answer (both a 502).
        write(root, "badlength.php", """
                <?php
                header('Content-Length: ' . ($_GET['cl'] ?? 'abc'));
                echo 'HTTP/1.1 200 OK smuggled';
                """);
        write(root, "status100.php", """
                <?php
                header('Status: 100 Continue');
                echo 'HTTP/1.1 200 OK smuggled';
                """);
        write(root, "notype.php", """
                <?php
                header('Content-Type:');
                echo 'no media type';
                """);
        write(root, "redirect.php", """
                <?php
                header('Location: /echo.php?from=redirect');
                """);
        write(root, "big.php", """
                <?php
                $mib = (int)($_GET['mib'] ?? 1);
                header('Content-Type: application/octet-stream');
                for ($i = 0; $i < $mib; $i++) { echo str_repeat(chr(65 + $i % 26), 1048576); flush(); }
                """);
        write(root, "stderr.php", """
                <?php
                error_log('edge-stderr-marker ' . ($_GET['id'] ?? ''));
                echo 'logged';
                """);
        write(root, "count.php", """
                <?php
                $ms = (int)($_GET['sleep'] ?? 0);
                if ($ms > 0) { usleep($ms * 1000); }
                file_put_contents(__DIR__ . '/../count.txt', ($_GET['id'] ?? '-') . "\\n", FILE_APPEND | LOCK_EX);
                header('Content-Type: text/plain');
                echo 'counted ', $_GET['id'] ?? '-';
                """);
        // The response cache's tests: counts its runs per id in count.txt, headers chosen by the query;
        // hold=NAME (from run holdfrom on, default 1, to run holdto, default all) keeps the worker busy until the test
        // creates NAME (2 min at most); hold2=NAME holds so from run hold2from on (default 2), a second hold beside it;
        // failfrom=N answers 500 from the N-th run on; varyif=NAME sends Vary: NAME only to a request that has NAME;
        // location=URI answers 302 to it; age=N sends Age: N; etag=TAG sends ETag: TAG (and an If-None-Match it saw comes back);
        // lm=DATE sends Last-Modified: DATE; ar=UNITS
        // sends Accept-Ranges: UNITS (and a Range it saw comes back).
        write(root, "cache.php", """
                <?php
                $id = $_GET['id'] ?? '-';
                if (isset($_GET['together'])) {
                    // Marks this run as running, then waits (10 s at most) until X-Together runs of this id and
                    // X-Round are running or have run, and says whether they were: runs held one behind another
                    // never are. With `flush`, the head (no Cache-Control) goes out before the wait.
                    if (isset($_GET['flush'])) { echo "waiting\n"; while (ob_get_level() > 0) { ob_end_flush(); } flush(); }
                    $dir = __DIR__ . '/../together-' . basename($id) . '-' . basename($_SERVER['HTTP_X_ROUND'] ?? '0');
                    @mkdir($dir);
                    touch($dir . '/' . uniqid('', true));
                    $want = (int)($_SERVER['HTTP_X_TOGETHER'] ?? 1);
                    for ($i = 0; $i < 1000 && count(glob($dir . '/*')) < $want; $i++) { usleep(10000); }
                    echo count(glob($dir . '/*')) >= $want ? 'together' : 'alone';
                    exit;
                }
                $ms = (int)($_GET['sleep'] ?? 0);
                // With `track`, the runs of this id running at once are counted while it sleeps (before anything is
                // written, so its head goes out only once it no longer counts), and the most there ever were is kept
                // in most-<id>.txt: runs one behind another leave 1 there.
                $running = isset($_GET['track']) ? __DIR__ . '/../running-' . basename($id) . '.txt' : null;
                $track = function (int $delta) use ($running, $id) {
                    $lock = fopen($running, 'c+');
                    flock($lock, LOCK_EX);
                    $now = (int)stream_get_contents($lock) + $delta;
                    ftruncate($lock, 0); rewind($lock); fwrite($lock, (string)$now);
                    $most = __DIR__ . '/../most-' . basename($id) . '.txt';
                    if ($now > (int)@file_get_contents($most)) { file_put_contents($most, (string)$now); }
                    flock($lock, LOCK_UN); fclose($lock);
                };
                if ($running !== null) { $track(1); }
                if ($ms > 0) { usleep($ms * 1000); }
                if ($running !== null) { $track(-1); }
                $file = __DIR__ . '/../count.txt';
                file_put_contents($file, $id . "\\n", FILE_APPEND | LOCK_EX);
                $runs = count(array_keys(file($file, FILE_IGNORE_NEW_LINES), $id));
                if (isset($_GET['hold']) && $runs >= (int)($_GET['holdfrom'] ?? 1) && $runs <= (int)($_GET['holdto'] ?? PHP_INT_MAX)) {
                    $release = __DIR__ . '/../' . basename($_GET['hold']);
                    for ($i = 0; $i < 12000 && !file_exists($release); $i++) { usleep(10000); }
                }
                if (isset($_GET['hold2']) && $runs >= (int)($_GET['hold2from'] ?? 2)) {
                    $release = __DIR__ . '/../' . basename($_GET['hold2']);
                    for ($i = 0; $i < 12000 && !file_exists($release); $i++) { usleep(10000); }
                }
                if (isset($_GET['failfrom']) && $runs >= (int)$_GET['failfrom']) { header('Status: 500 Internal Server Error'); }
                if (isset($_GET['cc']) && $runs >= (int)($_GET['ccfrom'] ?? 1)) { header('Cache-Control: ' . $_GET['cc']); }
                if (isset($_GET['vary'])) { header('Vary: ' . $_GET['vary']); }
                $varyIf = 'HTTP_' . strtoupper(str_replace('-', '_', $_GET['varyif'] ?? ''));
                if (isset($_GET['varyif']) && isset($_SERVER[$varyIf])) { header('Vary: ' . $_GET['varyif']); }
                if (isset($_GET['cookie'])) { header('Set-Cookie: session=' . $_GET['cookie']); }
                if (isset($_GET['location'])) { header('Location: ' . $_GET['location']); }
                if (isset($_GET['etag'])) { header('ETag: ' . $_GET['etag']); }
                if (isset($_GET['lm'])) { header('Last-Modified: ' . $_GET['lm']); }
                if (isset($_GET['xsf'])) { header('X-Sendfile: ' . $_GET['xsf']); }
                if (isset($_GET['xae'])) { header('X-Accel-Expires: ' . $_GET['xae']); }
                if (isset($_GET['age'])) { header('Age: ' . $_GET['age']); }
                if (isset($_GET['ar'])) { header('Accept-Ranges: ' . $_GET['ar']); }
                if (isset($_GET['xab'])) { header('X-Accel-Buffering: ' . $_GET['xab']); }
                if (isset($_GET['trailer'])) { header('Trailer: ' . $_GET['trailer']); }
                if (isset($_SERVER['HTTP_RANGE'])) { header('X-Saw-Range: ' . $_SERVER['HTTP_RANGE']); }
                if (isset($_SERVER['HTTP_IF_NONE_MATCH'])) { header('X-Saw-If-None-Match: ' . $_SERVER['HTTP_IF_NONE_MATCH']); }
                if (isset($_SERVER['HTTP_IF_MODIFIED_SINCE'])) { header('X-Saw-If-Modified-Since: ' . $_SERVER['HTTP_IF_MODIFIED_SINCE']); }
                // other304from: from that run on, a 304 naming another version ("other"), whatever was asked
                if (isset($_GET['other304from']) && $runs >= (int)$_GET['other304from']) { header('Status: 304 Not Modified'); header('ETag: "other"'); exit; }
                // self304: the script answers a matching If-None-Match with its own 304, as a PHP application may
                if (isset($_GET['self304']) && ($_SERVER['HTTP_IF_NONE_MATCH'] ?? '') === ($_GET['etag'] ?? '-')) { header('Status: 304 Not Modified'); exit; }
                header('Content-Type: text/plain');
                $out = 'id=' . $id . ' run=' . $runs . ' ae=' . ($_SERVER['HTTP_ACCEPT_ENCODING'] ?? '');
                // pad: that many more bytes (x), the length declared, as a download script declares it
                if (isset($_GET['pad'])) { $out .= str_repeat('x', (int)$_GET['pad']); header('Content-Length: ' . strlen($out)); }
                // gz: the answer compressed by the script (Content-Encoding: gzip), its length declared
                if (isset($_GET['gz'])) { $out = gzencode($out); header('Content-Encoding: gzip'); header('Content-Length: ' . strlen($out)); }
                // stream: that many 64 KiB pieces (s) after the rest, the length declared, each flushed as written, until
                // a write fails; then stream-<id>.txt says "aborted" (the connection to PHP was let go) or "done"
                if (isset($_GET['stream'])) {
                    ignore_user_abort(true);
                    $pieces = (int)$_GET['stream'];
                    header('Content-Length: ' . (strlen($out) + $pieces * 65536));
                    echo $out;
                    $piece = str_repeat('s', 65536);
                    for ($i = 0; $i < $pieces && !connection_aborted(); $i++) {
                        while (ob_get_level() > 0) { ob_end_flush(); }
                        flush();
                        echo $piece;
                    }
                    while (ob_get_level() > 0) { ob_end_flush(); }
                    flush();
                    file_put_contents(__DIR__ . '/../stream-' . basename($id) . '.txt', connection_aborted() ? 'aborted' : 'done');
                    exit;
                }
                echo $out;
                """);
        Files.createDirectories(root.resolve("private"));
        Files.writeString(root.resolve("private/doc.txt"), "a document PHP decided to hand out\n");
        write(root, "sendfile.php", """
                <?php
                header('X-Sendfile: ' . $_GET['f']);
                header('Content-Disposition: attachment; filename="doc.txt"');
                echo 'this body is replaced by the file';
                """);
        write(root, "accel.php", """
                <?php
                header('X-Accel-Redirect: /private/doc.txt' . ($_GET['q'] ?? ''));
                """);
        Files.writeString(root.resolve("private/file name \u00e9.txt"), "a file with a space and an accent\n");
        write(root, "accel-named.php", """
                <?php
                header('X-Accel-Redirect: ' . $_GET['u']);
                """);
        // The type an X-Accel-Redirect file goes out with, for each way a script can set or remove its own.
        write(root, "accel-type.php", """
                <?php
                switch ($_GET['t'] ?? '') {
                    case 'pdf': header('Content-Type: application/pdf'); break;
                    case 'empty': header('Content-Type:'); break;
                    case 'set-then-removed': header('Content-Type: application/pdf'); header_remove('Content-Type'); break;
                    case 'removed': header_remove('Content-Type'); break;
                }
                header('X-Accel-Redirect: /private/doc.txt');
                """);
        write(root, "index.php", """
                <?php
                header('Content-Type: text/plain');
                echo 'front controller: ', $_SERVER['REQUEST_URI'], ' query=', $_SERVER['QUERY_STRING'];
                """);
        return root;
    }

    /**
     * Writes the scripts of a site reached by http and https behind a proxy that ends TLS into {@code root}:
     * {@code scheme.php} echoes PHP's HTTPS ("-" unset) and REQUEST_SCHEME; {@code cached/moved.php} is an
     * application's answer to plain http, a cacheable 301 to the same URL by https, and to https a cacheable page
     * unique to each run ("secure " and an id).
     */
    static void installSchemeScripts(Path root) throws IOException {
        write(root, "scheme.php", "<?php echo $_SERVER['HTTPS'] ?? '-', ' ', $_SERVER['REQUEST_SCHEME'];\n");
        Files.createDirectories(root.resolve("cached"));
        write(root, "cached/moved.php", """
                <?php
                header('Cache-Control: public, max-age=60');
                if (($_SERVER['HTTPS'] ?? '') !== 'on') {
                    header('Location: https://' . $_SERVER['HTTP_HOST'] . $_SERVER['REQUEST_URI'], true, 301);
                    exit;
                }
                echo 'secure ', uniqid();
                """);
    }

    private static void write(Path root, String name, String text) throws IOException {
        Files.writeString(root.resolve(name), text);
    }
}
