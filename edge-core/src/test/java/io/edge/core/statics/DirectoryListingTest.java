package io.edge.core.statics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edge.aio.PathPolicy;
import io.edge.aio.file.ReadQueueFullException;
import io.edge.aio.path.PathResolver;
import io.edge.conf.Autoindex;
import io.edge.core.statics.DirectoryListing.Entry;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** nginx's autoindex lists: what a directory holds, as nginx 1.22 writes it in each format. */
class DirectoryListingTest {

    /** 2024-02-29 13:05:09 UTC. */
    private static final long LEAP_DAY = 1_709_211_909_000L;

    @TempDir
    Path dir;

    @Test
    void theHtmlListIsNginxsPreWithNamesPaddedToFiftyColumnsTimesAndSizes() {
        List<Entry> entries = new ArrayList<>(List.of(
                new Entry("b.jpg", false, 7307, LEAP_DAY),
                new Entry("Z", true, 0, LEAP_DAY),
                new Entry("a b&<c>.txt", false, 0, LEAP_DAY + 60_000)));
        entries.sort(DirectoryListing.ORDER);
        assertThat(DirectoryListing.html("/thumbs/<x>/", entries, true, ZoneOffset.UTC)).isEqualTo(
                "<html>\r\n<head><title>Index of /thumbs/&lt;x&gt;/</title></head>\r\n<body>\r\n"
                        + "<h1>Index of /thumbs/&lt;x&gt;/</h1><hr><pre><a href=\"../\">../</a>\r\n"
                        + "<a href=\"Z/\">Z/</a>" + " ".repeat(48) + " 29-Feb-2024 13:05" + " ".repeat(19) + "-\r\n"
                        + "<a href=\"a%20b%26%3Cc%3E.txt\">a b&amp;&lt;c&gt;.txt</a>" + " ".repeat(39)
                        + " 29-Feb-2024 13:06" + " ".repeat(19) + "0\r\n"
                        + "<a href=\"b.jpg\">b.jpg</a>" + " ".repeat(45) + " 29-Feb-2024 13:05" + " ".repeat(16)
                        + "7307\r\n"
                        + "</pre><hr></body>\r\n</html>\r\n");
    }

    @Test
    void aNameLongerThanTheColumnIsCutByCharactersNotBytes() {
        String utf8 = "\u00e9".repeat(60);
        String html = DirectoryListing.html("/", List.of(new Entry(utf8, false, 1, LEAP_DAY),
                new Entry("d".repeat(49), true, 0, LEAP_DAY), new Entry("e".repeat(50), true, 0, LEAP_DAY)), true,
                ZoneOffset.UTC);
        assertThat(html).contains(">" + "\u00e9".repeat(47) + "..&gt;</a> 29-Feb-2024");
        assertThat(html).as("a directory's slash while it fits").contains(">" + "d".repeat(49) + "/</a> 29-Feb-2024");
        assertThat(html).as("and not where it does not").contains(">" + "e".repeat(50) + "</a> 29-Feb-2024");
        assertThat(html).contains("<a href=\"" + "%C3%A9".repeat(60) + "\">");
    }

    /** A link is relative to the list: a ':' in it would make a scheme of what comes before, javascript: one that runs. */
    @Test
    void aLinkIsTheNamesBytesEncodedButForUnreservedCharacters() {
        String html = DirectoryListing.html("/", List.of(new Entry("javascript:alert(document.domain)", false, 1,
                LEAP_DAY), new Entry("semi;eq=!'$*,@+~-_.txt", false, 1, LEAP_DAY)), true, ZoneOffset.UTC);
        assertThat(html).contains("<a href=\"javascript%3Aalert%28document.domain%29\">javascript:alert(document.domain)</a>")
                .contains("<a href=\"semi%3Beq%3D%21%27%24%2A%2C%40%2B~-_.txt\">semi;eq=!'$*,@+~-_.txt</a>");
    }

