package io.edge.core.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edge.aio.PathPolicy;
import io.edge.conf.LocationSettings;
import io.edge.conf.LocationSettings.Kind;
import io.edge.conf.SiteSettings;
import io.edge.core.http.CapturedLog;
import io.edge.core.http.HttpStatusException;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class RouterTest {

    private static LocationSettings location(String match, Kind kind, String pattern) {
        Pattern regex = kind == Kind.REGEX ? Pattern.compile(pattern) : null;
        return new LocationSettings(match, kind, pattern, regex, null, LocationSettings.Handler.STATIC, null);
    }

    private static final LocationSettings ROOT = location("/", Kind.PREFIX, "/");
    private static final LocationSettings IMAGES = location("/images/", Kind.PREFIX, "/images/");
    private static final LocationSettings STATIC_NO_REGEX = location("^~ /static/", Kind.PREFIX_NO_REGEX, "/static/");
    private static final LocationSettings EXACT = location("= /images/logo.png", Kind.EXACT, "/images/logo.png");
    private static final LocationSettings PHP = location("~ \\.php$", Kind.REGEX, "\\.php$");
    private static final LocationSettings JPG = location("~ \\.jpg$", Kind.REGEX, "\\.jpg$");

    private static SiteSettings site(List<String> names, boolean isDefault) {
        return new SiteSettings(names, isDefault, Path.of("/srv"), List.of("index.html"), PathPolicy.DEFAULT,
                List.of(ROOT, IMAGES, STATIC_NO_REGEX, EXACT, PHP, JPG));
    }

    private static final InetSocketAddress PUBLIC = new InetSocketAddress("127.0.0.1", 8080);
    private static final InetSocketAddress ADMIN = new InetSocketAddress("127.0.0.1", 8081);

    private static SiteSettings site(List<String> names, boolean isDefault, InetSocketAddress... listen) {
        return new SiteSettings(names, isDefault, Path.of("/srv"), List.of("index.html"), PathPolicy.DEFAULT,
                List.of(ROOT), Map.of(), List.of(listen));
    }

    /** nginx's server { listen 8080; server_name _; } beside server { listen 8081; server_name _; }. */
    @Test
    void sitesAreChosenAmongThoseOnTheAddressAConnectionCameInOn() {
        SiteSettings pub = site(List.of("_"), false, PUBLIC);
        SiteSettings admin = site(List.of("_", "example.org"), false, ADMIN);
        SiteSettings both = site(List.of("example.org", "both.org"), false, PUBLIC, ADMIN);
        Router router = new Router(List.of(pub, admin, both), pub);
        assertThat(router.site(PUBLIC, "anything")).isSameAs(pub);
        assertThat(router.site(ADMIN, "anything")).as("the first site on 8081 is its default").isSameAs(admin);
        assertThat(router.site(ADMIN, null)).isSameAs(admin);
        assertThat(router.site(PUBLIC, "_")).isSameAs(pub);
        assertThat(router.site(ADMIN, "_")).isSameAs(admin);
        assertThat(router.site(ADMIN, "example.org")).as("listed first there").isSameAs(admin);
        assertThat(router.site(PUBLIC, "example.org")).isSameAs(both);
        assertThat(router.site(ADMIN, "both.org:8081")).isSameAs(both);
        assertThat(router.conflicts()).containsExactly("conflicting server name \"example.org\" of edge.sites[2] and"
                + " \"example.org\" of edge.sites[1] on \"127.0.0.1:8081\": requests for example.org go to edge.sites[1],"
                + " listed first");
    }

    @Test
    void eachAddressHasItsOwnDefault() {
        SiteSettings first = site(List.of("a.org"), false, PUBLIC, ADMIN);
        SiteSettings publicDefault = site(List.of("b.org"), true, PUBLIC);
        SiteSettings adminDefault = site(List.of("c.org"), true, ADMIN);
        Router router = new Router(List.of(first, publicDefault, adminDefault), publicDefault);
        assertThat(router.site(PUBLIC, "other.org")).isSameAs(publicDefault);
        assertThat(router.site(ADMIN, "other.org")).isSameAs(adminDefault);
        assertThat(router.site(ADMIN, "b.org")).as("not on 8081").isSameAs(adminDefault);
        assertThat(router.site(null, "other.org")).as("no listener known: the configuration's default")
                .isSameAs(publicDefault);
        assertThat(router.conflicts()).isEmpty();
    }

    /**
     * A conflict on a wildcard listener names it as the configuration writes it (and its problems do): "*:8080", not
     * "0.0.0.0:8080", which a user who wrote "*:8080" or "[::]:8080" never wrote.
     */
    @Test
    void aConflictOnAWildcardNamesItAsWritten() {
        InetSocketAddress wildcard = new InetSocketAddress(8080);
        Router router = new Router(List.of(site(List.of("a.org"), true, wildcard),
                site(List.of("a.org"), false, wildcard), site(List.of("b.org"), true, ADMIN)), null);
        assertThat(router.conflicts()).containsExactly("conflicting server name \"a.org\" of edge.sites[1] and"
                + " \"a.org\" of edge.sites[0] on \"*:8080\": requests for a.org go to edge.sites[0], listed first");
    }

    /**
     * A connection of an address no site listens on, where sites listen apart (one of a listener a reload closed,
     * still open for a moment after the new routes are in force), is not routed: among every site, a client of the
     * public port was answered by the admin port's default site.
     */
    @Test
    void anAddressNoSiteListensOnIsNotRoutedAmongEverySite() {
        InetSocketAddress moved = new InetSocketAddress("127.0.0.1", 8082);
        SiteSettings pub = site(List.of("_"), false, moved);
        SiteSettings admin = site(List.of("admin.org"), true, ADMIN);
        Router router = new Router(List.of(pub, admin), admin);
        assertThatThrownBy(() -> router.route(PUBLIC, "example.org", "/"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("no site listens on 127.0.0.1:8080");
        assertThat(router.serves(PUBLIC)).as("the closed listener's address").isFalse();
        assertThat(router.serves(moved)).isTrue();
        assertThat(router.serves(ADMIN)).isTrue();
        assertThat(router.serves(null)).as("no listener known: among every site").isTrue();
        assertThat(router.site(null, "example.org")).isSameAs(admin);
    }

    /** Where every site listens on every address, any address is routed, as it was: no address is looked up. */
    @Test
    void anyAddressIsRoutedWhereNoSiteListensApart() {
        SiteSettings only = site(List.of("a.org"), true, ADMIN);
        Router router = new Router(List.of(only), only);
        assertThat(router.routesByAddress()).isFalse();
        assertThat(router.serves(PUBLIC)).isTrue();
        assertThat(router.site(PUBLIC, "other.org")).isSameAs(only);
    }

    @Test
    void aConflictOfSitesOnEveryAddressIsSaidOnce() {
        Router router = new Router(List.of(site(List.of(".a.org"), true, PUBLIC, ADMIN),
                site(List.of("a.org"), false, PUBLIC, ADMIN)), null);
        assertThat(router.conflicts()).containsExactly("conflicting server name \"a.org\" of edge.sites[1] and"
                + " \".a.org\" of edge.sites[0]: requests for a.org go to edge.sites[0], listed first");
    }

    @Test
    void exactMatchWinsOverEverything() {
        assertThat(Router.location(site(List.of(), true), "/images/logo.png")).isSameAs(EXACT);
    }

    @Test
    void firstMatchingRegexWinsOverAPlainPrefix() {
        assertThat(Router.location(site(List.of(), true), "/images/a.jpg")).isSameAs(JPG);
        assertThat(Router.location(site(List.of(), true), "/app/index.php")).isSameAs(PHP);
    }

    @Test
    void longestPrefixWinsWhenNoRegexMatches() {
        assertThat(Router.location(site(List.of(), true), "/images/a.gif")).isSameAs(IMAGES);
        assertThat(Router.location(site(List.of(), true), "/other")).isSameAs(ROOT);
    }

    @Test
    void caretTildePrefixStopsTheRegexSearch() {
        assertThat(Router.location(site(List.of(), true), "/static/x.php")).isSameAs(STATIC_NO_REGEX);
    }

    @Test
    void noLocationMatchesGivesNull() {
        SiteSettings onlyImages = new SiteSettings(List.of(), true, Path.of("/srv"), List.of(), PathPolicy.DEFAULT, List.of(IMAGES));
        assertThat(Router.location(onlyImages, "/elsewhere")).isNull();
    }

    @Test
    void siteIsChosenByHostThenWildcardThenDefault() {
        SiteSettings fallback = site(List.of("_"), true);
        SiteSettings exact = site(List.of("www.example.org"), false);
        SiteSettings wildcard = site(List.of("*.example.org"), false);
        SiteSettings dotted = site(List.of(".example.net"), false);
        Router router = new Router(List.of(fallback, exact, wildcard, dotted), fallback);
        assertThat(router.site("www.example.org")).isSameAs(exact);
        assertThat(router.site("WWW.Example.org:8080")).isSameAs(exact);
        assertThat(router.site("img.example.org")).isSameAs(wildcard);
        assertThat(router.site("example.net")).isSameAs(dotted);
        assertThat(router.site("a.example.net")).isSameAs(dotted);
        assertThat(router.site("unknown.test")).isSameAs(fallback);
        assertThat(router.site(null)).isSameAs(fallback);
    }

    /**
     * ".a.org" claims a.org itself and the names under it; of two sites claiming the same hosts the one listed first
     * answers them, whichever form it used (nginx keeps the first too, with "conflicting server name"). An exact name
     * beside a wildcard that covers it is no conflict: it wins wherever it is listed.
     */
    @Test
    void hostsClaimedByTwoSitesGoToTheFirstListedAndEachConflictNamesBoth() {
        SiteSettings fallback = site(List.of("_"), true);
        SiteSettings dotted = site(List.of(".a.org"), false);
        SiteSettings exact = site(List.of("a.org"), false);
        SiteSettings star = site(List.of("*.a.org", "www.b.org"), false);
        SiteSettings www = site(List.of("www.a.org", "*.b.org"), false);
        Router router = new Router(List.of(fallback, dotted, exact, star, www), fallback);
        assertThat(router.site("a.org")).isSameAs(dotted);
        assertThat(router.site("img.a.org")).isSameAs(dotted);
        assertThat(router.site("www.a.org")).isSameAs(www);
        assertThat(router.site("www.b.org")).isSameAs(star);
        assertThat(router.site("img.b.org")).isSameAs(www);
        assertThat(router.conflicts()).containsExactly(
                "conflicting server name \"a.org\" of edge.sites[2] and \".a.org\" of edge.sites[1]: requests for a.org"
                        + " go to edge.sites[1], listed first",
                "conflicting server name \"*.a.org\" of edge.sites[3] and \".a.org\" of edge.sites[1]: requests for names"
                        + " under a.org go to edge.sites[1], listed first");

        Router reversed = new Router(List.of(fallback, exact, dotted), fallback);
        assertThat(reversed.site("a.org")).isSameAs(exact);
        assertThat(reversed.site("img.a.org")).isSameAs(dotted);
        assertThat(reversed.conflicts()).containsExactly("conflicting server name \".a.org\" of edge.sites[2] and"
                + " \"a.org\" of edge.sites[1]: requests for a.org go to edge.sites[1], listed first");
    }

    /**
     * nginx's order: the exact name, the longest leading wildcard, the longest trailing wildcard, then the first
     * regular expression, by the sites' order, that finds a match in the host (lower case, no port, no trailing dot).
     */
    @Test
    void trailingWildcardsThenRegularExpressionsAfterTheLeadingWildcards() {
        SiteSettings exact = site(List.of("www.example.org"), false);
        SiteSettings leading = site(List.of("*.example.org"), false);
        SiteSettings mail = site(List.of("mail.*"), false);
        SiteSettings mailLonger = site(List.of("mail.example.*"), false);
        SiteSettings numbered = site(List.of("~^www\\d+\\.(?<domain>.+)$"), false);
        SiteSettings caseless = site(List.of("~^Shop\\."), false);
        SiteSettings anyWww = site(List.of("~^www\\."), false);
        SiteSettings fallback = site(List.of(), true);
        Router router = new Router(List.of(exact, leading, mail, mailLonger, numbered, caseless, anyWww, fallback),
                fallback);
        assertThat(router.site("www.example.org")).isSameAs(exact);
        assertThat(router.site("www2.example.org")).as("a leading wildcard before any regex").isSameAs(leading);
        assertThat(router.site("mail.example.com")).as("the longer trailing wildcard").isSameAs(mailLonger);
        assertThat(router.site("MAIL.example.co.uk:8080")).as("several labels, a port").isSameAs(mailLonger);
        assertThat(router.site("mail.test")).isSameAs(mail);
        assertThat(router.site("mail")).as("a trailing wildcard needs a label after it").isSameAs(fallback);
        assertThat(router.site("mail.")).as("nor is a trailing dot one").isSameAs(fallback);
        assertThat(router.site("www2.example.net")).as("the first regex that matches").isSameAs(numbered);
        assertThat(router.site("www.example.net.")).isSameAs(anyWww);
        assertThat(router.site("shop.example.net")).as("caseless: it has an upper-case letter").isSameAs(caseless);
        assertThat(router.site("example.net")).isSameAs(fallback);
        assertThat(router.conflicts()).isEmpty();
        // the regex that chose the site, whose named groups nginx sets as variables; none where another name did
        Route byRegex = router.route(null, "www2.example.net", "/");
        assertThat(byRegex.hostRegex().pattern()).isEqualTo("^www\\d+\\.(?<domain>.+)$");
        assertThat(byRegex.hostGroups()).containsExactly("domain");
        assertThat(router.route(null, "www.example.org", "/").hostRegex()).isNull();
        assertThat(router.route(null, "example.net", "/").hostRegex()).as("the default site").isNull();
        Router twice = new Router(List.of(mail, site(List.of("mail.*"), false), fallback), fallback);
        assertThat(twice.site("mail.test")).isSameAs(mail);
        assertThat(twice.conflicts()).singleElement().asString().contains("conflicting server name \"mail.*\"");
    }

    /**
     * A location's regex gives up on a path it backtracks on past PCRE's match limit, as nginx's does: the request is
     * answered 500, never held on the loop for seconds, nor routed to a less strict location (the plain prefix).
     */
    @Test
    void aLocationRegexThatBacktracksGivesUpWithA500() {
        LocationSettings cubic = location("~ ^/(.*)/(.*)/(.*)\\.jpg$", Kind.REGEX, "^/(.*)/(.*)/(.*)\\.jpg$");
        SiteSettings site = new SiteSettings(List.of(), true, Path.of("/srv"), List.of(), PathPolicy.DEFAULT,
                List.of(ROOT, cubic));
        assertThat(Router.location(site, "/a/b/c.jpg")).isSameAs(cubic);
        assertThat(Router.location(site, "/" + "x".repeat(8000) + ".png")).as("long, but one slash: no backtracking")
                .isSameAs(ROOT);
        String slashes = "/" + "a/".repeat(1500) + "b.png"; // about 1500^3 / 6 reads to say no
        assertThatThrownBy(() -> Router.location(site, slashes)).isInstanceOfSatisfying(HttpStatusException.class,
                e -> assertThat(e.status()).isEqualTo(HttpResponseStatus.INTERNAL_SERVER_ERROR))
                .hasMessageContaining("location \"~ ^/(.*)/(.*)/(.*)\\.jpg$\" gave up on a path of 3006 characters");
        assertThatThrownBy(() -> new Router(List.of(site), site).route("any.host", slashes))
                .isInstanceOf(HttpStatusException.class);
    }

    /**
     * {@code (.+)\.php$}, which Java would try from each character of a long path (8 000^2 / 2 reads), is tried from
     * its start alone, as PCRE anchors it: a long path is answered as nginx answers it, not 500.
     */
    @Test
    void aLocationRegexStartingWithDotStarAnswersALongPath() {
        LocationSettings php = location("~ (.+)\\.php$", Kind.REGEX, "(.+)\\.php$");
        SiteSettings site = new SiteSettings(List.of(), true, Path.of("/srv"), List.of(), PathPolicy.DEFAULT,
                List.of(ROOT, php));
        String path = "/" + "a".repeat(8000);
        assertThat(Router.location(site, path)).isSameAs(ROOT);
        assertThat(Router.location(site, path + ".php")).isSameAs(php);
    }

    /**
     * A regex name's work is bounded, as PCRE's match limit bounds nginx's: a host longer than a DNS name is matched by
     * none, and one a regex backtracks on past its budget matches nothing (said once), rather than holding the loop.
     */
    @Test
    void aRegexThatBacktracksGivesUpRatherThanHoldTheLoop() {
        SiteSettings cubic = site(List.of("~^(.*)\\.(.*)\\.(.*)\\.example\\.org$"), false);
        SiteSettings deep = site(List.of("~^(?:[a-z0-9-]+\\.)*deep\\.com$"), false);
        SiteSettings fallback = site(List.of(), true);
        Router router = new Router(List.of(cubic, deep, fallback), fallback);
        assertThat(router.site("a.b.c.example.org")).isSameAs(cubic);
        String backtracking = "a.".repeat(120) + "x"; // 241 characters: ~120^3 / 6 steps for the cubic regex
        try (CapturedLog log = CapturedLog.of(Router.class)) {
            assertThat(router.site(backtracking)).isSameAs(fallback);
            assertThat(log.warnings()).singleElement().asString().contains("gave up on a host of 241 characters");
        }
        assertThat(router.site("a.".repeat(123) + "deep.com")).as("254 characters, about the longest a host name is").isSameAs(deep);
        assertThat(router.site("a.".repeat(2000) + "deep.com")).as("longer than any host name: no regex")
                .isSameAs(fallback);
    }

    /** A site without a name that is not the default answers nothing: said, as nginx warns of a second nameless server. */
    @Test
    void aNamelessSiteThatIsNotTheDefaultIsSaidToBeUnreachable() {
        SiteSettings first = site(List.of(), false);
        SiteSettings second = site(List.of(), false);
        SiteSettings named = site(List.of("a.org"), false);
        Router router = new Router(List.of(first, second, named), first);
        assertThat(router.site("b.org")).isSameAs(first);
        assertThat(router.conflicts()).containsExactly(
                "edge.sites[1] has no server-names and is not the default site: no request reaches it");
        assertThat(new Router(List.of(named, first), first).conflicts()).as("the default").isEmpty();
    }

    @Test
    void namesOfOneSiteThatOverlapAreNoConflict() {
        SiteSettings fallback = site(List.of("_"), true);
        SiteSettings both = site(List.of(".a.org", "a.org", "*.a.org"), false);
        assertThat(new Router(List.of(fallback, both), fallback).conflicts()).isEmpty();
    }

    @Test
    void anIpv6LiteralNamesASiteWithOrWithoutAPort() {
        SiteSettings fallback = site(List.of("_"), true);
        SiteSettings loopback = site(List.of("[::1]"), false);
        Router router = new Router(List.of(fallback, loopback), fallback);
        assertThat(router.site("[::1]")).isSameAs(loopback);
        assertThat(router.site("[::1]:8080")).isSameAs(loopback);
        assertThat(router.site("[::2]:8080")).isSameAs(fallback);
    }
}
