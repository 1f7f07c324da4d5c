package io.edge.fastcgi.cgi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edge.fastcgi.cgi.ScriptResolver.NotFound;
import io.edge.fastcgi.cgi.ScriptResolver.Script;
import io.edge.fastcgi.cgi.ScriptResolver.StaticFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A root that stands for a prefix, nginx's {@code location /phpmyadmin/ { alias /usr/share/phpmyadmin/; }}: a path's
 * file is the alias and what follows the prefix, the script name the request's path. Values as nginx 1.22 gives them
 * with {@code fastcgi_param SCRIPT_FILENAME $request_filename} (checked with php-fpm 8.2 printing $_SERVER):
 * /phpmyadmin/sub/x.php runs /usr/share/phpmyadmin/sub/x.php, SCRIPT_NAME /phpmyadmin/sub/x.php.
 */
class AliasScriptResolverTest {

    @TempDir
    Path dir;
    Path alias;

    @BeforeEach
    void tree() throws IOException {
        alias = dir.resolve("pma");
        Files.createDirectories(alias.resolve("sub"));
        Files.writeString(alias.resolve("index.php"), "<?php");
        Files.writeString(alias.resolve("sub/x.php"), "<?php");
        Files.writeString(alias.resolve("s.css"), "body{}");
        Files.writeString(dir.resolve("outside.php"), "<?php");
        alias = alias.toAbsolutePath().normalize();
    }

    private ScriptResolver resolver(String frontController) {
        return new ScriptResolver(alias, "/phpmyadmin/", ScriptResolver.DEFAULT_SPLIT, frontController,
                ScriptResolver.FileProbe.FILESYSTEM);
    }

    @Test
    void aScriptIsTheAliasAndThePathPastThePrefixNamedByTheRequestsPath() {
        assertThat(resolver(null).resolve("/phpmyadmin/sub/x.php/more", "a=1")).isEqualTo(new Script(alias,
                alias.resolve("sub/x.php"), "/phpmyadmin/sub/x.php", "/more", "/phpmyadmin/sub/x.php/more", "a=1"));
        assertThat(resolver(null).resolve("/phpmyadmin/", "")).as("a directory, for its index")
                .isEqualTo(new StaticFile(alias, true));
        assertThat(resolver(null).resolve("/phpmyadmin/s.css", "")).as("no script, and never sent as one")
                .isInstanceOf(NotFound.class);
    }

    @Test
    void aFrontControllerIsNamedByItsUriUnderThePrefix() {
        assertThat(resolver("/phpmyadmin/index.php").resolve("/phpmyadmin/a/route", "q")).isEqualTo(new Script(
                alias, alias.resolve("index.php"), "/phpmyadmin/index.php", "", "/phpmyadmin/index.php", "q"));
        assertThat(resolver("/index.php").resolve("/phpmyadmin/a/route", "q"))
                .as("a front controller outside the prefix names no file of the alias (the config refuses it)")
                .isInstanceOf(NotFound.class);
        assertThat(resolver(null).fixed("/phpmyadmin/index.php", "/phpmyadmin/x", "")).isEqualTo(new Script(
                alias, alias.resolve("index.php"), "/phpmyadmin/index.php", "", "/phpmyadmin/x", ""));
    }

    /** Nothing outside the alias's directory is ever named, whatever the path (the router gives only its prefix's). */
    @Test
    void aPathOutsideThePrefixOrAboveTheAliasNamesNoFile() {
        assertThat(resolver(null).resolve("/outside.php", "")).isInstanceOf(NotFound.class);
        assertThat(resolver(null).resolve("/phpmyadmin/../outside.php", "")).isInstanceOf(NotFound.class);
        assertThat(resolver("/phpmyadmin/index.php").resolve("/phpmyadmin/../outside.php", ""))
                .isInstanceOf(NotFound.class);
        assertThat(resolver(null).fixed("/outside.php", "/outside.php", "")).isInstanceOf(NotFound.class);
    }

    /**
     * A ".php" in the prefix names no file (the alias's directory stands for it): the split looks past it, as it looks
     * past a directory named so under a root. nginx 1.22, {@code location /app.php/ { alias ...; location ~ \.php$ {
     * ... SCRIPT_FILENAME $request_filename; } }}: /app.php/sub/x.php runs the alias's sub/x.php, SCRIPT_NAME
     * /app.php/sub/x.php; /app.php/ its index.
     */
    @Test
    void aPhpNameInThePrefixIsNoScript() {
        ScriptResolver resolver = new ScriptResolver(alias, "/app.php/", ScriptResolver.DEFAULT_SPLIT, null,
                ScriptResolver.FileProbe.FILESYSTEM);
        assertThat(resolver.resolve("/app.php/sub/x.php/more", "")).isEqualTo(new Script(alias,
                alias.resolve("sub/x.php"), "/app.php/sub/x.php", "/more", "/app.php/sub/x.php/more", ""));
        assertThat(resolver.resolve("/app.php/", "")).as("a directory, for its index")
                .isEqualTo(new StaticFile(alias, true));
        assertThat(resolver.resolve("/app.php/missing.php", "")).isInstanceOf(NotFound.class);
    }

    @Test
    void aPrefixIsOneBetweenSlashes() {
        assertThatThrownBy(() -> new ScriptResolver(alias, "/phpmyadmin", ScriptResolver.DEFAULT_SPLIT, null,
                ScriptResolver.FileProbe.FILESYSTEM)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("uriPrefix: /phpmyadmin (expected: starting and ending with /)");
    }
}
