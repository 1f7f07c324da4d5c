package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A site's and a location's {@code rewrites} (nginx's if with return or rewrite, and bare rewrites) onto settings. */
class RewriteRulesConfigTest {

    /** What a problem naming an unknown variable in a rewrite lists as known, in its order. */
    private static final String KNOWN_VARIABLES = "$args, $content_length, $content_type, $document_uri, $host, $http2,"
            + " $https, $is_args, $proxy_add_x_forwarded_for, $proxy_host, $query_string, $remote_addr, $remote_port,"
            + " $request_id, $request_method, $request_uri, $scheme, $secure_link, $secure_link_expires, $server_addr,"
            + " $server_name, $server_port, $server_protocol, $ssl_cipher,"
            + " $ssl_client_cert, $ssl_client_escaped_cert, $ssl_client_fingerprint, $ssl_client_i_dn,"
            + " $ssl_client_raw_cert, $ssl_client_s_dn, $ssl_client_serial, $ssl_client_v_end, $ssl_client_v_remain,"
            + " $ssl_client_v_start, $ssl_client_verify, $ssl_protocol, $ssl_server_name, $uri,"
            + " $http_<header>, $arg_<name>, $cookie_<name>";

    @TempDir
    Path dir;

    @Test
    void entriesAreReadAsNginxWritesThem() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                server.maps.is_bot { source = "$http_user_agent", default = "0", values = [
                  { match = "~*bot", value = "1" }
                ] }
                sites = [{ root = www
                  rewrites = [
                    { if = "$host != 'example.com'", return = "301 https://example.com$request_uri" }
                    { if = "($request_method !~* ^(GET|HEAD)$)", return = 405 }
                    { if = "$is_bot", return = 444 }
                    { rewrite = "^/old/(.*)$ /new/$1 permanent" }
                    { rewrite = "^/feed$ /index.php?feed=rss last" }
                    { rewrite = "'^/a b$' https://example.org/x?y=1" }
                    { rewrite = "^/c$ /d?" }
                  ]
                  locations = [{ match = "~ ^/p/(\\\\d+)$", rewrites = [
                    { if = "$http_x_id = ''", return = "302 /q/$1" }
                    { if = "$arg_lang ~ ^(?<lang>en|fr)$", return = "302 /$lang/" }
                  ] }]
                }]
                """));
        List<RewriteRule> site = settings.sites().get(0).rewrites();
        assertThat(site).extracting(r -> r.condition() == null ? null : r.condition().operator(), RewriteRule::flag)
                .containsExactly(tuple(RewriteRule.Operator.NOT_EQUALS, RewriteRule.Flag.NONE),
                        tuple(RewriteRule.Operator.NOT_MATCHES, RewriteRule.Flag.NONE),
                        tuple(RewriteRule.Operator.SET, RewriteRule.Flag.NONE),
                        tuple(null, RewriteRule.Flag.PERMANENT), tuple(null, RewriteRule.Flag.LAST),
                        tuple(null, RewriteRule.Flag.REDIRECT), tuple(null, RewriteRule.Flag.NONE));
        assertThat(site.get(0).condition().subject().variable()).isEqualTo("host");
        assertThat(site.get(0).condition().text()).as("the quotes taken off")
                .containsExactly(new Return.Part("example.com", null));
        assertThat(site.get(1).condition().regex().matcher("delete").find()).as("~* ignores case").isFalse();
        assertThat(site.get(1).condition().regex().matcher("get").find()).isTrue();
        assertThat(site.get(2).condition().subject().map()).as("a map's variable").isNotNull();
        assertThat(site.get(3).answer().status()).isEqualTo(301);
        assertThat(site.get(3).argsJoin()).isEqualTo("?");
        assertThat(site.get(4).rewrite().query()).containsExactly(new Return.Part("feed=rss", null));
        assertThat(site.get(5).answer().status()).as("a URL replacement redirects, 302").isEqualTo(302);
        assertThat(site.get(5).argsJoin()).isEqualTo("&");
        assertThat(site.get(5).regex().pattern()).isEqualTo("^/a b$");
        assertThat(site.get(6).rewrite().keepsQuery()).isFalse();
        List<RewriteRule> location = settings.sites().get(0).locations().get(0).rewrites();
        assertThat(location.get(0).condition().text()).as("'' is empty").isEmpty();
        assertThat(location.get(0).answer().text().get(1).isCapture()).as("the location regex's capture").isTrue();
        assertThat(location.get(1).regex()).as("the if's own regex gives the captures")
                .isSameAs(location.get(1).condition().regex());
    }

    @Test
    void badEntriesAreListedWithWhatIsWrong() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www
                  rewrites = [
                    { if = "$nope", return = 403 }
                    { if = "$host ~ ^(a", return = 403 }
                    { if = "-q $uri", rewrite = "^ /index.php last" }
                    { if = "$host <> a", return = 403 }
                    { if = "$host", return = "200 $1" }
                    { rewrite = "^/a$" }
                    { rewrite = "^/a$ /b sideways" }
                    { if = "$host" }
                    { if = "$host", return = 403, rewrite = "^ /b" }
                    { if = "$host", retrun = 403 }
                    { rewrite = "^/(a)$ /b/$2 last" }
                  ]
                  locations = [{ match = "/", rewrites = [{ rewrite = "^/x$ /y break" }] }]
                }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(4, "edge.sites[0].rewrites[0].if", "\"$nope\" has unknown variable $nope (known: " + KNOWN_VARIABLES + ")"),
                        tuple(5, "edge.sites[0].rewrites[1].if",
                                "\"$host ~ ^(a\" bad regular expression: Unclosed group at index 3"),
                        tuple(6, "edge.sites[0].rewrites[2].if", "\"-q $uri\" has \"-q\" where a file test (-f, !-f,"
                                + " -d, !-d, -e, !-e, -x, !-x) goes"),
                        tuple(7, "edge.sites[0].rewrites[3].if",
                                "\"$host <> a\" has \"<>\" where an operator (=, !=, ~, ~*, !~, !~*) goes"),
                        tuple(8, "edge.sites[0].rewrites[4].return",
                                "\"200 $1\" has capture $1, but a site's rewrites have no location regex: an if with"
                                + " a regex has the captures (\"$uri ~ ^/(.*)$\")"),
                        tuple(9, "edge.sites[0].rewrites[5].rewrite",
                                "\"^/a$\" has 1 word, not a regex, a replacement and an optional flag"),
                        tuple(10, "edge.sites[0].rewrites[6].rewrite",
                                "\"^/a$ /b sideways\" has flag \"sideways\", not last, break, redirect or permanent"),
                        tuple(11, "edge.sites[0].rewrites[7]", "has neither return, rewrite nor set"),
                        tuple(12, "edge.sites[0].rewrites[8].rewrite", "set beside a return, which answers first"),
                        tuple(13, "edge.sites[0].rewrites[9].retrun", "is no key of a rewrites entry (did you mean"
                                + " \"return\"?)"),
                        tuple(14, "edge.sites[0].rewrites[10].rewrite",
                                "\"^/(a)$ /b/$2 last\" has capture $2, but the location's regex has 1 group"),
                        tuple(16, "edge.sites[0].locations[0].rewrites[0].rewrite", "\"^/x$ /y break\" has flag"
                                + " break, which in a location would serve the new URI from it (nginx's \"if is"
                                + " evil\"): last routes it to its own location"));
    }

    /**
     * nginx's file tests, "-f", "!-f", "-d", "!-d", "-e", "!-e", "-x", "!-x" and a path: a text of variables (edge's
     * $request_filename and $document_root among them), in a site and in a location, where the location regex's
     * captures are the path's too.
     */
    @Test
    void fileTestsAreReadAsNginxWritesThem() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www
                  rewrites = [
                    { if = "(!-e $request_filename)", rewrite = "^ /index.php last" }
                    { if = "-f $document_root/maintenance.html", return = 503 }
                    { if = "!-f '/srv/x y'", return = 404 }
                    { if = "-d $request_filename", set = "$dir 1" }
                    { if = "!-d $request_filename", return = 404 }
                    { if = "-e /etc/passwd", return = 403 }
                    { if = "-x $request_filename", return = 403 }
                    { if = "!-x '/srv/a b'", return = 403 }
                  ]
                  locations = [{ match = "~ ^/u/(\\\\w+)$", rewrites = [
                    { if = "!-f $document_root/u/$1.html", return = "302 /$1" }
                  ] }]
                }]
                """));
        List<RewriteRule> site = settings.sites().get(0).rewrites();
        assertThat(site).extracting(r -> r.condition().operator()).containsExactly(RewriteRule.Operator.NOT_EXISTS,
                RewriteRule.Operator.FILE, RewriteRule.Operator.NOT_FILE, RewriteRule.Operator.DIRECTORY,
                RewriteRule.Operator.NOT_DIRECTORY, RewriteRule.Operator.EXISTS, RewriteRule.Operator.EXECUTABLE,
                RewriteRule.Operator.NOT_EXECUTABLE);
        assertThat(site).allMatch(r -> r.condition().operator().fileTest() && r.condition().subject() == null);
        assertThat(site.get(0).condition().text()).containsExactly(new Return.Part(null, "request_filename"));
        assertThat(site.get(1).condition().text()).containsExactly(new Return.Part(null, "document_root"),
                new Return.Part("/maintenance.html", null));
        assertThat(site.get(2).condition().text()).as("quoted where it has blanks")
                .containsExactly(new Return.Part("/srv/x y", null));
        assertThat(site.get(0).condition().text().get(0).isCapture()).isFalse();
        RewriteRule location = settings.sites().get(0).locations().get(0).rewrites().get(0);
        assertThat(location.condition().text().get(2).isCapture()).as("the location regex's capture").isTrue();
        assertThat(location.regex()).as("the return's captures, the location's")
                .isSameAs(settings.sites().get(0).locations().get(0).regex());
    }

    /**
     * A file test that is none of nginx's, without a path, with a comparison or a regex after it, or with a path that
     * is no absolute one is a problem naming the entry's file, line and key; $request_filename is a file test's alone.
     */
    @Test
    void badFileTestsAreListedWithWhatIsWrong() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www
                  rewrites = [
                    { if = "-q $uri", return = 403 }
                    { if = "!-f", return = 403 }
                    { if = "-f $request_filename ~ \\\\.php$", return = 403 }
                    { if = "!-e ~^/x", return = 403 }
                    { if = "-f maintenance.html", return = 503 }
                    { if = "-d $nope", return = 403 }
                    { if = "$request_filename", return = 403 }
                    { if = "-f $1", return = 403 }
                  ]
                }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactly(
                        tuple(4, "edge.sites[0].rewrites[0].if", "\"-q $uri\" has \"-q\" where a file test (-f, !-f,"
                                + " -d, !-d, -e, !-e, -x, !-x) goes"),
                        tuple(5, "edge.sites[0].rewrites[1].if", "\"!-f\" has no path after !-f"),
                        tuple(6, "edge.sites[0].rewrites[2].if", "\"-f $request_filename ~ \\.php$\" has 3 words"
                                + " after -f, which takes one path (a text of variables, such as $request_filename or"
                                + " $document_root/maintenance.html), not a comparison"),
                        tuple(7, "edge.sites[0].rewrites[3].if", "\"!-e ~^/x\" has a regex after !-e, which takes one"
                                + " path (a text of variables, such as $request_filename or"
                                + " $document_root/maintenance.html), not a comparison"),
                        tuple(8, "edge.sites[0].rewrites[4].if", "\"-f maintenance.html\" tests"
                                + " \"maintenance.html\", which is no absolute path (\"/\" or a variable first)"),
                        tuple(9, "edge.sites[0].rewrites[5].if", "\"-d $nope\" has unknown variable $nope (known: " + KNOWN_VARIABLES + ")"),
                        tuple(10, "edge.sites[0].rewrites[6].if", "\"$request_filename\" has"
                                + " $request_filename, which only a file test's path names (\"!-e $request_filename\")"),
                        tuple(11, "edge.sites[0].rewrites[7].if", "\"-f $1\" has capture $1, but a site's rewrites"
                                + " have no location regex: an if with a regex has the captures (\"$uri ~ ^/(.*)$\")"));
    }

    /**
     * The text or regex after an if's operator is one word, as nginx takes it: "$uri = a b" (nginx's "invalid
     * condition") is a problem saying to quote it; it was taken as the text "a b". Nothing after = is one too (nginx's
     * "invalid condition"; '' is the empty text).
     */
    @Test
    void aConditionsTextWithBlanksIsQuoted() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www
                  rewrites = [
                    { if = "$uri = a b", return = 403 }
                    { if = "$uri !~ ^/a b$", return = 403 }
                    { if = "$uri = 'a' b", return = 403 }
                    { if = "$uri =", return = 403 }
                    { if = "$uri = 'a b'", return = 403 }
                    { if = "$uri ~ \\"^/a b$\\"", return = 403 }
                  ]
                  locations = [{ match = "/" }]
                }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(4, "edge.sites[0].rewrites[0].if", "\"$uri = a b\" has 2 words after =, which nginx"
                                + " refuses (\"invalid condition\"): a text with blanks is quoted, 'a b' or \"a b\""),
                        tuple(5, "edge.sites[0].rewrites[1].if", "\"$uri !~ ^/a b$\" has 2 words after !~, which"
                                + " nginx refuses (\"invalid condition\"): a regex with blanks is quoted, '^/a b$' or"
                                + " \"^/a b$\""),
                        tuple(6, "edge.sites[0].rewrites[2].if", "\"$uri = 'a' b\" has 2 words after =, which nginx"
                                + " refuses (\"invalid condition\"): a text with blanks is quoted whole"),
                        tuple(7, "edge.sites[0].rewrites[3].if", "\"$uri =\" has no text after = ('' for the empty"
                                + " one)"));
    }

    /**
     * An if's text has the captures its return has: in a regex location the location's, as nginx's
     * "if ($arg_c = $1)" in "location ~ ^/eq/(\w+)$" compares with the location's $1 (it said "no regex" of a regex
     * location). A site's have none, and say where captures come from; a prefix location's, that it has no regex.
     */
    @Test
    void anIfTextHasTheLocationRegexsCaptures() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www
                  rewrites = [{ if = "$arg_c = $1", return = 403 }]
                  locations = [
                    { match = "~ ^/eq/(\\\\w+)$", rewrites = [{ if = "$arg_c = $1", return = 403 }] }
                    { match = "/", rewrites = [{ if = "$arg_c != x$1", return = 403 }] }
                    { match = "~ ^/two/(a)$", rewrites = [{ if = "$arg_c = $2", return = 403 }] }
                  ]
                }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(3, "edge.sites[0].rewrites[0].if", "\"$arg_c = $1\" has capture $1, but a site's"
                                + " rewrites have no location regex: an if with a regex has the captures"
                                + " (\"$uri ~ ^/(.*)$\")"),
                        tuple(6, "edge.sites[0].locations[1].rewrites[0].if",
                                "\"$arg_c != x$1\" has capture $1 in a location whose match is no regex"),
                        tuple(7, "edge.sites[0].locations[2].rewrites[0].if",
                                "\"$arg_c = $2\" has capture $2, but the location's regex has 1 group"));
    }

    /**
     * As nginx's $1 to $9 are the last regex's that ran, an entry after a rewrite or an if with a regex may name as
     * many as the most any regex before it has ("rewrite ^/(a)(.*)$ /x$2; set $v $1;" in a prefix location, in a
     * site); one past them all is still a problem, and so is one before any regex ran.
     */
    @Test
    void anEntryMayNameTheCapturesOfTheRegexesMetBeforeIt() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www
                  rewrites = [{ rewrite = "^/old/(a)(.*)$ /new/$2" }, { set = "$was $2" }]
                  locations = [
                    { match = "/r/", rewrites = [
                      { rewrite = "^/r/(a)(.*)$ /x$2" }
                      { if = "$arg_c = $2", set = "$v $1" }
                      { return = "200 $1 $2" }
                    ] }
                  ]
                }]
                """));
        assertThat(settings.sites().get(0).rewrites().get(1).sets().get(0).value())
                .containsExactly(new Return.Part(null, "2"));
        assertThat(settings.sites().get(0).locations().get(0).rewrites().get(2).answer().text()).hasSize(3);

        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www
                  rewrites = [{ set = "$early $1" }, { rewrite = "^/old/(a)$ /new" }, { return = "200 $2" }]
                }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key).containsExactlyInAnyOrder(
                "edge.sites[0].rewrites[0].set", "edge.sites[0].rewrites[2].return");
    }

    /**
     * nginx keeps a named group as a variable of the match that set it: an entry may name a group of any regex met
     * before it in its list (an earlier if's, rewrite's, its own if's, the location's), in its if text, file test,
     * rewrite, return and sets ("if ($uri ~ ^/(?<slug>[a-z]+)) {...} rewrite ^ /index.php?s=$slug;"). A site's regex
     * declares its groups as variables for every text, as nginx's: one named before its regex ("" until it matched), or
     * in a location. No numbered capture comes with a name: "$2" after a regex of one group is still a problem.
     */
    @Test
    void anEntryMayNameTheNamedGroupsOfTheRegexesMetBeforeIt() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www
                  rewrites = [
                    { if = "$uri ~ ^/(?<slug>[a-z]+)", set = "$seen $slug" }
                    { rewrite = "^/s/ /index.php?s=$slug last" }
                    { if = "$arg_x = $slug", return = "301 /x/$slug" }
                    { if = "!-f /srv/$slug", set = "$missing $slug" }
                    { if = "$arg_y ~ ^(?<y>\\\\d+)$", rewrite = "^/y/ /y.php?y=$y&s=$slug redirect" }
                  ]
                  locations = [
                    { match = "~ ^/n/(?<n>\\\\w+)$", rewrites = [{ rewrite = "^ /index.php?n=$n last" }] }
                  ]
                }]
                """));
        List<RewriteRule> rules = settings.sites().get(0).rewrites();
        assertThat(rules.get(1).rewrite().query()).contains(new Return.Part(null, "slug"));
        assertThat(rules.get(4).answer().text()).contains(new Return.Part(null, "slug"), new Return.Part(null, "y"));
        assertThat(rules.get(0).groups()).isSameAs(rules.get(4).groups()).hasSize(2);

        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www
                  rewrites = [
                    { rewrite = "^/a/ /b?s=$late" }
                    { if = "$uri ~ ^/(?<late>[a-z]+)", return = "200 $late $2" }
                  ]
                  locations = [{ match = "/", rewrites = [{ return = "200 $late" }] }]
                }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key)
                .containsExactly(tuple(5, "edge.sites[0].rewrites[1].return"));
        assertThat(e.problems().get(0).message()).contains("has capture $2");
    }

    /**
     * nginx keeps a named capture as a variable for the rest of the request: a location's return, headers and
     * rewrites may name a group of its site's server name ("~^(?<sub>.+)\\.example\\.com$") or of its site's rewrites,
     * which edge used to refuse as an unknown variable. Each is the site's variable of that name; a name no regex
     * gives is still refused.
     */
    @Test
    void aLocationMayNameTheNamedGroupsOfItsSitesRegexes() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, server-names = ["~^(?<sub>[a-z]+)\\\\.example\\\\.com$"]
                  rewrites = [{ rewrite = "^/(?<lang>en|fr)/(.*)$ /$2" }]
                  locations = [
                    { match = "/a", return = "200 $sub $lang", headers { X-Sub = "$sub" } }
                    { match = "/b", rewrites = [{ if = "$sub = www", return = "301 https://example.com$uri" }] }
                  ]
                }]
                """));
        SiteSettings site = settings.sites().get(0);
        assertThat(site.captureVariables()).containsOnlyKeys("sub", "lang");
        VariableMap sub = site.captureVariables().get("sub");
        assertThat(site.locations().get(0).returns().text()).extracting(Return.Part::map)
                .containsExactly(sub, null, site.captureVariables().get("lang"));
        assertThat(site.locations().get(0).headers().get("X-Sub").parts()).extracting(Return.Part::map)
                .containsExactly(sub);
        assertThat(site.locations().get(1).rewrites().get(0).condition().subject().map()).isSameAs(sub);

        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, server-names = ["~^(?<sub>[a-z]+)\\\\.example\\\\.com$"]
                  locations = [{ match = "/", return = "200 $other" }]
                }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key).containsExactly("edge.sites[0].locations[0].return");
        assertThat(e.problems().get(0).message()).contains("has unknown variable $other")
                .contains("(a site regex's named captures: $sub)");
    }
}
