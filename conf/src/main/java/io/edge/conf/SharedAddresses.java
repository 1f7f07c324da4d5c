package io.edge.conf;

import io.edge.fastcgi.BackendGroupSettings;
import io.edge.fastcgi.pool.BackendAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Backend groups that name one address, each holding its own connections there to its own max-connections: what they
 * hold at once adds up, and what passes the php-fpm's pm.max_children waits in its listen backlog, where edge's queue
 * does not see it (no 503 + Retry-After: a 504 at timeouts.read). The pools free one another's idle kept connections
 * (AddressCounts), not busy ones. A warning, not a problem: edge cannot know the pm.max_children of a php-fpm it does
 * not spawn, which may have room for them all; of one it spawns it does (spawn.workers, that group's max-connections
 * alone). Addresses are compared as the pools count them ({@link BackendAddress#key}): host names are not looked up.
 */
final class SharedAddresses {

    /** One address a group wrote, as it reaches its server, and where it was written. */
    private record Written(String group, String address, String reached, WrittenAt at) {
    }

    private final List<Written> written = new ArrayList<>();

    /** Group {@code group} names {@code address} (a {@link Addresses#backend}), written {@code at}. */
    void add(String group, String address, WrittenAt at) {
        written.add(new Written(group, address, BackendAddress.key(address), at));
    }

    /**
     * One warning per address that two or more of {@code groups} reach, at the address of the second group to write it
     * (in {@code problems}' read order), or of the first where the other is a spawned php-fpm's socket, which no one
     * writes.
     */
    List<ConfigProblem> warnings(Map<String, BackendGroupSettings> groups, Problems problems) {
        Map<String, String> spawnedAt = new TreeMap<>(); // a spawned php-fpm's socket, by what it reaches: its group
        groups.values().stream().filter(group -> group.spawn() != null)
                .forEach(group -> group.addresses().forEach(a -> spawnedAt.put(BackendAddress.key(a), group.name())));
        Map<String, List<Written>> byAddress = new LinkedHashMap<>();
        for (Written w : written) {
            byAddress.computeIfAbsent(w.reached(), reached -> new ArrayList<>()).add(w);
        }
        List<ConfigProblem> warnings = new ArrayList<>();
        byAddress.forEach((reached, writers) -> {
            String spawned = spawnedAt.get(reached);
            List<Written> inOrder = inReadOrder(writers, problems);
            List<String> names = inOrder.stream().map(Written::group).distinct().toList();
            if (spawned == null && names.size() < 2) {
                return;
            }
            Written at = spawned != null ? inOrder.get(0)
                    : inOrder.stream().filter(w -> !w.group().equals(inOrder.get(0).group())).findFirst().orElseThrow();
            warnings.add(spawned != null ? spawnedShared(groups, spawned, names, at)
                    : shared(groups, names, at));
        });
        return warnings;
    }

    private static List<Written> inReadOrder(List<Written> writers, Problems problems) {
        Map<ConfigProblem, Written> byPlace = new LinkedHashMap<>();
        writers.forEach(w -> byPlace.put(w.at().problem(w.group() + " " + w.address()), w));
        return problems.inReadOrder(byPlace.keySet()).stream().map(byPlace::get).toList();
    }

    /** Groups {@code names} at a php-fpm edge does not spawn. */
    private static ConfigProblem shared(Map<String, BackendGroupSettings> groups, List<String> names, Written at) {
        int total = names.stream().mapToInt(name -> groups.get(name).maxConnections()).sum();
        String each = names.stream().map(name -> name + " " + groups.get(name).maxConnections())
                .collect(Collectors.joining(", "));
        return warning(at, "groups " + and(names) + " connect to " + at.address() + ", each up to its own"
                + " max-connections (" + each + "): " + total + " connections at once; those past that php-fpm's"
                + " pm.max_children wait in its listen backlog, unseen by the queue (no 503 + Retry-After: a 504 at"
                + " timeouts.read)", "max-connections that add up to at most its pm.max_children (split its workers"
                + " between the groups), or one group per php-fpm pool");
    }

    /** Groups {@code names} at the php-fpm edge spawns for group {@code spawned}. */
    private static ConfigProblem spawnedShared(Map<String, BackendGroupSettings> groups, String spawned,
            List<String> names, Written at) {
        int workers = groups.get(spawned).maxConnections();
        int total = workers + names.stream().mapToInt(name -> groups.get(name).maxConnections()).sum();
        String each = names.stream().map(name -> name + " " + groups.get(name).maxConnections())
                .collect(Collectors.joining(", "));
        return warning(at, (names.size() == 1 ? "group " : "groups ") + and(names) + " connect"
                + (names.size() == 1 ? "s" : "") + " to " + at.address() + ", the php-fpm edge spawns for group "
                + spawned + ", whose pm.max_children is " + spawned + "'s spawn.workers (" + workers + ") alone: with"
                + " max-connections " + each + ", " + total + " connections at once, and those past " + workers
                + " wait in its listen backlog, unseen by the queue (no 503 + Retry-After: a 504 at timeouts.read);"
                + " a reload that changes " + spawned + "'s spawn starts its php-fpm at another socket (" + spawned
                + ".N)", "one group per php-fpm pool: a spawn of its own (spawn.enabled = true), or a php-fpm edge does"
                + " not spawn, its workers split between the groups");
    }

    private static ConfigProblem warning(Written at, String message, String expected) {
        return new ConfigProblem(at.at().file(), at.at().line(), at.at().key(), message + at.at().note(), expected);
    }

    /** "a and b", "a, b and c". */
    private static String and(List<String> names) {
        return names.size() == 1 ? names.get(0)
                : String.join(", ", names.subList(0, names.size() - 1)) + " and " + names.get(names.size() - 1);
    }
}
