package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A status location in front of a real php-fpm: what the page says after a static file and a PHP request. The
 * tests share one server, so they run in order: the first counts from a fresh start.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StatusPageIT {

    @TempDir
    static Path dir;
    static PhpFpm fpm;
    static EdgeHarness edge;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("a.txt"), "static bytes\n");
        Files.writeString(www.resolve("hello.php"), "<?php echo 'hello';\n");
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
        edge = EdgeHarness.start(dir, """
                sites = [{
                  server-names = ["_"], default = true, root = "www"
                  locations = [
                    { match = "/" }
                    { match = "~ \\\\.php$", fastcgi = php }
                    { match = "/api/", proxy = api }
                    { match = "= /edge-status", status = true }
                    { match = "= /closed-status", status = true, status-allow = ["10.9.8.7", "127.0.0.2/31"] }
                    { match = "= /subnet-status", status = true, status-allow = ["10.9.8.7", "127.0.0.0/8"] }
                  ]
                }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                proxy.backends.api { addresses = ["127.0.0.1:%d"] }
                """.formatted(fpm.address(), FakeHttpBackend.closedPort()));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, fpm);
    }

    private static HttpResponse<String> send(String method, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(edge.uri(path))
                .method(method, HttpRequest.BodyPublishers.noBody()).build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    @Order(1)
    void thePageCountsWhatWasServedAndRefusesOthers() throws Exception {
        assertThat(send("GET", "/a.txt").body()).isEqualTo("static bytes\n");
        assertThat(send("GET", "/hello.php").body()).isEqualTo("hello");

        // A pool thread that handed its result on is still counted until it returns (ThreadPoolExecutor's active
        // count): the gauge is read once it has settled, within a bound.
        HttpResponse<String> page = Awaits.until(() -> send("GET", "/edge-status"),
                answer -> answer.body().contains(" in-flight=0 "), "the pool's in-flight gauge settled at 0");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-type")).hasValue("text/plain; charset=utf-8");
        assertThat(page.headers().firstValue("cache-control")).hasValue("no-store");
        assertThat(page.body().lines()).anySatisfy(line -> assertThat(line)
                .matches("static files: engine=(io_uring|threads) sendfile=0 resident=\\d+ async=\\d+ fallback=0 "
                        + "timed-out=0 rejected=0 in-flight=0 waiting=0 descriptors=\\d+( read-us .*)?")
                .satisfies(l -> assertThat(readsIn(l)).as("the one file read").isEqualTo(1)));
        assertThat(page.body().lines()).anySatisfy(line -> assertThat(line)
                .startsWith("fastcgi group php: open=").contains(" leases=1 ", " rejected-full=0 "));
        // named as the log lines name the group: "proxy backend api"
        assertThat(page.body().lines()).anySatisfy(line -> assertThat(line)
                .startsWith("proxy backend api: open=0 ").endsWith(" failed-connects=0"));
        assertThat(page.body().lines()).anySatisfy(line -> assertThat(line).startsWith("content cache: hits="));
        assertThat(page.body().lines()).as("no image made nor abandoned").contains("image filter: jobs=0 abandoned=0");
        assertThat(page.body().lines()).anySatisfy(line -> assertThat(line)
                .matches("memory: direct=[1-9]\\d* direct-max=[1-9]\\d* heap=[1-9]\\d* heap-max=[1-9]\\d*"));
        assertThat(page.body().lines()).first().asString()
                .matches("connections: open=[1-9]\\d* max=\\d+ accepting=yes accepted=[1-9]\\d* refused=0 pauses=0 "
                        + "requests=([3-9]|[1-9]\\d+)"); // the file, the script, this page at least

        HttpResponse<String> head = send("HEAD", "/edge-status");
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(head.headers().firstValueAsLong("content-length").orElseThrow()).isPositive();

        assertThat(send("POST", "/edge-status").statusCode()).isEqualTo(405);
        assertThat(send("GET", "/subnet-status").statusCode()).as("127.0.0.1 is in 127.0.0.0/8").isEqualTo(200);
        assertThat(send("GET", "/closed-status").statusCode()).as("127.0.0.1 is not in its status-allow")
                .isEqualTo(403);
    }

    @Test
    @Order(2)
    void aScraperGetsTheFiguresInThePrometheusTextFormat() throws Exception {
        String waits = "edge_fastcgi_queue_wait_seconds_count{group=\"php\"} ";
        double waitsBefore = send("GET", "/edge-status?format=prometheus").body().lines()
                .filter(line -> line.startsWith(waits)).mapToDouble(line -> Double.parseDouble(line.substring(waits.length())))
                .findFirst().orElseThrow();
        assertThat(send("GET", "/a.txt").statusCode()).isEqualTo(200);
        assertThat(send("GET", "/hello.php").statusCode()).isEqualTo(200);
        HttpResponse<String> asked = send("GET", "/edge-status?format=prometheus");
        HttpResponse<String> scraped = HTTP.send(HttpRequest.newBuilder(edge.uri("/edge-status"))
                .header("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
                .build(), HttpResponse.BodyHandlers.ofString());
        for (HttpResponse<String> page : List.of(asked, scraped)) {
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("content-type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
            Map<String, String> types = new HashMap<>();
            Map<String, Double> samples = new HashMap<>();
            for (String line : page.body().lines().toList()) {
                Matcher type = TYPE.matcher(line);
                Matcher sample = SAMPLE.matcher(line);
                if (type.matches()) {
                    assertThat(types.put(type.group(1), type.group(2))).as("one TYPE line per family").isNull();
                } else if (sample.matches()) {
                    String family = sample.group(1).replaceAll("_(sum|count)$", "");
                    assertThat(types).as("TYPE before the samples of " + sample.group(1))
                            .containsKey(types.containsKey(sample.group(1)) ? sample.group(1) : family);
                    samples.put(sample.group(1) + (sample.group(2) == null ? "" : sample.group(2)),
                            sample.group(3).equals("NaN") ? Double.NaN : Double.parseDouble(sample.group(3)));
                } else {
                    assertThat(line).as("a HELP line").matches("# HELP [a-z_]+ .+");
                }
            }
            types.forEach((name, kind) -> assertThat(name.endsWith("_total")).as(name + " is a " + kind)
                    .isEqualTo(kind.equals("counter")));
            assertThat(samples.get("edge_connections_accepted_total")).isGreaterThanOrEqualTo(1);
            assertThat(samples.get("edge_requests_total")).as("the requests so far, this one too").isGreaterThanOrEqualTo(3);
            assertThat(samples.get("edge_connections_accepting")).isEqualTo(1);
            assertThat(samples.get("edge_fastcgi_queue_wait_seconds_count{group=\"php\"}")).as("hello.php's wait")
                    .isEqualTo(waitsBefore + 1);
            assertThat(samples.get("edge_fastcgi_rejected_full_total{group=\"php\"}")).isZero();
            assertThat(samples.keySet()).anySatisfy(key -> assertThat(key)
                    .matches("edge_static_resident_reads_total\\{engine=\"(io_uring|threads)\"}"));
            assertThat(samples).containsKey("edge_content_cache_hits_total");
            assertThat(samples.get("edge_direct_memory_bytes")).as("buffers in use").isPositive()
                    .isLessThanOrEqualTo(samples.get("edge_direct_memory_max_bytes"));
            assertThat(samples.get("edge_heap_used_bytes")).isPositive();
            assertThat(samples.get("edge_image_filter_abandoned_total")).isZero();
            assertThat(samples.get("edge_image_filter_jobs")).isZero();
        }
    }

    private static final Pattern TYPE = Pattern.compile("# TYPE ([a-z_]+) (counter|gauge|summary)");
    private static final Pattern SAMPLE = Pattern.compile(
            "([a-z_]+)(\\{[a-z_]+=\"[^\"\\\\]*\"(?:,[a-z_]+=\"[^\"\\\\]*\")*})? (-?[0-9.]+(?:E-?[0-9]+)?|NaN)");

    /** resident + async + fallback of a static files line. */
    private static long readsIn(String line) {
        long reads = 0;
        for (String key : new String[] {"resident=", "async=", "fallback="}) {
            int at = line.indexOf(' ' + key) + key.length() + 1;
            reads += Long.parseLong(line.substring(at, line.indexOf(' ', at)));
        }
        return reads;
    }
}
