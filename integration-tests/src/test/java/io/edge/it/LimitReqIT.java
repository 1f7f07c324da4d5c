package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A location's {@code limit-req}, nginx's limit_req, on a real edge: per client (varied by X-Forwarded-For from
 * loopback, which real-ip trusts here), a zone shared by the locations naming it. Rates of a request a minute, so
 * that nothing drains while a test runs.
 */
class LimitReqIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    @Test
    void aClientPastItsBurstGetsTheLimitsStatusWhileOthersAndOtherLocationsGoOn() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("errors"));
        Files.writeString(www.resolve("errors/slow-down.html"), "<p>slow down</p>");
        Files.writeString(www.resolve("login.html"), "login");
        Files.writeString(www.resolve("reset.html"), "reset");
        Files.writeString(www.resolve("free.html"), "free");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.real-ip.from = ["127.0.0.1"]
                sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 429 = "/errors/slow-down.html" },
                  locations = [
                    { match = "/" }
                    { match = "= /login.html", limit-req { rate = "1 r/m", burst = 2, nodelay = true, zone = auth } }
                    { match = "= /reset.html", limit-req { rate = "1 r/m", burst = 2, nodelay = true, zone = auth } }
                    { match = "= /api", return = "200 ok", limit-req { rate = "1 r/m", status = 503 } }
                ] }]
                """)) {
            assertThat(edge.getFrom("198.51.100.1", "/login.html").body()).isEqualTo("login");
            assertThat(edge.getFrom("198.51.100.1", "/login.html").statusCode()).isEqualTo(200);
            assertThat(edge.getFrom("198.51.100.1", "/reset.html").statusCode()).as("the zone's third, within the burst")
                    .isEqualTo(200);
            HttpResponse<String> refused = edge.getFrom("198.51.100.1", "/reset.html");
            assertThat(refused.statusCode()).as("past the burst of the zone both locations share").isEqualTo(429);
            assertThat(refused.body()).isEqualTo("<p>slow down</p>");
            assertThat(refused.headers().firstValue("retry-after")).contains("60");
            assertThat(edge.getFrom("198.51.100.1", "/free.html").statusCode()).as("a location without a limit")
                    .isEqualTo(200);
            assertThat(edge.getFrom("198.51.100.2", "/login.html").statusCode()).as("another client").isEqualTo(200);

            assertThat(edge.getFrom("198.51.100.3", "/api").statusCode()).isEqualTo(200);
            HttpResponse<String> busy = edge.getFrom("198.51.100.3", "/api");
            assertThat(busy.statusCode()).as("no burst, and the status the location names").isEqualTo(503);
            assertThat(busy.headers().firstValue("retry-after")).contains("60");
        }
    }

    /**
     * A reload keeps a named zone, as nginx keeps its limit_req_zone: a client over its rate gets no fresh burst from
     * a reload; one that changes the zone's rate starts it afresh, and a location's own table starts afresh each time.
     */
    @Test
    void aNamedZoneOutlivesAReloadThatKeepsItsRate() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        String config = """
                server.real-ip.from = ["127.0.0.1"]
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "= /login", return = "200 %s", limit-req { rate = "%s", zone = auth } }
                  { match = "= /own", return = "200 own", limit-req { rate = "1 r/m" } }
                ] }]
                """;
        try (EdgeHarness edge = EdgeHarness.start(dir, config.formatted("old", "1 r/m"))) {
            assertThat(edge.getFrom("198.51.100.1", "/login").body()).isEqualTo("old");
            assertThat(edge.getFrom("198.51.100.1", "/own").statusCode()).isEqualTo(200);
            assertThat(edge.getFrom("198.51.100.1", "/login").statusCode()).isEqualTo(429);
            edge.reload(config.formatted("new", "1 r/m"));
            HttpResponse<String> after = edge.getFrom("198.51.100.1", "/login");
            assertThat(after.statusCode()).as("the zone kept: still over its rate").isEqualTo(429);
            assertThat(edge.getFrom("198.51.100.2", "/login").body()).as("the new configuration answers").isEqualTo("new");
            assertThat(edge.getFrom("198.51.100.1", "/own").statusCode()).as("a location's own table, afresh")
                    .isEqualTo(200);
            edge.reload(config.formatted("newer", "2 r/m"));
            assertThat(edge.getFrom("198.51.100.1", "/login").body()).as("another rate: the zone afresh")
                    .isEqualTo("newer");
        }
    }

    /**
     * A refusal's line names an IPv6 client as the access log does, RFC 5952's short form (2001:db8::1), so that one
     * search finds a client in both: it said 2001:db8:0:0:0:0:0:1.
     */
    @Test
    void aRefusalsLineNamesAnIpv6ClientAsTheAccessLogDoes() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        try (CapturedLog log = CapturedLog.of("io.edge.core.limit.RequestLimits");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server.real-ip.from = ["127.0.0.1"]
                     sites = [{ root = "www", locations = [{ match = "/", return = "200 ok", limit-req { rate = "1 r/m" } }] }]
                     """)) {
            assertThat(edge.getFrom("2001:db8::1", "/v6").statusCode()).isEqualTo(200);
            assertThat(edge.getFrom("2001:db8::1", "/v6").statusCode()).isEqualTo(429);
            assertThat(log.lines()).singleElement().asString().contains(", client: 2001:db8::1, ")
                    .contains("request: \"GET /v6 HTTP/1.1\"");
        }
    }

    /**
     * The request line in a refusal's line has its control characters escaped, as edge's other error-log lines quote
     * what a client or script sent (LogText): a request target may hold bytes 0x80-0xFF, which are C1 controls once
     * read (0x9B a terminal's CSI, 0x85 a next line to some readers); they were written raw. The access log writes them
     * \x9B too. Its bytes 0xA0-0xFF (UTF-8 a client sent raw) are escaped as well: they were each written as the
     * UTF-8 of the Latin-1 character the byte reads as ("cafÃ©"), which no reader of the log could tell from what was
     * sent.
     */
    @Test
    void aRefusalsLineEscapesControlCharactersOfTheRequestLine() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        try (CapturedLog log = CapturedLog.of("io.edge.core.limit.RequestLimits");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ root = "www", locations = [{ match = "/", return = "200 ok", limit-req { rate = "1 r/m" } }] }]
                     """)) {
            for (String status : List.of("HTTP/1.1 200 OK", "HTTP/1.1 429 Too Many Requests")) {
                try (RawHttpClient client = new RawHttpClient(edge.address(), 4096)) {
                    client.send("GET /a?\u009b2J\u0085b/caf\u00c3\u00a9 HTTP/1.1\r\nHost: h\r\n\r\n");
                    assertThat(client.readStatusLine()).isEqualTo(status);
                }
            }
            assertThat(log.lines()).singleElement().asString()
                    .contains(", request: \"GET /a?\\x9b2J\\x85b/caf\\xc3\\xa9 HTTP/1.1\", host: \"h\"");
        }
    }

    /**
     * A request a limit delays (here a dry run's, which delays nothing but logs) gets nginx's "delaying request" line
     * one level below the limit's log-level, as nginx's delay_log_level: warn for error, info (nginx's notice) for
     * warn. It was at debug whatever the level, so never written.
     */
    @Test
    void aDelaysLineIsOneLevelBelowTheLimitsLogLevel() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        try (CapturedLog log = CapturedLog.of("io.edge.core.limit.RequestLimits");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ root = "www", locations = [
                       { match = "/e", return = "200 ok", limit-req { rate = "1 r/m", burst = 1, dry-run = true } }
                       { match = "/w", return = "200 ok", limit-req { rate = "1 r/m", burst = 1, dry-run = true,
                                                                     log-level = warn } }
                     ] }]
                     """)) {
            for (String path : List.of("/e", "/e", "/w", "/w")) {
                assertThat(edge.getFrom("127.0.0.1", path).statusCode()).isEqualTo(200);
            }
            assertThat(log.events()).extracting(ILoggingEvent::getLevel).containsExactly(Level.WARN, Level.INFO);
            assertThat(log.lines()).allSatisfy(line -> assertThat(line).matches("delaying request, dry run, excess:"
                    + " 0\\.9\\d\\d, by zone \"location edge\\.sites\\[0]\\.locations\\[[01]]\\.limit-req\", .*"));
        }
    }

    /**
     * nginx's line for each refused request, at limit_req_log_level (error by default): one per refusal, not one in
     * ten seconds, which fail2ban's jail needs; from "limiting requests" on it is nginx's, and the README's filter
     * finds the client in the line as edge's error log writes it (logback.xml's pattern). A dry run refuses and delays
     * nothing and logs what it would have done; $limit_req_status says which, "-" where no limit counted it. Rates of
     * a request a minute, burst 0: the second request at once is past the rate, whatever the machine's speed.
     */
    @Test
    void eachRefusalIsLoggedAsNginxLogsItAndADryRunRefusesNothing() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Files.writeString(dir.resolve("www/f"), "f");
        try (CapturedLog log = CapturedLog.of("io.edge.core.limit.RequestLimits");
             CapturedLog access = CapturedLog.of("edge.access");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server.real-ip.from = ["127.0.0.1"]
                     server.access-log = "-"
                     server.access-log-format = "$remote_addr $request_uri $status req=$limit_req_status"
                     sites = [{ server-names = ["example.test"], default = true, root = "www", locations = [
                       { match = "/" }
                       { match = "= /login", return = "200 ok", limit-req { rate = "1 r/m", zone = login } }
                       { match = "= /warned", return = "200 ok", limit-req { rate = "1 r/m", log-level = warn } }
                       { match = "= /noticed", return = "200 ok", limit-req { rate = "1 r/m", log-level = notice } }
                       { match = "= /dry", return = "200 ok", limit-req { rate = "1 r/m", zone = dry, dry-run = true } }
                       { match = "= /dry-burst", return = "200 ok", limit-req { rate = "1 r/m", burst = 1, dry-run = true } }
                     ] }]
                     """)) {
            List<Integer> statuses = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                statuses.add(edge.getFrom("198.51.100.7", "/login").statusCode());
            }
            assertThat(statuses).containsExactly(200, 429, 429);
            List<ILoggingEvent> refusals = log.events();
            assertThat(refusals).as("a line for each refusal").hasSize(2)
                    .allSatisfy(event -> assertThat(event.getLevel()).isEqualTo(Level.ERROR));
            String host = "127.0.0.1:" + edge.address().getPort();
            assertThat(refusals.get(0).getFormattedMessage()).matches("limiting requests, excess: 0\\.9\\d\\d by zone"
                    + " \"login\", client: 198\\.51\\.100\\.7, server: example\\.test, request: \"GET /login HTTP/1\\.1\","
                    + " host: \"" + host.replace(".", "\\.") + "\"");
            // the README's fail2ban filter on the line as logback.xml writes it: in a file (fail2ban cuts the time at
            // its start, datepattern {^LN-BEG}) and as the journal gives it (host and unit before it)
            LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
            PatternLayout layout = new PatternLayout();
            layout.setContext(context);
            layout.setPattern("%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{20}: %msg%n");
            layout.start();
            String logged = layout.doLayout(refusals.get(1)).strip();
            assertThat(fail2banHost(logged.substring(logged.indexOf(' ')))).as(logged).isEqualTo("198.51.100.7");
            assertThat(fail2banHost("myhost java[4321]: " + logged)).as(logged).isEqualTo("198.51.100.7");
            // never from what a client wrote, such as a login name a script logs on stderr: it would get another
            // address banned (it did: the filter was not anchored at the line's start)
            String forged = layout.doLayout(new LoggingEvent(LimitReqIT.class.getName(),
                    context.getLogger("io.edge.fastcgi.stderr"), Level.WARN, "[7] unix:/run/php/fpm.sock: PHP message:"
                    + " login failed for ] x: limiting requests, excess: 1.000 by zone \"x\", client: 203.0.113.66,",
                    null, null)).strip();
            assertThat(fail2banHost(forged.substring(forged.indexOf(' ')))).as(forged).isNull();
            assertThat(fail2banHost("myhost java[4321]: " + forged)).as(forged).isNull();

            assertThat(edge.getFrom("198.51.100.7", "/warned").statusCode()).isEqualTo(200);
            assertThat(edge.getFrom("198.51.100.7", "/warned").statusCode()).isEqualTo(429);
            assertThat(edge.getFrom("198.51.100.7", "/noticed").statusCode()).isEqualTo(200);
            assertThat(edge.getFrom("198.51.100.7", "/noticed").statusCode()).isEqualTo(429);
            assertThat(log.events().subList(2, 4)).extracting(ILoggingEvent::getLevel)
                    .as("limit_req_log_level warn; notice is edge's INFO").containsExactly(Level.WARN, Level.INFO);

            statuses.clear();
            for (int i = 0; i < 3; i++) {
                statuses.add(edge.getFrom("198.51.100.7", "/dry").statusCode());
            }
            assertThat(statuses).as("a dry run refuses none").containsExactly(200, 200, 200);
            assertThat(log.lines().subList(4, log.lines().size())).hasSize(2).allSatisfy(line -> assertThat(line)
                    .startsWith("limiting requests, dry run, excess: ").contains(" by zone \"dry\", client: "
                            + "198.51.100.7, "));
            assertThat(edge.getFrom("198.51.100.7", "/dry-burst").statusCode()).isEqualTo(200);
            assertThat(edge.getFrom("198.51.100.7", "/dry-burst").statusCode()).as("would wait a minute: waits none")
                    .isEqualTo(200);
            assertThat(edge.getFrom("198.51.100.7", "/f").statusCode()).isEqualTo(200);

            List<String> expected = List.of("198.51.100.7 /login 200 req=PASSED", "198.51.100.7 /login 429 req=REJECTED",
                    "198.51.100.7 /dry 200 req=PASSED", "198.51.100.7 /dry 200 req=REJECTED_DRY_RUN",
                    "198.51.100.7 /dry-burst 200 req=PASSED", "198.51.100.7 /dry-burst 200 req=DELAYED_DRY_RUN",
                    "198.51.100.7 /f 200 req=-");
            Awaits.until(access::lines, lines -> lines.containsAll(expected), "the access log's lines");
        }
    }

    /**
     * With ipv6-prefix = 64 an IPv6 client is its /64, which a subscriber holds whole: another address of it is the
     * same client, over its rate, while an address in another /64 is another; an IPv4 client is its address still.
     * Without it, 2001:db8::2 went past the limit 2001:db8::1 had reached.
     */
    @Test
    void withAnIpv6PrefixOf64AnotherAddressOfTheSameSlash64IsTheSameClient() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.real-ip.from = ["127.0.0.1"]
                sites = [{ root = "www", locations = [
                  { match = "/", return = "200 ok", limit-req { rate = "1 r/m", zone = login, ipv6-prefix = 64 } }
                ] }]
                """)) {
            assertThat(edge.getFrom("2001:db8::1", "/login").statusCode()).isEqualTo(200);
            assertThat(edge.getFrom("2001:db8::2", "/login").statusCode()).as("another address of the same /64")
                    .isEqualTo(429);
            assertThat(edge.getFrom("2001:db8:0:0:ffff:ffff:ffff:ffff", "/login").statusCode()).as("its last")
                    .isEqualTo(429);
            assertThat(edge.getFrom("2001:db8:0:1::1", "/login").statusCode()).as("the next /64, another client")
                    .isEqualTo(200);
            assertThat(edge.getFrom("198.51.100.1", "/login").statusCode()).isEqualTo(200);
            assertThat(edge.getFrom("198.51.100.2", "/login").statusCode()).as("IPv4: each address a client")
                    .isEqualTo(200);
        }
    }

    /** A zone a reload removed is forgotten once the configurations that named it are retired: not kept for good. */
    @Test
    void aZoneNoConfigurationNamesIsForgottenOnceTheOldOnesRetire() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        String limited = """
                server.real-ip.from = ["127.0.0.1"]
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "= /login", return = "200 ok", limit-req { rate = "1 r/m", zone = auth } }
                ] }]
                """;
        try (CapturedLog edgeLog = CapturedLog.of(io.edge.core.Edge.class);
             EdgeHarness edge = EdgeHarness.start(dir, limited)) {
            assertThat(edge.getFrom("198.51.100.1", "/login").statusCode()).isEqualTo(200);
            assertThat(edge.getFrom("198.51.100.1", "/login").statusCode()).isEqualTo(429);
            edge.reload(limited.replace("limit-req { rate = \"1 r/m\", zone = auth }", "access-log = true"));
            Awaits.await(() -> edgeLog.lines().contains("reload: generation 1 retired"), "the first one retired");
            edge.reload(limited);
            assertThat(edge.getFrom("198.51.100.1", "/login").statusCode()).as("the zone afresh").isEqualTo(200);
        }
    }

    @Test
    void aRequestPastTheRateWaitsAndOneThatLeavesWhileWaitingIsLogged499() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        CapturedLog access = CapturedLog.of("edge.access");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.access-log = "-"
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/", return = "200 ok", limit-req { rate = "1 r/m", burst = 1 } }
                ] }]
                """)) {
            assertThat(HTTP.send(HttpRequest.newBuilder(edge.uri("/first")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            // Two more: one waits (a minute past the rate), the other, beyond the burst of one, is refused at once.
            // Which is which is the order edge reads them in.
            try (RawHttpClient b = new RawHttpClient(edge.address()); RawHttpClient c = new RawHttpClient(edge.address())) {
                b.send("GET /b HTTP/1.1\r\nHost: a\r\n\r\n");
                c.send("GET /c HTTP/1.1\r\nHost: a\r\n\r\n");
                Awaits.await(() -> answered(b) || answered(c), "an answer to one of the two");
                RawHttpClient refused = answered(b) ? b : c;
                RawHttpClient waiting = refused == b ? c : b;
                assertThat(refused.read().status()).isEqualTo(429);
                String waitingPath = waiting == b ? "/b" : "/c";
                waiting.close();
                awaitLogged499(access, waitingPath);
            }
        } finally {
            access.close();
        }
    }

    /**
     * delay = 1, nginx's delay=: of a client's requests past the rate (a burst of 3), the first is answered at once,
     * the next two wait, one more is refused. A waiting request is told from an answered one as above: the refusal,
     * which comes only once both were counted, finds nothing to read on theirs, and their clients' leaving is a 499.
     */
    @Test
    void withADelayTheFirstOfTheBurstIsAnsweredAtOnceAndTheRestWait() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        try (CapturedLog access = CapturedLog.of("edge.access");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server.access-log = "-"
                     server.real-ip.from = ["127.0.0.1"]
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/", return = "200 ok", limit-req { rate = "1 r/m", burst = 3, delay = 1 } }
                     ] }]
                     """)) {
            assertThat(edge.getFrom("198.51.100.1", "/1").statusCode()).as("within the rate").isEqualTo(200);
            try (RawHttpClient second = new RawHttpClient(edge.address())) {
                assertThat(second.send(fromClient("/2")).read().status()).as("past the rate, within the delay: at once")
                        .isEqualTo(200);
            }
            // Three more at once: past the delay, two wait (a minute and two), the third, beyond the burst, is refused.
            // Which is which is the order edge reads them in.
            List<RawHttpClient> clients = new ArrayList<>();
            try {
                for (String path : List.of("/3", "/4", "/5")) {
                    clients.add(new RawHttpClient(edge.address()).send(fromClient(path)));
                }
                RawHttpClient refused = Awaits.until(() -> {
                    for (RawHttpClient client : clients) {
                        if (answered(client)) {
                            return client;
                        }
                    }
                    return null;
                }, client -> client != null, "an answer to one of the three");
                assertThat(refused.read().status()).isEqualTo(429);
                List<String> waiting = new ArrayList<>();
                for (int i = 0; i < clients.size(); i++) {
                    if (clients.get(i) != refused) {
                        assertThat(answered(clients.get(i))).as("still waiting").isFalse();
                        waiting.add("/" + (i + 3));
                        clients.get(i).close();
                    }
                }
                assertThat(edge.getFrom("198.51.100.1", "/6").statusCode())
                        .as("the burst full: the waiting ones count as the answered ones").isEqualTo(429);
                for (String path : waiting) {
                    awaitLogged499(access, path);
                }
            } finally {
                for (RawHttpClient client : clients) {
                    client.close();
                }
            }
        }
    }

    @Test
    void aRequestIsCountedOnceWhateverLocationsItPassesAndA444LimitClosesTheConnection() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("new"));
        Files.writeString(www.resolve("new/page.html"), "page");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.real-ip.from = ["127.0.0.1"]
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/old/", front-controller = "/new/page.html", limit-req { rate = "1 r/m", burst = 1, nodelay = true } }
                  { match = "/new/", limit-req { rate = "1 r/m", burst = 1, nodelay = true } }
                  { match = "/bots/", return = "200 ok", limit-req { rate = "1 r/m", status = 444 } }
                ] }]
                """)) {
            assertThat(edge.getFrom("198.51.100.1", "/old/page.html").body()).isEqualTo("page");
            assertThat(edge.getFrom("198.51.100.1", "/old/page.html").statusCode())
                    .as("the second of a burst of one: each counted once, not in both locations").isEqualTo(200);
            assertThat(edge.getFrom("198.51.100.1", "/old/page.html").statusCode()).isEqualTo(429);

            assertThat(edge.getFrom("198.51.100.2", "/bots/x").statusCode()).isEqualTo(200);
            try (RawHttpClient bot = new RawHttpClient(edge.address())) {
                bot.send("GET /bots/x HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.2\r\n\r\n");
                assertThat(bot.isClosedByPeer()).as("444: no answer at all").isTrue();
            }
        }
    }

    /** A rewrite counts nothing itself: the stricter limit where it leads counts the request, as nginx's. */
    @Test
    void aRewriteIsCountedByTheLocationItLeadsTo() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("login.html"), "login");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                location-defaults.limit-req { rate = "50 r/s", burst = 100, nodelay = true }
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/" }
                  { match = "= /login.html", limit-req { rate = "1 r/m", burst = 0, nodelay = false, zone = login } }
                  { match = "= /signin", rewrite = "/login.html" }
                ] }]
                """)) {
            assertThat(HTTP.send(HttpRequest.newBuilder(edge.uri("/signin")).build(),
                    HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("login");
            assertThat(HTTP.send(HttpRequest.newBuilder(edge.uri("/signin")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(429);
        }
    }

    /**
     * A script a PHP location runs for another location's URI (try_files' front controller into "location =
     * /index.php") is counted by that location's limit, as nginx's internal redirect meets it; once, with the limit of
     * the location the request came in by.
     */
    @Test
    void aFrontControllerRunForAnotherUriIsCountedByItsLocationsLimit() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("index.php"), "<?php echo 'front';");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server.real-ip.from = ["127.0.0.1"]
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/", fastcgi = php, front-controller = "/index.php" }
                       { match = "= /index.php", fastcgi = php, limit-req { rate = "1 r/m", zone = app } }
                       { match = "/counted/", fastcgi = php, front-controller = "/index.php", limit-req { rate = "1 r/m", burst = 1, nodelay = true, zone = other } }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"] }
                     """.formatted(fpm.address()))) {
            assertThat(edge.getFrom("198.51.100.1", "/app/page").body()).isEqualTo("front");
            HttpResponse<String> second = edge.getFrom("198.51.100.1", "/app/other");
            assertThat(second.statusCode()).as("the front controller's location's rate").isEqualTo(429);
            assertThat(edge.getFrom("198.51.100.2", "/app/page").body()).as("another client").isEqualTo("front");

            assertThat(edge.getFrom("198.51.100.3", "/counted/a").body()).isEqualTo("front");
            assertThat(edge.getFrom("198.51.100.3", "/counted/b").body())
                    .as("counted where it came in (a burst of 1), not again by the front controller's").isEqualTo("front");
        }
    }

    /** A file an X-Accel-Redirect hands out is counted by the limit-req of the location its URI routes to. */
    @Test
    void anXAccelRedirectsFileIsCountedByItsLocationsLimit() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("files"));
        Files.writeString(www.resolve("files/a.txt"), "file");
        Files.writeString(www.resolve("get.php"), "<?php header('X-Accel-Redirect: /files/a.txt');");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server.real-ip.from = ["127.0.0.1"]
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php }
                       { match = "/files/", internal = true, limit-req { rate = "1 r/m" } }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"] }
                     """.formatted(fpm.address()))) {
            assertThat(edge.getFrom("198.51.100.1", "/get.php").body()).isEqualTo("file");
            assertThat(edge.getFrom("198.51.100.1", "/get.php").statusCode()).isEqualTo(429);
            assertThat(edge.getFrom("198.51.100.2", "/get.php").body()).as("another client").isEqualTo("file");
        }
    }

    /** Returns once the access log has {@code path}'s GET as 499: its client left while it waited. */
    private static void awaitLogged499(CapturedLog access, String path) throws Exception {
        String logged = "\"GET " + path + " HTTP/1.1\" 499 ";
        Awaits.await(() -> access.lines().stream().anyMatch(line -> line.contains(logged)),
                "the waiting request " + path + "'s client gone: 499");
    }

    /** Whether the server has sent {@code client} something to read. */
    private static boolean answered(RawHttpClient client) throws java.io.IOException {
        return client.socket().getInputStream().available() > 0;
    }

    /** A GET of {@code path} from 198.51.100.1, as the trusted proxy in front names the client. */
    private static String fromClient(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n";
    }

    /**
     * README's fail2ban failregex ({@code <HOST>} the group host), which fail2ban looks for in a line cut of its time:
     * the client it would ban for {@code line}, or null.
     */
    private static String fail2banHost(String line) {
        Matcher failregex = Pattern.compile("^\\s*(?:\\S+ \\S+: \\S+)?\\s*[A-Z]+ +\\[[^\\]]+\\]"
                + " i\\.e\\.c\\.l\\.RequestLimits: limiting requests, excess: [\\d\\.]+ by zone \"[^\"]+\","
                + " client: (?<host>[^,\\s]+),").matcher(line);
        return failregex.find() ? failregex.group("host") : null;
    }
}
