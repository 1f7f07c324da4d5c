package io.edge.core.http;

import io.edge.aio.file.FileEngine;
import io.edge.aio.file.PathStatus;
import io.edge.conf.LocationSettings;
import io.edge.conf.Return;
import io.edge.conf.RewriteRule;
import io.edge.fastcgi.cgi.CgiParams;
import io.edge.fastcgi.regex.BoundedMatch;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * nginx's rewrite phases: a site's {@code rewrites} met before a location is chosen (its server rewrite phase), a
 * location's as the request enters it, after its access rules (its rewrite phase). Entries are met in order: an
 * {@code if} whose condition holds answers with its return or hands the request on with its rewrite; a rewrite whose
 * regex finds a match in {@code $uri} redirects (redirect, permanent), routes the request again at once (last,
 * break), or changes the URI the entries after it see (no flag), routed again after the last. An entry's sets are
 * made where it is met, before its return or rewrite; an entry of sets alone goes on to the next. As nginx's, the
 * {@code $1} to {@code $9} of an entry's texts are the last regex's that ran ({@link Captures}).
 *
 * <p>Synchronous but for nginx's file tests ({@code if (!-e $request_filename)}): an entry with one suspends the phase,
 * the file engine stats the path off the loop ({@link FileEngine#status}: never a stat on the loop), and the entries
 * from it on are met on the loop when the answer comes, then what follows them ({@code goOn}) where none answered. An
 * exchange that ended meanwhile (its client left) is let go there. The entries before it, and phases without file
 * tests, run as before, at no cost of their own.
 *
 * <p>Every regex of one phase, conditions' and rewrites', reads its text within one budget of
 * {@link BoundedMatch#PATH_STEPS}, as the location regexes share one for a path: a client's header or path cannot hold
 * the loop. One that gives up answers 500, as a location's regex that gives up on a path does. A phase resumed after a
 * file test starts a budget of its own: it holds the loop from there.
 */
public final class RewritePhase {

    private static final Runnable NOTHING = () -> { };

    private RewritePhase() {
    }

    /** {@code inner}, {@code location}'s responder behind its checks, behind its rewrites; itself where it has none. */
    public static Responder guard(Responder inner, LocationSettings location) {
        if (location.rewrites().isEmpty()) {
            return inner;
        }
        Consumer<Exchange> goOn = inner::respond;
        return exchange -> {
            if (!run(exchange, location.rewrites(), location, exchange.path(), NOTHING, goOn, null, false)) {
                inner.respond(exchange);
            }
        };
    }

    /**
     * Meets {@code location}'s rewrites for {@code exchange}, which runs a script of {@code uri} there though routed
     * elsewhere (a directory's index.php, the script part of a path with PATH_INFO): nginx's internal redirect to
     * {@code uri} meets them, so an {@code if} guarding a location's scripts guards them whatever URI found them. Their
     * regexes search {@code uri}; {@code $uri} stays the request's. True where one answered the request or routed it
     * again, or a file test waits ({@code goOn} runs where the entries after it answer nothing); false where it goes on.
     */
    public static boolean enter(Exchange exchange, LocationSettings location, String uri, Runnable goOn) {
        return !location.rewrites().isEmpty()
                && run(exchange, location.rewrites(), location, uri, NOTHING, e -> goOn.run(), null, false);
    }

    /**
     * Meets {@code exchange}'s site's rewrites, before its location is chosen; says whether they answered it or routed
     * it again, or wait for a file test (the caller leaves it then; {@code goOn} runs where what follows answers
     * nothing). What they answer carries no location's headers nor type, as nginx's server-level return carries none.
     */
    static boolean server(ServerExchange exchange, Consumer<ServerExchange> goOn) {
        if (exchange.site() == null || exchange.site().rewrites().isEmpty()) {
            return false;
        }
        return run(exchange, exchange.site().rewrites(), null, exchange.path(), exchange::answeredBySite, goOn, null,
                false);
    }

    /**
     * Where a phase a file test suspended goes on: at the entry {@code at} (the file test's), a rewrite without a flag
     * met before it or not ({@code retargeted}), {@code $1} to {@code $9} those of {@code lastRegex} in
     * {@code lastSubject} (null: none), the named groups those of {@code matched}.
     */
    private record Suspended(int at, boolean retargeted, Pattern lastRegex, String lastSubject,
            Captures.Matched matched) {
    }

    /**
     * Meets {@code rules} for {@code exchange}, {@code location}'s (null: a site's before a location is chosen), their
     * regexes searching {@code path} (then what a rewrite without a flag makes of it), and says whether one answered it
     * or routed it again, or a file test waits; false where the request goes on as it is. {@code answering} runs before
     * an entry answers. From the first entry where {@code resumed} is null; else from where a file test suspended the
     * phase, {@code held} whether the test held.
     */
    private static <E extends Exchange> boolean run(E exchange, List<RewriteRule> rules, LocationSettings location,
            String path, Runnable answering, Consumer<? super E> goOn, Suspended resumed, boolean held) {
        BoundedMatch.Budgeted budget = null;
        String current = path;
        int from = resumed == null ? 0 : resumed.at();
        boolean retargeted = resumed != null && resumed.retargeted();
        // nginx's $1 to $9: the last regex's that ran, the location's until an entry's runs; none where it found no
        // match (a failed if clears them, as nginx's does)
        Pattern lastRegex = resumed != null ? resumed.lastRegex() : location == null ? null : location.regex();
        String lastSubject = resumed != null ? resumed.lastSubject() : path;
        // the regexes that found a match, the last first, whose named groups nginx keeps as variables: the location's
        // until an entry's matches
        Captures.Matched matched = resumed != null ? resumed.matched() : location == null || location.regex() == null
                ? null : new Captures.Matched(location.regex(), path, null);
        for (int i = from; i < rules.size(); i++) {
            RewriteRule rule = rules.get(i);
            String subject = current; // what the answer's captures are taken of
            RewriteRule.Condition condition = rule.condition();
            if (condition != null && (i != from || resumed == null)) {
                if (condition.operator().fileTest()) {
                    testFile(exchange, rules, location, current, answering, goOn,
                            new Suspended(i, retargeted, lastRegex, lastSubject, matched));
                    return true;
                }
                String value = Variables.sent(exchange, List.of(condition.subject()));
                boolean met;
                switch (condition.operator()) {
                    case SET -> met = !value.isEmpty() && !value.equals("0");
                    case EQUALS, NOT_EQUALS -> met = value.equals(Variables.sent(exchange, condition.text(),
                            Captures.of(exchange, matched, rule.groups(), lastRegex, lastSubject)))
                            == (condition.operator() == RewriteRule.Operator.EQUALS);
                    default -> {
                        budget = budget == null ? BoundedMatch.budgeted(value, BoundedMatch.PATH_STEPS)
                                : budget.then(value);
                        BoundedMatch.Result found = BoundedMatch.find(condition.regex(), budget);
                        if (found == BoundedMatch.Result.GAVE_UP) {
                            return gaveUp(exchange, condition.regex());
                        }
                        met = (found == BoundedMatch.Result.FOUND)
                                == (condition.operator() == RewriteRule.Operator.MATCHES);
                        // its bytes as the text a capture is written from: a byte past ASCII as the lone U+DC80 to
                        // U+DCFF that goes out as that byte, not as the UTF-8 of the char it is one of
                        subject = Variables.paramText(value);
                        lastRegex = condition.regex();
                        lastSubject = subject;
                        if (found == BoundedMatch.Result.FOUND) {
                            matched = new Captures.Matched(lastRegex, subject, matched);
                            Captures.keep(exchange, lastRegex, subject, rule.groups().get(lastRegex));
                        }
                    }
                }
                if (!met) {
                    continue;
                }
            } else if (condition != null && !held) {
                continue;
            }
            if (rule.rewrite() == null && rule.flag() == RewriteRule.Flag.NONE) { // a return, or sets alone
                Captures captures = Captures.of(exchange, matched, rule.groups(), lastRegex, lastSubject);
                if (!rule.sets().isEmpty()) {
                    assign(exchange, rule, captures);
                }
                if (rule.setsOnly()) {
                    continue;
                }
                answering.run();
                ReturnResponder.answer(exchange, location, captures, rule.answer());
                return true;
            }
            budget = budget == null ? BoundedMatch.budgeted(current, BoundedMatch.PATH_STEPS) : budget.then(current);
            BoundedMatch.Result found = BoundedMatch.find(rule.regex(), budget);
            if (found == BoundedMatch.Result.GAVE_UP) {
                return gaveUp(exchange, rule.regex());
            }
            lastRegex = rule.regex();
            lastSubject = current;
            if (found == BoundedMatch.Result.NOT_FOUND) {
                continue;
            }
            matched = new Captures.Matched(rule.regex(), current, matched);
            Captures.keep(exchange, rule.regex(), current, rule.groups().get(rule.regex()));
            Captures captures = Captures.of(exchange, matched, rule.groups(), rule.regex(), current);
            if (!rule.sets().isEmpty()) {
                assign(exchange, rule, captures);
            }
            if (rule.answer() != null) { // redirect, permanent
                answering.run();
                ReturnResponder.answer(exchange, location, captures, withArgs(exchange, rule));
                return true;
            }
            String whose = location == null ? "site " + exchange.site().serverName() : "location " + location.match();
            String rewritten = RewriteResponder.newPath(exchange, captures, rule.rewrite(), whose);
            if (rewritten == null) {
                return true; // answered 400
            }
            String query = RewriteResponder.newQuery(exchange, captures, rule.rewrite());
            if (rule.flag() == RewriteRule.Flag.NONE) {
                exchange.retarget(rewritten, query);
                current = rewritten;
                retargeted = true;
                continue;
            }
            handOn(exchange, location, rewritten, query);
            return true;
        }
        if (retargeted) {
            handOn(exchange, location, exchange.path(), exchange.query());
            return true;
        }
        return false;
    }

    /**
     * The file test of the entry {@code suspended} names: its path's status asked of the file engine, off the loop, and
     * the entries met from there on the exchange's loop once it answers ({@link #run}), then {@code goOn} where none
     * answered. The body stays in the kernel meanwhile ({@link Exchange#pauseBody}), as while a script is looked for.
     * An exchange that ended meanwhile is let go; a stat the engine refuses (its queue full: 503) or that fails
     * answers as a file the static path could not open.
     */
    private static <E extends Exchange> void testFile(E exchange, List<RewriteRule> rules, LocationSettings location,
            String path, Runnable answering, Consumer<? super E> goOn, Suspended suspended) {
        RewriteRule.Condition condition = rules.get(suspended.at()).condition();
        String file = filePath(exchange, condition.text(), location, path,
                Captures.of(exchange, suspended.matched(), rules.get(suspended.at()).groups(), suspended.lastRegex(),
                        suspended.lastSubject()));
        FileEngine files = exchange.files();
        if (files == null) {
            exchange.fail(new IllegalStateException("no file engine for the file test of " + file));
            return;
        }
        EventLoop loop = exchange.clientChannel().eventLoop();
        exchange.pauseBody(true); // undone when the answer is back, or with the exchange's end
        files.status(file).whenComplete((status, failure) -> execute(loop, () -> {
            if (exchange.isEnded()) {
                return; // its client left: nobody to answer
            }
            exchange.pauseBody(false);
            if (failure != null) {
                exchange.fail(failure instanceof CompletionException wrapped ? wrapped.getCause() : failure);
                return;
            }
            try {
                if (!run(exchange, rules, location, path, answering, goOn, suspended,
                        holds(condition.operator(), status))) {
                    goOn.accept(exchange);
                }
            } catch (RuntimeException e) {
                exchange.fail(e); // as the connection handler answers a responder that throws: a 500, never silence
            }
        }));
    }

    /**
     * {@link RewriteResponder#handOn} of {@code exchange} to {@code path}: a site's ({@code location} null) routed again
     * uncounted ({@link ServerExchange#siteRewrite}), as nginx counts no server rewrite among its 10 redirects.
     */
    private static void handOn(Exchange exchange, LocationSettings location, String path, String query) {
        if (location == null) {
            ((ServerExchange) exchange).siteRewrite();
        }
        RewriteResponder.handOn(exchange, path, query);
    }

    /** Whether a file test {@code operator} holds of {@code status}, as nginx's ngx_http_script_file_code says. */
    static boolean holds(RewriteRule.Operator operator, PathStatus status) {
        return switch (operator) {
            case FILE -> status.regularFile();
            case NOT_FILE -> !status.regularFile();
            case DIRECTORY -> status.directory();
            case NOT_DIRECTORY -> !status.directory();
            case EXISTS -> status.exists();
            case NOT_EXISTS -> !status.exists();
            case EXECUTABLE -> status.ownerExecutable();
            case NOT_EXECUTABLE -> !status.ownerExecutable();
            default -> throw new IllegalArgumentException("no file test: " + operator);
        };
    }

    /**
     * The path a file test's {@code text} names for {@code exchange}: its variables as sent, {@code $document_root}
     * and {@code $request_filename} {@code location}'s (a site's root where null or it has none of its own) for
     * {@code uri}, as nginx's for the location the phase runs in, and {@code captures}; its bytes read as UTF-8, the
     * file system's names.
     */
    private static String filePath(Exchange exchange, List<Return.Part> text, LocationSettings location, String uri,
            Captures captures) {
        StringBuilder bytes = new StringBuilder(128);
        for (Return.Part part : text) {
            if ("document_root".equals(part.variable()) && part.map() == null) {
                bytes.append(CgiParams.utf8Bytes(documentRoot(exchange, location)));
            } else if ("request_filename".equals(part.variable()) && part.map() == null) {
                bytes.append(CgiParams.utf8Bytes(requestFilename(exchange, location, uri)));
            } else {
                bytes.append(Variables.sent(exchange, List.of(part), captures));
            }
        }
        return new String(bytes.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    }

    /**
     * nginx's {@code $document_root}: {@code location}'s root (its alias), else its site's. The alias of an exact or
     * slash-less prefix location is its own text, as nginx's, also where it names a file ({@code location = /x { alias
     * /srv/file.txt; }}: /srv/file.txt), which edge holds below its parent; so in a location nested in it, which takes
     * the alias (nginx's merge copies its text inward).
     */
    private static String documentRoot(Exchange exchange, LocationSettings location) {
        if (location == null || location.root() == null) {
            return rootOf(exchange, location);
        }
        String name = location.alias() && location.aliasCaptures() != null ? location.aliasCaptures().name() : null;
        return name == null || name.isEmpty() ? location.root().toString() : location.root().resolve(name).toString();
    }

    /** {@code location}'s root (an alias's directory, a file alias's parent), else its site's. */
    private static String rootOf(Exchange exchange, LocationSettings location) {
        return (location != null && location.root() != null ? location.root() : exchange.site().root()).toString();
    }

    /**
     * nginx's {@code $request_filename}: the root and {@code uri} (decoded, normalised: it stays below the root); an
     * alias's directory and what follows its prefix, or the file its captures make (an alias in a regex location).
     */
    static String requestFilename(Exchange exchange, LocationSettings location, String uri) {
        String root = rootOf(exchange, location);
        if (location == null || !location.alias()) {
            return root.endsWith("/") ? root + uri.substring(1) : root + uri;
        }
        String below = location.aliasCaptures() != null ? location.aliasCaptures().below(uri)
                : uri.startsWith(location.aliasPrefix()) ? uri.substring(location.aliasPrefix().length()) : null;
        if (below == null && location.kind() != LocationSettings.Kind.REGEX && uri.startsWith(location.pattern())) {
            // a slash-less prefix's directory, a path past it without its "/" (no file of it): nginx's alias text and
            // the rest, /srv/imagesfoo for /ifoo
            return root + uri.substring(location.pattern().length());
        }
        if (below == null) {
            return root; // the alias's regex gave up: its directory, which a test may still ask about
        }
        String file = below.isEmpty() || below.startsWith("/") ? root + below : root + "/" + below;
        return uri.endsWith("/") && !file.endsWith("/") ? file + "/" : file;
    }

    private static void execute(EventLoop loop, Runnable task) {
        try {
            loop.execute(task);
        } catch (RejectedExecutionException shuttingDown) {
            // the loop is gone, and the connection with it
        }
    }

    /**
     * Makes {@code rule}'s sets, nginx's {@code set $name value}, in order: each value, with {@code captures} (those a
     * return of it would have), becomes its variable's for the rest of the request, kept with the maps' values
     * ({@link Exchange#mapValues}: a set variable is a map without entries, so every text that names it reads it as it
     * reads a map), or the request's query for {@code $args}. A value is kept as a map's is, as the bytes it stands
     * for, one char each.
     */
    private static void assign(Exchange exchange, RewriteRule rule, Captures captures) {
        for (RewriteRule.Assignment set : rule.sets()) {
            StringBuilder value = new StringBuilder(32);
            for (Return.Part part : set.value()) {
                if (part.isCapture()) {
                    String captured = captures.value(part);
                    // the subject is text (a decoded path, a value's bytes as their chars): kept as its bytes
                    value.append(captured == null ? "" : CgiParams.utf8Bytes(captured));
                } else {
                    value.append(Variables.sent(exchange, List.of(part)));
                }
            }
            if (set.variable() == null) { // $args
                exchange.retarget(exchange.path(), value.toString());
            } else {
                exchange.mapValues().put(set.variable(), value.toString());
            }
        }
    }

    /** A rewrite's redirect, the request's query appended as nginx's rewrite appends it. */
    private static Return withArgs(Exchange exchange, RewriteRule rule) {
        Return answer = rule.answer();
        if (rule.argsJoin() == null || exchange.query().isEmpty()) {
            return answer;
        }
        List<Return.Part> text = new ArrayList<>(answer.text());
        text.add(new Return.Part(rule.argsJoin(), null));
        text.add(new Return.Part(null, "args"));
        return new Return(answer.status(), text);
    }

    /** Answers 500 for a regex that gave up, as the router's location regexes do; true: answered. */
    private static boolean gaveUp(Exchange exchange, Pattern regex) {
        exchange.fail(new HttpStatusException(HttpResponseStatus.INTERNAL_SERVER_ERROR,
                "rewrites' regex \"" + regex.pattern() + "\" gave up within its budget"));
        return true;
    }
}
