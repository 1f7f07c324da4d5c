package io.edge.core.http;

import io.edge.conf.VariableMap;
import io.edge.conf.VariableText;
import io.edge.fastcgi.LogText;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The responder of a location whose {@code fastcgi} or {@code proxy} variables write ({@code proxy = "$pool"}, nginx's
 * {@code proxy_pass http://$pool}): works the text out for each request and hands the request to the responder made
 * at load for the group of that kind it names, so that group's pool, wait queue (503 + Retry-After when busy),
 * timeouts, response buffer and the location's next-upstream over its addresses are what the request meets, as with
 * the group written. A value that names no group goes nowhere and is answered as nginx 1.22 answers it (measured):
 * an empty one 500 ("invalid URL prefix in "http://"", "no host in upstream """), another 502 for a proxy ("no
 * resolver defined to resolve nosuch") and 500 for FastCGI ("no port in upstream "nosuch""); the error log says the
 * value and the setting (the first of a burst: a client's header may name no group request after request), and
 * $upstream_addr stays empty, as nginx's "-"; in a cached location, a value not empty is first what the cache makes of
 * it ({@link BackendGate#noBackend}: a MISS in $upstream_cache_status), as nginx looks its cache up before it finds no
 * upstream of the name, where it refuses an empty one before. A value names a group whatever the case of its letters A to Z
 * ("APP_BETA" is app_beta), as nginx finds an upstream by its name (measured: 200 from upstream app_beta).
 */
public final class BackendChoice implements Responder {

    private static final Logger LOG = LoggerFactory.getLogger(BackendChoice.class);

    /** {@code proxy} or {@code fastcgi}: the setting, and the kind of group it names. */
    private final String setting;
    /** The setting as written ("$pool"), for the error log. */
    private final String written;
    private final VariableText choice;
    /** Each group of the kind by its name, and the responder that sends to it. */
    private final Map<String, Responder> groups;
    /**
     * Each group's name by its name with A to Z lower case (no two of a kind differ in case alone: the configuration
     * refuses them).
     */
    private final Map<String, String> namesIgnoringCase;
    /** The response cache in front of the groups (to say what it makes of a value naming none), or null for none. */
    private final BackendGate cacheGate;
    /** This location's requests whose value named no group: one line now and then, each location's own. */
    private final ThrottledWarnings unnamed = new ThrottledWarnings(LOG, System::nanoTime);

    /**
     * @param setting {@code proxy} or {@code fastcgi}
     * @param written the setting's value as written
     * @param choice  that value, the text worked out for each request
     * @param groups  every group of that kind by its name, with the location's responder for it
     * @param cacheGate the response cache in front of each group's responder, or null where the location has none
     */
    public BackendChoice(String setting, String written, VariableText choice, Map<String, Responder> groups,
            BackendGate cacheGate) {
        this.setting = setting;
        this.cacheGate = cacheGate;
        this.written = written;
        this.choice = choice;
        this.groups = Map.copyOf(groups);
        Map<String, String> lowered = new HashMap<>();
        groups.keySet().forEach(name -> lowered.put(VariableMap.asciiLowerCase(name), name));
        this.namesIgnoringCase = Map.copyOf(lowered);
    }

    @Override
    public void respond(Exchange exchange) {
        String group = Variables.field(exchange, choice);
        String name = groups.containsKey(group) ? group : namesIgnoringCase.get(VariableMap.asciiLowerCase(group));
        Responder responder = name == null ? null : groups.get(name);
        if (responder != null) {
            exchange.backendGroup(name);
            responder.respond(exchange);
            return;
        }
        HttpResponseStatus status = setting.equals("proxy") && !group.isEmpty() ? HttpResponseStatus.BAD_GATEWAY
                : HttpResponseStatus.INTERNAL_SERVER_ERROR;
        unnamed.warn(BackendChoice.class, exchange.request().method() + " "
                + LogText.escapeBytes(exchange.request().uri()) + " -> " + status.code() + ": " + setting + " = \""
                + LogText.escapeBytes(written) + "\" came out " + (group.isEmpty() ? "empty"
                : "\"" + LogText.escapeBytes(group) + "\"") + ", which names no group of edge." + setting + ".backends");
        if (cacheGate != null && !group.isEmpty()) {
            cacheGate.noBackend(exchange);
        }
        exchange.sendError(status);
    }
}
