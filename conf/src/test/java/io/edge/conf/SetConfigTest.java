package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nginx's {@code set} as a rewrites entry, the variables it declares for every text, and {@code cache.responses}'
 * {@code bypass} and {@code no-cache} (nginx's fastcgi_cache_bypass, fastcgi_no_cache).
 */
class SetConfigTest {

    @TempDir
    Path dir;

    @Test
    void theWordPressSkipCacheBlockIsRead() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                server.maps.tier { source = "$skip_cache", default = "page", values = [{ match = "1", value = "php" }] }
                cache.responses { bypass = ["$skip_cache", "$cookie_nocache", "$arg_nocache"], no-cache = ["$skip_cache"] }
                fastcgi.backends.php { addresses = ["127.0.0.1:9000"] }
                sites = [{ root = www
                  rewrites = [
                    { set = "$skip_cache 0" }
                    { if = "$request_method = POST", set = "$skip_cache 1" }
                    { if = "$query_string != ''", set = "$skip_cache 1" }
                    { if = "$request_uri ~* \\"/wp-admin/|/xmlrpc.php|wp-.*.php|/feed/|index.php|sitemap(_index)?.xml\\"", set = "$skip_cache 1" }
                    { if = "$http_cookie ~* \\"comment_author|wordpress_[a-f0-9]+|wp-postpass|wordpress_no_cache|wordpress_logged_in\\"", set = "$skip_cache 1" }
                    { if = "$uri ~ ^/u/([^/]+)", set = ["$user $1", "$full '$scheme://$host$uri'"] }
                    { rewrite = "^/old/(.*)$ /new/$1", set = "$was $1" }
                    { if = "$arg_q", set = ["$args ''", "$tier x"] }
                  ]
                  locations = [{ match = "~ \\\\.php$", fastcgi = php, cache = true, headers { X-Skip = "$skip_cache $tier" } }]
                }]
                """));
        List<RewriteRule> site = settings.sites().get(0).rewrites();
        assertThat(site).allMatch(r -> !r.sets().isEmpty());
        assertThat(site.subList(0, 6)).allMatch(RewriteRule::setsOnly);
        assertThat(site.get(0).sets()).extracting(RewriteRule.Assignment::name).containsExactly("skip_cache");
        assertThat(site.get(0).sets().get(0).value()).containsExactly(new Return.Part("0", null));
        assertThat(site.get(0).sets().get(0).variable()).as("declared by the set, the same variable each time")
                .isSameAs(site.get(1).sets().get(0).variable()).isNotNull();
        assertThat(site.get(5).sets()).extracting(RewriteRule.Assignment::name).containsExactly("user", "full");
        assertThat(site.get(5).sets().get(0).value().get(0).isCapture()).as("the if regex's capture").isTrue();
        assertThat(site.get(5).regex()).isSameAs(site.get(5).condition().regex());
        assertThat(site.get(5).sets().get(1).value()).extracting(Return.Part::variable)
                .containsExactly("scheme", null, "host", "uri");
        assertThat(site.get(6).rewrite()).as("beside a rewrite: made where it matches, its captures").isNotNull();
        assertThat(site.get(6).sets().get(0).value().get(0).isCapture()).isTrue();
        assertThat(site.get(7).sets().get(0).variable()).as("$args: the query").isNull();
        assertThat(site.get(7).sets().get(0).value()).as("'' is empty").isEmpty();
        assertThat(site.get(7).sets().get(1).variable().name()).as("a map's value replaced, as nginx's set")
                .isEqualTo("tier");
        VariableMap skip = site.get(0).sets().get(0).variable();
        VariableText header = settings.sites().get(0).locations().get(0).headers().get("X-Skip");
        assertThat(header.parts().get(0).map()).as("a header names the set variable").isSameAs(skip);
        assertThat(header.parts().get(2).map().source().get(0).map()).as("a map's source names it")
                .isSameAs(skip);
        assertThat(settings.cache().bypass()).hasSize(3);
        assertThat(settings.cache().bypass().get(0).parts().get(0).map()).isSameAs(skip);
        assertThat(settings.cache().bypass().get(2).parts().get(0).variable()).isEqualTo("arg_nocache");
        assertThat(settings.cache().noCache()).hasSize(1);
        assertThat(settings.cache().noCache().get(0).parts().get(0).map()).isSameAs(skip);
    }

    @Test
    void badSetsAreListedWithWhatIsWrong() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                cache.responses { bypass = ["$nope"], no-cache = "$skip" }
                sites = [{ root = www
                  rewrites = [
                    { set = "$uri /x" }
                    { set = "$http_x_a 1" }
                    { set = "$skip" }
                    { set = "skip 1" }
                    { set = "$skip $1" }
                    { set = [] }
                    { set = "$skip $nope" }
                    { if = "$host", set = ["$skip 1", "$document_root /x"] }
                    { set = "$Skip 1" }
                    { set = "$limit_rate 100k" }
                  ]
                  locations = [{ match = "/" }]
                }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .contains(
                        tuple(5, "edge.sites[0].rewrites[0].set", "\"$uri /x\" sets edge's $uri, which the request"
                                + " makes: a set may change $args (the query passed on) and its own variables"),
                        tuple(6, "edge.sites[0].rewrites[1].set", "\"$http_x_a 1\" sets $http_x_a, which is named"
                                + " after the request's header, argument or cookie: a set may change $args (the query"
                                + " passed on) and its own variables"),
                        tuple(7, "edge.sites[0].rewrites[2].set", "\"$skip\" has 1 word, not a variable and a value"),
                        tuple(8, "edge.sites[0].rewrites[3].set", "\"skip 1\" sets \"skip\", which is no variable"
                                + " ($name)"),
                        tuple(9, "edge.sites[0].rewrites[4].set", "\"$skip $1\" has capture $1, but a site's rewrites"
                                + " have no location regex: an if with a regex has the captures (\"$uri ~ ^/(.*)$\")"),
                        tuple(10, "edge.sites[0].rewrites[5].set", "[] sets nothing"),
                        tuple(12, "edge.sites[0].rewrites[7].set[1]", "\"$document_root /x\" sets nginx's"
                                + " $document_root, which edge does not have: a set may change $args (the query passed"
                                + " on) and its own variables"),
                        tuple(13, "edge.sites[0].rewrites[8].set", "\"$Skip 1\" sets \"$Skip\", not a variable's name"
                                + " (lower-case letters, digits and '_', not starting with a digit)"),
                        tuple(14, "edge.sites[0].rewrites[9].set", "\"$limit_rate 100k\" sets nginx's $limit_rate,"
                                + " which edge does not read: a location's limit-rate (nginx's limit_rate), or a"
                                + " script's X-Accel-Limit-Rate"));
        assertThat(e.problems()).extracting(ConfigProblem::key).contains("edge.sites[0].rewrites[6].set",
                "edge.cache.responses.bypass", "edge.cache.responses.no-cache");
        assertThat(e.problems()).filteredOn(p -> p.key().equals("edge.sites[0].rewrites[6].set"))
                .extracting(ConfigProblem::message).allMatch(m -> m.startsWith("\"$skip $nope\" has unknown variable"
                        + " $nope"));
    }
    /**
     * A set in site-defaults' locations (those of every site that lists none) declares its variable as any other set
     * does: it was refused as "nginx's $from_defaults, which edge does not have", and every text naming it too.
     */
    @Test
    void aSetInSiteDefaultsLocationsDeclaresItsVariable() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                site-defaults.locations = [{ match = "/", rewrites = [{ set = "$from_defaults 1" },
                  { return = "200 $from_defaults" }] }]
                sites = [{ root = www }]
                """));
        RewriteRule.Assignment set = settings.sites().get(0).locations().get(0).rewrites().get(0).sets().get(0);
        assertThat(set.variable()).isNotNull();
        assertThat(set.variable().name()).isEqualTo("from_defaults");
    }
}