    @Test
    void roundedSizesAreNginxsKilobytesMegabytesAndGigabytes() {
        assertThat(DirectoryListing.roundedSize(0)).isEqualTo("      0");
        assertThat(DirectoryListing.roundedSize(9999)).isEqualTo("   9999");
        assertThat(DirectoryListing.roundedSize(10_000)).as("9 K and 784 bytes, rounded up").isEqualTo("    10K");
        assertThat(DirectoryListing.roundedSize(10_240 + 511)).isEqualTo("    10K");
        assertThat(DirectoryListing.roundedSize(10_240 + 512)).isEqualTo("    11K");
        assertThat(DirectoryListing.roundedSize((1 << 20) - 1)).isEqualTo("  1024K");
        assertThat(DirectoryListing.roundedSize(1 << 20)).isEqualTo("     1M");
        assertThat(DirectoryListing.roundedSize(734_003_200)).isEqualTo("   700M");
        assertThat(DirectoryListing.roundedSize(3L << 30)).isEqualTo("     3G");
        String html = DirectoryListing.html("/", List.of(new Entry("d", true, 0, LEAP_DAY),
                new Entry("f", false, 20_000, LEAP_DAY)), false, ZoneOffset.UTC);
        assertThat(html).contains("29-Feb-2024 13:05       -\r\n").contains("29-Feb-2024 13:05     20K\r\n");
    }

    @Test
    void localTimeIsTheZonesAndJsonTimesAreAlwaysHttpDates() {
        List<Entry> entries = List.of(new Entry("a.txt", false, 12, LEAP_DAY));
        ZoneId tokyo = ZoneId.of("Asia/Tokyo");
        Autoindex local = new Autoindex(Autoindex.Format.HTML, true, true);
        String html = new String(DirectoryListing.render(local, "/", entries, tokyo, null).body(), StandardCharsets.UTF_8);
        assertThat(html).contains(" 29-Feb-2024 22:05 ");
        String gmt = new String(DirectoryListing.render(new Autoindex(Autoindex.Format.HTML, true, false), "/", entries,
                tokyo, null).body(), StandardCharsets.UTF_8);
        assertThat(gmt).contains(" 29-Feb-2024 13:05 ");
        DirectoryListing.Rendered json = DirectoryListing.render(new Autoindex(Autoindex.Format.JSON, true, true), "/",
                entries, tokyo, null);
        assertThat(json.contentType()).isEqualTo("application/json");
        assertThat(new String(json.body(), StandardCharsets.UTF_8))
                .contains("\"mtime\":\"Thu, 29 Feb 2024 13:05:09 GMT\"");
        DirectoryListing.Rendered xml = DirectoryListing.render(new Autoindex(Autoindex.Format.XML, true, true), "/",
                entries, tokyo, null);
        assertThat(new String(xml.body(), StandardCharsets.UTF_8)).as("nginx's XML is in UTC whatever localtime says")
                .contains("mtime=\"2024-02-29T13:05:09Z\"");
    }

    @Test
    void jsonAndXmlNameTypeTimeAndAFilesSizeEscaped() {
        List<Entry> entries = List.of(new Entry("sub", true, 0, LEAP_DAY),
                new Entry("q\"\\\u0001\n\t<&>.txt", false, 5, LEAP_DAY + 999));
        assertThat(DirectoryListing.json(entries)).isEqualTo("[\r\n"
                + "{ \"name\":\"sub\", \"type\":\"directory\", \"mtime\":\"Thu, 29 Feb 2024 13:05:09 GMT\" },\r\n"
                + "{ \"name\":\"q\\\"\\\\\\u0001\\n\\t<&>.txt\", \"type\":\"file\", \"mtime\":\"Thu, 29 Feb 2024 13:05:09 GMT\","
                + " \"size\":5 }\r\n]");
        assertThat(DirectoryListing.json(List.of())).as("nginx's, to the byte").isEqualTo("[\r\n]");
        assertThat(DirectoryListing.xml(entries)).isEqualTo("<?xml version=\"1.0\"?>\r\n<list>\r\n"
                + "<directory mtime=\"2024-02-29T13:05:09Z\">sub</directory>\r\n"
                + "<file mtime=\"2024-02-29T13:05:09Z\" size=\"5\">q&quot;\\\u0001\n\t&lt;&amp;&gt;.txt</file>\r\n"
                + "</list>\r\n");
    }

