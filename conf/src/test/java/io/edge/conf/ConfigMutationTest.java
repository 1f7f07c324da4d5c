package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every value of a configuration that uses most of what edge has, written wrong in each of a fixed set of ways (a list
 * where a string goes, an object, null, a number too large, a bad regex, an unfinished variable, a substitution of
 * nothing...), one at a time: each load either takes it or lists problems, each with its file, line, key and what
 * was expected, one of them at the line changed (unless the value unsets a key another needs). Never an exception of
 * another kind (a stack trace of --check-config, a reload's thread gone). A value found to throw is to be added here.
 */
class ConfigMutationTest {

    /** One value a line, so that each can be written wrong on its own. */
    private static final String BASE = """
            edge {
              server {
                listen = ["127.0.0.1:19601"]
                io-threads = 2
                max-connections = 100
                limits {
                  header-count = 100
                  body = 16 MiB
                }
                timeouts {
                  keep-alive = 75 s
                }
                access-log = "access.log"
                access-log-format = "$remote_addr $status $app_env $allowed_net $is_bot"
                access-log-escape = json
                maps {
                  is_bot {
                    source = "$http_user_agent"
                    default = "0"
                    values = [{ match = "~*(googlebot|bingbot)", value = "1" }]
                  }
                  app_env {
                    source = "$host"
                    hostnames = true
                    values = [{ match = ".staging.example.org", value = staging }]
                  }
                }
                geo {
                  allowed_net {
                    default = "0"
                    values = [{ match = "10.0.0.0/8", value = "1" }]
                  }
                }
                real-ip {
                  from = ["10.0.0.0/8"]
                  header = "X-Forwarded-For"
                }
              }
              static {
                engine = auto
                open-file-cache {
                  revalidate = 1 s
                }
              }
              mime-types {
                foo = "text/foo"
              }
              sites = [
                {
                  server-names = ["localhost", "*.example.org"]
                  default = true
                  root = "www"
                  index = ["index.html"]
                  dotfiles = deny
                  error-pages {
                    503 = "/errors/busy.html"
                  }
                  rewrites = [
                    {
                      if = "$request_method !~ ^(GET|HEAD)$"
                      return = 405
                    }
                    {
                      rewrite = "^/old/(.*)$ /new/$1 permanent"
                    }
                  ]
                  locations = [
                    {
                      match = "/"
                      fastcgi = php
                      front-controller = "/index.php"
                      cache = true
                    }
                    {
                      match = "~ ^/product/([0-9]+)$"
                      return = "301 /shop/item/$1$is_args$args"
                    }
                    {
                      match = "~ ^/(?<lang>en|de)/(?<page>.+)$"
                      rewrite = "/index.php?lang=$lang&page=$page"
                    }
                    {
                      match = "/app/"
                      expires = 30 d
                      access = ["allow 10.0.0.0/8", "deny all"]
                      limit-req {
                        rate = "1 r/s"
                        burst = 5
                        zone = app
                        key = "$remote_addr"
                      }
                      limit-conn {
                        max = 2
                      }
                      limit-rate {
                        rate = 1 MiB
                      }
                      referers {
                        valid = [none, server-names, "~\\\\.google\\\\."]
                      }
                      secure-link {
                        link = "$arg_md5,$arg_expires"
                        md5 = "$secure_link_expires$uri secret"
                      }
                      auth-basic {
                        realm = "Staging"
                        user-file = "htpasswd"
                      }
                      headers {
                        X-Req = "$request_id $is_bot"
                      }
                      gzip {
                        enabled = true
                        level = 5
                      }
                    }
                    {
                      match = "~ [^/]\\\\.phtml(/|$)"
                      fastcgi = php
                      split-path-info = "^(.+?\\\\.phtml)(/.*)$"
                      fastcgi-params {
                        APP_HOST = "$host"
                      }
                      body-limit = 1 MiB
                    }
                    {
                      match = "/files/"
                      alias = "www/"
                      autoindex {
                        enabled = true
                      }
                    }
                  ]
                }
              ]
              fastcgi {
                backends {
                  php {
                    addresses = ["127.0.0.1:19650"]
                    max-connections = 8
                    queue {
                      timeout = 10 s
                    }
                    keep-alive {
                      enabled = true
                      max-requests = 1000
                    }
                  }
                }
              }
              cache {
                responses {
                  max-bytes = 256 MiB
                  valid {
                    200 = 10 m
                  }
                  purge-allow = ["127.0.0.1"]
                }
              }
            }
            """;

    /** Each value that replaces one of BASE's in turn: of every other type, out of range, half a variable... */
    private static final List<String> WRONG = List.of("[]", "{ a = 1 }", "\"\"", "null", "99999999999999999999",
            "\"${\"", "\"$nonexistent\"", "\"~ (\"", "${undefined.x}");

    /** Values that unset a key: the problem may be another key's, which needs it (a burst without a rate). */
    private static final List<String> UNSETTING = List.of("[]", "null");

    private static final Pattern LEAF = Pattern.compile("^(\\s*[\\w\"-]+ = )(.+)$");

    @TempDir
    Path dir;

    @Test
    void everyValueWrittenWrongIsTakenOrListedAtItsLine() throws Exception {
        Files.createDirectories(dir.resolve("www/errors"));
        Files.writeString(dir.resolve("www/errors/busy.html"), "<h1>busy</h1>\n");
        Files.writeString(dir.resolve("htpasswd"), "user:{PLAIN}secret\n");
        Path file = dir.resolve("edge.conf");
        String[] lines = BASE.split("\n", -1);
        Files.writeString(file, BASE);
        ConfigLoader.checkOnly().load(file); // BASE itself is good
        List<String> wrong = new ArrayList<>();
        int loads = 0;
        for (int i = 0; i < lines.length; i++) {
            Matcher leaf = LEAF.matcher(lines[i]);
            if (!leaf.matches() || leaf.group(2).endsWith("{") || leaf.group(2).endsWith("[")) {
                continue;
            }
            for (String value : WRONG) {
                String[] mutated = lines.clone();
                mutated[i] = leaf.group(1) + value;
                Files.writeString(file, String.join("\n", mutated));
                String what = "line " + (i + 1) + " as " + mutated[i].strip();
                loads++;
                try {
                    ConfigLoader.checkOnly().load(file);
                } catch (ConfigException e) {
                    boolean atLine = false;
                    for (ConfigProblem problem : e.problems()) {
                        if (problem.line() < 1 || problem.key() == null || problem.expected() == null
                                || !problem.file().equals(file)) {
                            wrong.add(what + ": " + problem);
                        }
                        atLine |= problem.line() == i + 1;
                    }
                    if (!atLine && !UNSETTING.contains(value)) {
                        wrong.add(what + ": no problem at its line: " + e.problems());
                    }
                } catch (Throwable t) {
                    wrong.add(what + ": threw " + t);
                }
            }
        }
        assertThat(loads).as("mutations loaded").isGreaterThan(500);
        if (!wrong.isEmpty()) {
            fail(wrong.size() + " mutations were not taken or listed as problems at their line:\n"
                    + String.join("\n", wrong));
        }
    }
}
