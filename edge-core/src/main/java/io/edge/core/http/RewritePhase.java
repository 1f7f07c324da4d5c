package io.edge.core.http;

import io.edge.conf.LocationSettings;
import io.edge.conf.Return;
import io.edge.conf.RewriteRule;
import io.edge.fastcgi.cgi.CgiParams;
import io.edge.fastcgi.regex.BoundedMatch;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * nginx's rewrite phases: a site's {@code rewrites} met before a location is chosen (its server rewrite phase), a
 * location's as the request enters it, after its access rules (its rewrite phase). Entries are met in order: an
 * {@code if} whose condition holds answers with its return or hands the request on with its rewrite; a rewrite whose
 * regex finds a match in {@code $uri} redirects (redirect, permanent), routes the request again at once (last,
 * break), or changes the URI the entries after it see (no flag), routed again after the last. An entry's sets are
 * made where it is met, before its return or rewrite; an entry of sets alone goes on to the next. Synchronous: no entry
 * waits for anything (nginx's file tests, which would, are not taken).
 *
 * <p>Every regex of one phase, conditions' and rewrites', reads its text within one budget of
 * {@link BoundedMatch#PATH_STEPS}, as the location regexes share one for a path: a client's header or path cannot hold
 * the loop. One that gives up answers 500, as a location's regex that gives up on a path does.
 */
public final class RewritePhase {

    private RewritePhase() {
    }

    /** {@code inner}, {@code location}'s responder behind its checks, behind its rewrites; itself where it has none. */
    public static Responder guard(Responder inner, LocationSettings location) {
        if (location.rewrites().isEmpty()) {
            return inner;
        }
        return exchange -> {
            if (!run(exchange, location.rewrites(), location, exchange.path(), () -> { })) {
                inner.respond(exchange);
            }
        };
    }

    /**
     * Meets {@code location}'s rewrites for {@code exchange}, which runs a script of {@code uri} there though routed
     * elsewhere (a directory's index.php, the script part of a path with PATH_INFO): nginx's internal redirect to
     * {@code uri} meets them, so an {@code if} guarding a location's scripts guards them whatever URI found them. Their
     * regexes search {@code uri}; {@code $uri} stays the request's. True where one answered the request or routed it
     * again; false where it goes on.
     */
    public static boolean enter(Exchange exchange, LocationSettings location, String uri) {
        return !location.rewrites().isEmpty() && run(exchange, location.rewrites(), location, uri, () -> { });
    }

    /**
     * Meets {@code exchange}'s site's rewrites, before its location is chosen; says whether they answered it or routed
     * it again (the caller leaves it then). What they answer carries no location's headers nor type, as nginx's
     * server-level return carries none.
     */
    static boolean server(ServerExchange exchange) {
        if (exchange.site() == null || exchange.site().rewrites().isEmpty()) {
            return false;
        }
        return run(exchange, exchange.site().rewrites(), null, exchange.path(), exchange::refusedUnrouted);
    }

    /**
     * Meets {@code rules} for {@code exchange}, {@code location}'s (null: a site's before a location is chosen), their
     * regexes searching {@code path} (then what a rewrite without a flag makes of it), and says whether one answered it
     * or routed it again; false where the request goes on as it is. {@code answering} runs before an entry answers.
     */
    private static boolean run(Exchange exchange, List<RewriteRule> rules, LocationSettings location, String path,
            Runnable answering) {
        BoundedMatch.Budgeted budget = null;
        boolean retargeted = false;
        String current = path;
        for (RewriteRule rule : rules) {
            String subject = current; // what the answer's captures are taken of
            RewriteRule.Condition condition = rule.condition();
            if (condition != null) {
                String value = Variables.sent(exchange, List.of(condition.subject()), null);
                boolean met;
                switch (condition.operator()) {
                    case SET -> met = !value.isEmpty() && !value.equals("0");
                    case EQUALS, NOT_EQUALS -> met = value.equals(Variables.sent(exchange, condition.text(),
                            textCaptures(exchange, condition.text(), location, current)))
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
                    }
                }
                if (!met) {
                    continue;
                }
            }
            if (rule.rewrite() == null && rule.flag() == RewriteRule.Flag.NONE) { // a return, or sets alone
                if (!rule.sets().isEmpty()) {
                    assign(exchange, rule, subject);
                }
                if (rule.setsOnly()) {
                    continue;
                }
                answering.run();
                ReturnResponder.answer(exchange, location, rule.regex(), subject, rule.answer());
                return true;
            }
            budget = budget == null ? BoundedMatch.budgeted(current, BoundedMatch.PATH_STEPS) : budget.then(current);
            BoundedMatch.Result found = BoundedMatch.find(rule.regex(), budget);
            if (found == BoundedMatch.Result.GAVE_UP) {
                return gaveUp(exchange, rule.regex());
            }
            if (found == BoundedMatch.Result.NOT_FOUND) {
                continue;
            }
            if (!rule.sets().isEmpty()) {
                assign(exchange, rule, current);
            }
            if (rule.answer() != null) { // redirect, permanent
                answering.run();
                ReturnResponder.answer(exchange, location, rule.regex(), current, withArgs(exchange, rule));
                return true;
            }
            String whose = location == null ? "site " + exchange.site().serverName() : "location " + location.match();
            String rewritten = RewriteResponder.newPath(exchange, rule.regex(), current, rule.rewrite(), whose);
            if (rewritten == null) {
                return true; // answered 400
            }
            String query = RewriteResponder.newQuery(exchange, rule.regex(), current, rule.rewrite());
            if (rule.flag() == RewriteRule.Flag.NONE) {
                exchange.retarget(rewritten, query);
                current = rewritten;
                retargeted = true;
                continue;
            }
            RewriteResponder.handOn(exchange, rewritten, query);
            return true;
        }
        if (retargeted) {
            RewriteResponder.handOn(exchange, exchange.path(), exchange.query());
            return true;
        }
        return false;
    }

    /**
     * The captures an if's {@code text} is written with: its location's regex's of {@code path}, as nginx's {@code $1}
     * there is the location's; null where it names none (no match run) or has no location regex (a site's: refused).
     */
    private static Matcher textCaptures(Exchange exchange, List<Return.Part> text, LocationSettings location,
            String path) {
        if (location == null || location.regex() == null) {
            return null;
        }
        for (Return.Part part : text) {
            if (part.isCapture()) {
                return exchange.captures(location.regex(), path);
            }
        }
        return null;
    }

    /**
     * Makes {@code rule}'s sets, nginx's {@code set $name value}, in order: each value, its captures {@code rule}'s
     * regex's in {@code subject} (the text a return of it would take them of), becomes its variable's for the rest of
     * the request, kept with the maps' values ({@link Exchange#mapValues}: a set variable is a map without entries, so
     * every text that names it reads it as it reads a map), or the request's query for {@code $args}. A value is kept
     * as a map's is, as the bytes it stands for, one char each.
     */
    private static void assign(Exchange exchange, RewriteRule rule, String subject) {
        Matcher captures = null;
        for (RewriteRule.Assignment set : rule.sets()) {
            StringBuilder value = new StringBuilder(32);
            for (Return.Part part : set.value()) {
                if (part.isCapture()) {
                    if (captures == null && rule.regex() != null) {
                        captures = exchange.captures(rule.regex(), subject);
                    }
                    String captured = captures == null ? null : part.captured(captures);
                    // the subject is text (a decoded path, a value's bytes as their chars): kept as its bytes
                    value.append(captured == null ? "" : CgiParams.utf8Bytes(captured));
                } else {
                    value.append(Variables.sent(exchange, List.of(part), null));
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