    @Test
    void aJsonpListIsACallOfTheCallbackAndWithoutOneTheJsonList() {
        List<Entry> entries = List.of(new Entry("sub", true, 0, LEAP_DAY));
        Autoindex jsonp = new Autoindex(Autoindex.Format.JSONP, true, false);
        DirectoryListing.Rendered called = DirectoryListing.render(jsonp, "/", entries, ZoneOffset.UTC, "cb.x_1");
        assertThat(called.contentType()).isEqualTo("application/javascript");
        assertThat(new String(called.body(), StandardCharsets.UTF_8)).isEqualTo("/* callback */\r\ncb.x_1("
                + DirectoryListing.json(entries) + ");");
        for (String none : new String[] {null, ""}) {
            DirectoryListing.Rendered plain = DirectoryListing.render(jsonp, "/", entries, ZoneOffset.UTC, none);
            assertThat(plain.contentType()).isEqualTo("application/json");
            assertThat(new String(plain.body(), StandardCharsets.UTF_8)).isEqualTo(DirectoryListing.json(entries));
        }
    }

    /** nginx's check of a JSONP callback: its first, as sent; letters, digits, '_' and '.', at most 128 of them. */
    @Test
    void aCallbackIsTakenAsNginxTakesIt() {
        assertThat(DirectoryListing.callback("a=1&CALLBACK=Cb_9.x&callback=y")).isEqualTo("Cb_9.x");
        assertThat(DirectoryListing.callback("")).isEmpty();
        assertThat(DirectoryListing.callback("callback=")).isEmpty();
        assertThat(DirectoryListing.callback("callbacks=x")).isEmpty();
        assertThat(DirectoryListing.callback("callback=" + "a".repeat(128))).hasSize(128);
        for (String refused : new String[] {"callback=" + "a".repeat(129), "callback=a-b", "callback=%41",
                "callback=f()", "callback=a b", "callback=\u00e9"}) {
            assertThat(DirectoryListing.callback(refused)).as(refused).isNull();
        }
    }

    @Test
    void directoriesComeFirstThenNamesInByteOrder() {
        List<Entry> entries = new ArrayList<>(List.of(new Entry("b", false, 0, 0), new Entry("\u00e9", false, 0, 0),
                new Entry("\uD83D\uDE00", false, 0, 0), new Entry("\uFFFD", false, 0, 0), new Entry("B", false, 0, 0),
                new Entry("z", true, 0, 0), new Entry("a", true, 0, 0), new Entry("ab", false, 0, 0)));
        entries.sort(DirectoryListing.ORDER);
        assertThat(entries).extracting(Entry::name).as("U+1F600's bytes (F0 ..) after U+FFFD's (EF ..), as nginx's")
                .containsExactly("a", "z", "B", "ab", "b", "\u00e9", "\uFFFD", "\uD83D\uDE00");
    }

    @Test
    void whatIsListedIsWhatARequestForItCouldGet() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.writeString(outside.resolve("secret.txt"), "secret");
        Files.createDirectories(www.resolve("sub"));
        Files.writeString(www.resolve("a.txt"), "twelve bytes");
        Files.setLastModifiedTime(www.resolve("a.txt"), FileTime.fromMillis(LEAP_DAY));
        Files.writeString(www.resolve(".env"), "hidden");
        Files.createDirectories(www.resolve(".git"));
        Files.createSymbolicLink(www.resolve("inside"), www.resolve("a.txt"));
        Files.createSymbolicLink(www.resolve("out"), outside.resolve("secret.txt"));
        Files.createSymbolicLink(www.resolve("nowhere"), www.resolve("missing"));
        Files.createSymbolicLink(www.resolve("subdir"), www.resolve("sub"));
        Files.writeString(www.resolve("\uFFFDreplacement.txt"), "U+FFFD, a character like any");
        Files.setLastModifiedTime(www.resolve("\uFFFDreplacement.txt"), FileTime.fromMillis(LEAP_DAY));

        List<Entry> followed = DirectoryListing.read(new PathResolver(www, PathPolicy.DEFAULT), "/");
        assertThat(followed).containsExactly(new Entry("sub", true, 0, mtime(www.resolve("sub"))),
                new Entry("subdir", true, 0, mtime(www.resolve("sub"))), new Entry("a.txt", false, 12, LEAP_DAY),
                new Entry("inside", false, 12, LEAP_DAY), new Entry("\uFFFDreplacement.txt", false, 28, LEAP_DAY));
        assertThat(DirectoryListing.read(new PathResolver(www, new PathPolicy(false, false, false)), "/"))
                .as("links refused: none listed").extracting(Entry::name)
                .containsExactly("sub", "a.txt", "\uFFFDreplacement.txt");
        assertThat(DirectoryListing.read(new PathResolver(www, new PathPolicy(false, true, true)), "/"))
                .as("links anywhere: the one out too").extracting(Entry::name)
                .containsExactly("sub", "subdir", "a.txt", "inside", "out", "\uFFFDreplacement.txt");
        assertThat(DirectoryListing.read(new PathResolver(www, new PathPolicy(true, true, false)), "/"))
                .as("dotfiles allowed, still never listed (nginx's)").extracting(Entry::name)
                .containsExactly("sub", "subdir", "a.txt", "inside", "\uFFFDreplacement.txt");
        assertThat(DirectoryListing.read(new PathResolver(www, PathPolicy.DEFAULT), "/subdir/"))
                .as("a linked directory within the root").isEmpty();
    }

    @Test
    void aDirectoryItCannotReachFailsAsAnOpenWould() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createSymbolicLink(www.resolve("etc"), Path.of("/etc"));
        PathResolver resolver = new PathResolver(www, PathPolicy.DEFAULT);
        assertThatThrownBy(() -> DirectoryListing.read(resolver, "/gone/")).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> DirectoryListing.read(resolver, "/etc/")).as("a link out of the root")
                .isInstanceOf(AccessDeniedException.class);
    }

    /**
     * A directory checked, then swapped for a link out of the root before it is read (a rename race): the link is not
     * followed out; within the root it is. The listing read the checked path again, following whatever it named by
     * then: a helper listed a directory outside the root 282 times in 8 000 requests while two names were swapped.
     */
    @Test
    void aDirectorySwappedForALinkOutOfTheRootAfterItsCheckIsNotListed() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.writeString(outside.resolve("secret.txt"), "secret");
        Path inside = Files.createDirectories(www.resolve("in"));
        Files.writeString(inside.resolve("page.txt"), "page");
        Path rl = Files.createDirectories(www.resolve("pub/rl"));
        for (PathPolicy policy : List.of(PathPolicy.DEFAULT, new PathPolicy(false, false, false))) {
            PathResolver resolver = new PathResolver(www, policy);
            Path checked = resolver.resolveNormalized("/pub/rl/").requireOk().file(); // a directory, as checked
            Files.delete(rl);
            Files.createSymbolicLink(rl, outside); // swapped in since
            assertThatThrownBy(() -> DirectoryListing.readChecked(resolver, "/pub/rl/", checked)).as(policy.toString())
                    .isInstanceOf(AccessDeniedException.class);
            Files.delete(rl);
            Files.createSymbolicLink(rl, inside);
            if (policy.followSymlinks()) {
                assertThat(DirectoryListing.readChecked(resolver, "/pub/rl/", checked)).as("a link within the root")
                        .extracting(Entry::name).containsExactly("page.txt");
            } else {
                assertThatThrownBy(() -> DirectoryListing.readChecked(resolver, "/pub/rl/", checked))
                        .as("no link at all").isInstanceOf(AccessDeniedException.class);
            }
            Files.delete(rl);
            Files.createDirectory(rl);
        }
    }

    /** Listed on a listing thread: a full queue is a 503's cause, a failure the future's, never a future left open. */
    @Test
    void aListingEndsWhateverHappensToIt() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("a.txt"), "a");
        PathResolver resolver = new PathResolver(www, PathPolicy.DEFAULT);
        Autoindex json = new Autoindex(Autoindex.Format.JSON, true, false);
        assertThat(new String(DirectoryListing.list(resolver, "/", json, null, Runnable::run).get().body(),
                StandardCharsets.UTF_8)).contains("\"name\":\"a.txt\"");
        assertThatThrownBy(() -> DirectoryListing.list(resolver, "/", json, null, task -> {
            throw new RejectedExecutionException("full");
        }).get()).hasCauseInstanceOf(ReadQueueFullException.class);
        assertThatThrownBy(() -> DirectoryListing.list(resolver, "/gone/", json, null, Runnable::run).get())
                .hasCauseInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> DirectoryListing.list(resolver, "/", null, null, Runnable::run).get())
                .as("anything thrown while writing the list").hasCauseInstanceOf(NullPointerException.class);
    }

    private static long mtime(Path path) throws Exception {
        return Files.getLastModifiedTime(path).toMillis();
    }
}
