package io.edge.core.statics;

import io.edge.aio.PathPolicy;
import io.edge.aio.file.DirectMemoryExhaustedException;
import io.edge.aio.file.FileEngine;
import io.edge.aio.file.FileEngine.WhenFull;
import io.edge.aio.file.OpenFile;
import io.edge.aio.linux.Syscalls;
import io.edge.aio.path.PathResolver;
import io.edge.aio.path.Resolution;
import io.edge.conf.AliasCaptures;
import io.edge.conf.Autoindex;
import io.edge.conf.ErrorPage;
import io.edge.conf.LimitRate;
import io.edge.conf.LocationSettings;
import io.edge.conf.SiteSettings;
import io.edge.core.http.ErrorResponses;
import io.edge.core.http.Exchange;
import io.edge.core.http.GzipFilter;
import io.edge.core.http.SubFilter;
import io.edge.core.http.HttpDate;
import io.edge.core.http.ImageFilter;
import io.edge.core.http.HttpStatusException;
import io.edge.core.http.RedirectLocation;
import io.edge.core.http.RequestTarget;
import io.edge.core.http.Responder;
import io.edge.core.http.ThrottledWarnings;
import io.edge.core.limit.BodyPace;
import io.edge.core.statics.ByteRanges.Partial;
import io.edge.core.statics.ByteRanges.Range;
import io.edge.core.statics.ByteRanges.Unsatisfiable;
import io.edge.core.statics.MultipartByteranges.Piece;
import io.edge.core.statics.MultipartByteranges.Slice;
import io.edge.core.statics.MultipartByteranges.Text;
import io.edge.cache.content.CachedContent;
import io.edge.cache.content.ContentCache;
import io.edge.cache.content.ContentMetadata;
import io.edge.cache.content.FileVersion;
import io.edge.fastcgi.LogText;
import io.edge.fastcgi.cgi.ScriptResolver;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.ReadOnlyHttpHeaders;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.BiPredicate;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers a static location: GET and HEAD of files under the location's (or site's) root.
 *
 * <p>Per request: method (else 405 with {@code Allow}); path resolution (400/403/404); open through the
 * {@link FileEngine} (a directory redirects {@code /dir} to {@code /dir/} with 301, or serves the first
 * index file that exists, else 403); preconditions (304/412); {@code Range} with {@code If-Range}
 * (206, multipart 206, 416); then the body: a file up to {@link FileEngine#inlineLimit()} is read and leaves
 * in one write with the head, a larger one as engine regions of at most {@link FileEngine#chunkSize()}
 * ({@link FileEngine#loadRegion}: an engine may read a piece before it can be sent), one in flight at a time (a {@code FileRegion} does not count towards channel writability, so the
 * write futures are the backpressure). On a connection that ends TLS ({@link Exchange#endsTls}), where no
 * {@code sendfile} goes through the cipher, a larger file or a range is read by the engine into buffers of at most
 * 256 KiB instead (as for the gzip filter), at most two of them written and not yet sent, on the loop's own ring
 * where the engine has one.
 *
 * <p>Ownership: the {@link OpenFile} reference from the engine is held by this responder until the last
 * body piece was written (or the client went away); each region holds its own reference.
 * Resolution is lexical ({@link PathResolver#resolveForOpen}): the engine's open enforces the link rules, beneath the
 * root held open or by the resolver's checks on its threads, so the event loop touches the file system only through
 * the engine.
 */
public final class StaticResponder implements Responder {

    private static final Logger LOG = LoggerFactory.getLogger(StaticResponder.class);
    /** How Netty's {@code DefaultFileRegion} says a file ended before the region ({@code validate}). */
    private static final String SENDFILE_PAST_THE_END = "Underlying file size ";
    private static final AtomicBoolean NO_REAL_PATH_LOGGED = new AtomicBoolean();
    /** How long a directory's real path, the root's included, is trusted: the open-file cache's period. */
    public static final Duration DIRECTORY_TTL = Duration.ofSeconds(1);
    /** Headers of the responses this class fills itself: see {@link #fullResponse}. */
    private static final HttpHeadersFactory OWN_HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);

    private final FileEngine engine;
    private final MimeTypes mimeTypes;
    private final Function<Exchange, PathResolver> resolvers;
    private final ContentCache contentCache;
    private final Executor revalidator;
    private final ContentCache.Stat revalidation = new Revalidation();
    /** Files refused (403) for their permissions or a link on their way: many clients may ask for one. */
    private final ThrottledWarnings refusals = new ThrottledWarnings(LOG, System::nanoTime);
    /** Front controllers not sent as their source: every request for a missing path may meet one. */
    private static final ThrottledWarnings SOURCE_REFUSED = new ThrottledWarnings(LOG, System::nanoTime);
    private final int inlineLimit;
    private volatile boolean directMemoryWarned;
    /**
     * Small-file reads in flight on this thread (an event loop): see {@link #readWhole}. One per thread for every
     * responder (a read is keyed by path and entity tag): an event loop's thread-local map outlives any responder, and
     * one per responder kept each one a reload replaced alive with its engine and caches.
     */
    private static final FastThreadLocal<Map<SharedRead, List<BiConsumer<ByteBuf, Throwable>>>> READS_IN_FLIGHT =
            new FastThreadLocal<>() {
                @Override
                protected Map<SharedRead, List<BiConsumer<ByteBuf, Throwable>>> initialValue() {
                    return new HashMap<>();
                }
            };

    /** A responder that maps each exchange onto its location's root (else its site's) and the site's policy. */
    public StaticResponder(FileEngine engine, MimeTypes mimeTypes) {
        this(engine, mimeTypes, perRoot(), null, null);
    }

    /**
     * A responder with a content cache: small files are kept in memory after their first read, and a hit
     * is answered without the engine (no open, no read).
     *
     * @param contentCache the cache, or {@code null} for none
     * @param revalidator  where cached files due for revalidation are stat'ed (never an event loop)
     */
    public StaticResponder(FileEngine engine, MimeTypes mimeTypes, ContentCache contentCache, Executor revalidator) {
        this(engine, mimeTypes, perRoot(), contentCache, revalidator);
    }

    /**
     * @param resolvers the resolver for an exchange's root and policy; called on the event loop, must not block
     */
    public StaticResponder(FileEngine engine, MimeTypes mimeTypes, Function<Exchange, PathResolver> resolvers) {
        this(engine, mimeTypes, resolvers, null, null);
    }

    /**
     * A responder with its own resolvers ({@link #perRoot(LongSupplier)}) and a content cache.
     *
     * @param contentCache the cache, or {@code null} for none
     * @param revalidator  where cached files due for revalidation are stat'ed (never an event loop)
     */
    public StaticResponder(FileEngine engine, MimeTypes mimeTypes, Function<Exchange, PathResolver> resolvers,
            ContentCache contentCache, Executor revalidator) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.mimeTypes = Objects.requireNonNull(mimeTypes, "mimeTypes");
        this.resolvers = Objects.requireNonNull(resolvers, "resolvers");
        this.contentCache = contentCache;
        this.revalidator = contentCache == null ? null : Objects.requireNonNull(revalidator, "revalidator");
        // Files the cache may keep are read whole, so that they can be kept.
        this.inlineLimit = contentCache == null ? engine.inlineLimit()
                : Math.max(engine.inlineLimit(), contentCache.maxFileSize());
    }

    /**
     * Resolvers keyed by root and policy, created once (creating one takes the root's real path, which
     * blocks; it happens on the first request of a root).
     */
    public static Function<Exchange, PathResolver> perRoot() {
        return perRoot(System::nanoTime);
    }

    /**
     * As {@link #perRoot()}, the resolvers trusting a directory's real path (the root's too: a deploy that switches
     * a link to the root is seen) for {@link #DIRECTORY_TTL} on {@code nanoClock}.
     */
    public static Resolvers perRoot(LongSupplier nanoClock) {
        return new Resolvers(nanoClock);
    }

    /**
     * The resolvers of one configuration, by root and policy ({@link #perRoot(LongSupplier)}); {@link #close} lets
     * their roots go once a reload replaced the configuration and its last request ended.
     */
    public static final class Resolvers implements Function<Exchange, PathResolver>, AutoCloseable {
        /** {@code captures}: an alias's in a regex location (by its regex, the same object), else null. */
        private record Key(Path root, PathPolicy policy, String uriPrefix, AliasCaptures captures) {
        }

        /**
         * A location's resolver, and where its slash-less alias may be found to be a file ({@link
         * LocationSettings#aliasAsFile}), the resolver of that file below its parent, taken while it is one; else null.
         */
        private record Shapes(PathResolver resolver, PathResolver asFile) {
        }

        /** Site and location settings by identity: records compare by value, which costs more than the lookup. */
        private record Same(SiteSettings site, Object location) {
            @Override
            public boolean equals(Object other) {
                return other instanceof Same same && same.site == site && same.location == location;
            }

            @Override
            public int hashCode() {
                return 31 * System.identityHashCode(site) + System.identityHashCode(location);
            }
        }

        private final LongSupplier nanoClock;
        private final ConcurrentMap<Key, PathResolver> resolvers = new ConcurrentHashMap<>();
        private final ConcurrentMap<Same, Shapes> bySettings = new ConcurrentHashMap<>();

        private Resolvers(LongSupplier nanoClock) {
            this.nanoClock = nanoClock;
        }

        /**
         * Makes the resolver of every root {@code sites} name (a site's, a location's), here: a resolver takes its
         * root's real path and opens it, which on a file server waits for the server (a FUSE daemon that is slow, an
         * NFS mount whose server is gone), and the first request for a root would otherwise do that on its event loop.
         * Called where a configuration is built, never on a loop.
         */
        public void prepare(List<SiteSettings> sites) {
            for (SiteSettings site : sites) {
                if (site.root() != null) {
                    resolverOf(site.root(), site.pathPolicy(), "/", null);
                }
                for (LocationSettings location : site.everyLocation()) {
                    if (location.root() != null) {
                        resolverOf(location.root(), site.pathPolicy(), location.uriPrefix(), location.aliasCaptures());
                        AliasCaptures asFile = location.aliasAsFile();
                        if (asFile != null) {
                            resolverOf(location.root().getParent(), site.pathPolicy(), "/", asFile);
                        }
                    }
                }
            }
        }

        /** Resolvers made so far. */
        int size() {
            return resolvers.size();
        }

        private PathResolver resolverOf(Path root, PathPolicy policy, String uriPrefix, AliasCaptures captures) {
            return resolvers.computeIfAbsent(new Key(root, policy, uriPrefix, captures),
                    k -> k.captures() != null
                            ? new PathResolver(k.root(), k.policy(), nanoClock, DIRECTORY_TTL, k.captures()::below)
                            : new PathResolver(k.root(), k.policy(), nanoClock, DIRECTORY_TTL, k.uriPrefix()));
        }

        @Override
        public PathResolver apply(Exchange exchange) {
            SiteSettings site = exchange.site();
            LocationSettings location = exchange.location();
            Same same = new Same(site, location);
            Shapes shapes = bySettings.get(same);
            if (shapes == null) {
                AliasCaptures asFile = location == null ? null : location.aliasAsFile();
                PathPolicy policy = site.pathPolicy();
                shapes = new Shapes(location != null && location.root() != null
                        ? resolverOf(location.root(), policy, location.uriPrefix(), location.aliasCaptures())
                        : resolverOf(site.root(), policy, "/", null), // made by prepare(), unless a test's
                        asFile == null ? null : resolverOf(location.root().getParent(), policy, "/", asFile));
                if (bySettings.size() > 4096) {
                    bySettings.clear(); // settings of configurations reloaded since
                }
                bySettings.putIfAbsent(same, shapes);
            }
            // a slash-less alias found to be a file (there at load, or since: its root checks, off the loops, say):
            // that file below its parent, as nginx's alias, a text, names it per request
            return shapes.asFile() != null && shapes.resolver().rootIsFile() ? shapes.asFile() : shapes.resolver();
        }

        /** Closes every resolver made here ({@link PathResolver#close}): their roots are let go. */
        @Override
        public void close() {
            resolvers.values().forEach(PathResolver::close);
        }
    }

    @Override
    public void respond(Exchange exchange) {
        respond(exchange, true);
    }

    /**
     * As {@link #respond(Exchange)}; {@code mayRetry}: a file found shorter than it was opened ({@link #shrank}) before
     * any of its answer went out is opened again and answered anew, once.
     */
    private void respond(Exchange exchange, boolean mayRetry) {
        boolean readsOnly = readsOnly(exchange);
        if (!followsDirectories(exchange) && !exchange.path().endsWith("/") && frontController(exchange) == null) {
            // A directory's index may belong to a location that takes other methods (a form posted to /), as
            // nginx's index redirects a POST too: refused there only if the index is served here. A POST to a
            // directory named without its slash is redirected like a GET, and one to a file refused once it is
            // found, as nginx's static module does. So is any method with a front controller, which a path that
            // names nothing goes to with its method (a PUT to an API's /index.php).
            methodNotAllowed(exchange);
            return;
        }
        PathResolver resolver = resolvers.apply(exchange);
        Resolution resolution = resolver.resolveForOpen(exchange.path());
        if (!resolution.isOk()) {
            if (resolution.status() != Resolution.Status.NOT_FOUND || !toFrontController(exchange)) {
                refuse(exchange, resolution);
            }
            return;
        }
        String uriPath = resolution.uriPath();
        if (readsOnly && !uriPath.endsWith("/") && takesPrecompressed(exchange)) {
            // nginx's gzip_static: the file's name and .gz (under an alias's captures, not what the path and .gz make),
            // from what the path was resolved to: not normalised nor matched by the alias's regex again
            Resolution compressed = resolver.resolveForOpen(resolution, ".gz");
            if (compressed.isOk()) {
                engine.open(resolver, compressed, true).whenComplete((file, error) -> onLoop(exchange, () -> {
                    if (exchange.isEnded()) {
                        if (file != null) {
                            file.release();
                        }
                    } else if (error == null && !file.isDirectory()) {
                        serve(exchange, file, uriPath, EmptyHttpHeaders.INSTANCE, true,
                                mayRetry ? () -> respond(exchange, false) : null, limitRateOf(exchange));
                    } else {
                        if (file != null) {
                            file.release();
                        }
                        respondUncompressed(exchange, resolver, resolution, mayRetry); // none, or none to send
                    }
                }));
                return;
            }
        }
        respondUncompressed(exchange, resolver, resolution, mayRetry);
    }

    /** The headers of a file's precompressed form, sent as the file's own (its type) compressed. */
    private static final HttpHeaders GZIP_STATIC = new ReadOnlyHttpHeaders(false,
            HttpHeaderNames.CONTENT_ENCODING, HttpHeaderValues.GZIP, HttpHeaderNames.VARY, "Accept-Encoding");

    /**
     * Whether the location's {@code gzip.static} has a GET or HEAD look for the file's {@code .gz} first: an HTTP/1.1
     * client that takes gzip (as nginx's gzip_static asks of it).
     */
    private static boolean takesPrecompressed(Exchange exchange) {
        LocationSettings location = exchange.location();
        return location != null && location.gzipStatic()
                && GzipFilter.sendsGzip(exchange.request(), exchange.accelFields(), true, location.gzipClients());
    }

    /** {@link #respond(Exchange, boolean)} for the file itself, as resolved. */
    private void respondUncompressed(Exchange exchange, PathResolver resolver, Resolution resolution,
            boolean mayRetry) {
        boolean readsOnly = readsOnly(exchange);
        String uriPath = resolution.uriPath();
        if (contentCache != null && readsOnly && !uriPath.endsWith("/")) {
            CachedContent hit = contentCache.get(resolution.file(), revalidation, revalidator);
            if (hit != null && resolution.linksUnchecked() && !hit.metadata().confined()) {
                contentCache.refuse(hit); // read through a link: maybe not what this path is beneath the root
            } else if (hit != null && serveCached(exchange, hit, resolution.file(), uriPath)) {
                return;
            }
        }
        boolean bodyExpected = bodyExpected(exchange) && readsOnly && !uriPath.endsWith("/"); // a file there: 404
        open(exchange, engine.open(resolver, resolution, bodyExpected), file -> {
            if (!file.isDirectory()) {
                if (uriPath.endsWith("/")) {
                    file.release();
                    notFound(exchange); // a file named as a directory
                    return;
                }
                if (!readsOnly) {
                    file.release();
                    methodNotAllowed(exchange);
                    return;
                }
                serve(exchange, file, uriPath, EmptyHttpHeaders.INSTANCE, false,
                        mayRetry ? () -> respond(exchange, false) : null, limitRateOf(exchange));
                return;
            }
            file.release();
            if (countsNoDirectory(exchange)) {
                notFound(exchange); // nginx's try_files $uri /index.html: a directory is no match ($uri/ would be)
            } else if (uriPath.endsWith("/")) {
                tryIndex(exchange, resolver, uriPath, 0, mayRetry);
            } else if (followsDirectories(exchange)) {
                redirectToDirectory(exchange, uriPath);
            } else {
                methodNotAllowed(exchange); // let past the first check for a front controller: a directory is no script
            }
        }, () -> notFound(exchange));
    }

    private static String frontController(Exchange exchange) {
        LocationSettings location = exchange.location();
        return location == null ? null : location.frontController();
    }

    /** The request's path names no file or directory: its location's front controller answers, else 404. */
    private static void notFound(Exchange exchange) {
        if (!toFrontController(exchange)) {
            refuseUnindexed(exchange, HttpResponseStatus.NOT_FOUND);
        }
    }

    /**
     * Hands {@code exchange}, whose path names no file or directory, to its location's {@code front-controller} and
     * returns true: answered as a request for that path (its method and query kept) is, by the location that path routes
     * to, as nginx's try_files $uri $uri/ /index.html (a single-page application's) or /index.php (run by the PHP
     * location) redirects internally; a named one ({@code "@app"}) answers it as it is, its URI unchanged, as nginx's
     * try_files $uri $uri/ @app. False without one, or for the front controller's own path (missing too: 404, not a
     * loop).
     */
    private static boolean toFrontController(Exchange exchange) {
        String front = frontController(exchange);
        if (front == null || front.equals(exchange.path())) {
            return false;
        }
        if (front.startsWith("@")) {
            exchange.redirectNamed(front);
            return true;
        }
        if (isPhpName(front)) {
            LocationSettings lands;
            try {
                lands = exchange.locationOf(front);
            } catch (HttpStatusException gaveUp) { // a location's regex on the front controller's path
                exchange.fail(gaveUp);
                return true;
            }
            if (lands != null && lands.handler() == LocationSettings.Handler.STATIC) {
                // A location of files takes the script ("^~ /index.php" with internal = true, which no regex
                // overrides, to hide it): it would be sent as a file, its source (nginx sends it). 404, as a
                // front controller that is missing. A PHP location's own front controller runs there, not by this
                // redirect; it comes here only for a file its probe saw a moment before the open found it gone.
                if (exchange.location().handler() == LocationSettings.Handler.FASTCGI) {
                    LOG.debug("{} {} -> 404: the file its probe saw is gone, and its front controller's path routes"
                            + " to a location of files", exchange.request().method(),
                            LogText.escapeBytes(exchange.request().uri()));
                } else {
                    SOURCE_REFUSED.warn(FrontControllerSource.class, exchange.request().method() + " "
                            + LogText.escapeBytes(exchange.request().uri()) + " -> 404: front-controller " + front
                            + " routes to location \"" + lands.match() + "\", which serves files: never sent as its"
                            + " source; let a location with fastcgi take that path");
                }
                exchange.sendError(HttpResponseStatus.NOT_FOUND);
                return true;
            }
        }
        exchange.redirect(front);
        return true;
    }

    /** The kind of {@link #SOURCE_REFUSED}'s warning. */
    private static final class FrontControllerSource {
    }

    private void tryIndex(Exchange exchange, PathResolver resolver, String directory, int i, boolean mayRetry) {
        List<String> index = exchange.site().index();
        if (i >= index.size()) {
            Autoindex autoindex = exchange.location() == null ? null : exchange.location().autoindex();
            if (autoindex != null && readsOnly(exchange)) {
                list(exchange, resolver, directory, autoindex);
            } else {
                refuseUnindexed(exchange, HttpResponseStatus.FORBIDDEN); // no index and no listing, like nginx
            }
            return;
        }
        String uriPath = directory + index.get(i);
        Resolution resolution = resolver.resolveForOpen(uriPath);
        if (resolution.status() == Resolution.Status.NOT_FOUND) {
            tryIndex(exchange, resolver, directory, i + 1, mayRetry);
            return;
        }
        if (!resolution.isOk()) {
            refuse(exchange, resolution);
            return;
        }
        open(exchange, engine.open(resolver, resolution, bodyExpected(exchange)), file -> {
            if (file.isDirectory()) {
                file.release();
                tryIndex(exchange, resolver, directory, i + 1, mayRetry);
                return;
            }
            LocationSettings owner;
            boolean elsewhere;
            boolean script;
            try {
                owner = exchange.locationOf(uriPath);
                script = isScriptOfThisLocation(exchange, uriPath);
                elsewhere = owner != null && owner != exchange.location() || script;
            } catch (HttpStatusException gaveUp) { // a location's regex on the index's path (Router.location)
                file.release();
                exchange.fail(gaveUp);
                return;
            }
            LocationSettings answering = owner != null ? owner : exchange.location();
            if (!script && isPhpName(index.get(i))
                    && (answering == null || answering.handler() == LocationSettings.Handler.STATIC
                    || !elsewhere && answering.handler() == LocationSettings.Handler.FASTCGI)) {
                // /static/index.php where no PHP location takes it (under "^~ /static/", which no regex overrides),
                // or under this FastCGI location whose split-path-info names no .php script (a split on .phtml, which
                // answers /docs/index.php itself 404): passed over as a missing index, never sent as a file, its
                // source (nginx sends it)
                file.release();
                tryIndex(exchange, resolver, directory, i + 1, mayRetry);
                return;
            }
            if (elsewhere && owner != null && owner.internal()) {
                // An internal location is a script's to hand out (X-Accel-Redirect): "GET /protected/" found
                // /protected/index.html there and served it around the script (nginx's index does; its internal
                // says otherwise). 404, as the client's own request for it.
                file.release();
                exchange.sendError(HttpResponseStatus.NOT_FOUND);
            } else if (elsewhere || !exchange.site().rewrites().isEmpty()) {
                // /docs/index.php under a PHP location: run there, never sent as a file (its source); any index
                // file gets its own location's settings, as nginx's internal redirect does. A script of this very
                // location (a FastCGI one whose script lookup, remembered for a second, did not see it yet) is run
                // through the same redirect. So is this location's own index where the site has rewrites: nginx's
                // redirect to /dir/index.html meets them again.
                file.release();
                exchange.redirect(uriPath);
            } else if (!readsOnly(exchange)) {
                file.release();
                methodNotAllowed(exchange);
            } else {
                serve(exchange, file, uriPath, EmptyHttpHeaders.INSTANCE, false,
                        mayRetry ? () -> tryIndex(exchange, resolver, directory, i, false) : null, limitRateOf(exchange));
            }
        }, () -> tryIndex(exchange, resolver, directory, i + 1, mayRetry));
    }

    /**
     * Answers with what {@code directory} holds, as its location's {@code autoindex} writes it: listed and written on
     * a listing thread, then sent whole (the location's gzip, headers and expires apply, as to a file).
     */
    private void list(Exchange exchange, PathResolver resolver, String directory, Autoindex autoindex) {
        String callback = autoindex.format() == Autoindex.Format.JSONP ? DirectoryListing.callback(exchange.query()) : "";
        if (callback == null) {
            exchange.fail(new HttpStatusException(HttpResponseStatus.BAD_REQUEST, "autoindex jsonp: a callback of more"
                    + " than " + DirectoryListing.CALLBACK_MAX + " characters, or of others than letters, digits, '_'"
                    + " and '.'"));
            return;
        }
        DirectoryListing.list(resolver, directory, autoindex, callback)
                .whenComplete((page, error) -> onLoop(exchange, () -> sendListing(exchange, page, error)));
    }

    /** {@link #list}'s answer: {@code page}, or what {@code error} says. On the exchange's loop. */
    private void sendListing(Exchange exchange, DirectoryListing.Rendered page, Throwable error) {
        if (exchange.isEnded()) {
            return;
        }
        if (error != null) {
            openFailed(exchange, unwrap(error), () -> notFound(exchange)); // gone since it was opened: 404
            return;
        }
        byte[] body = page.body();
        if (Preconditions.answeredWithoutValidators(exchange, true,
                () -> exchange.offerCompression(body.length, page.contentType()))) { // a 304 has the 200's Vary
            return;
        }
        FullHttpResponse response = fullResponse(HttpResponseStatus.OK,
                exchange.isHead() ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
        response.headers().add(HttpHeaderNames.CONTENT_TYPE, page.contentType())
                .add(HttpHeaderNames.CONTENT_LENGTH, body.length);
        exchange.offerCompression();
        exchange.complete(exchange.writeAndFlush(response));
    }

    /**
     * GET, HEAD or POST: the methods a directory named without its slash is redirected for, and a missing index
     * answered with its status (nginx's index takes a POST too); any other is 405 there.
     */
    private static boolean followsDirectories(Exchange exchange) {
        return readsOnly(exchange) || HttpMethod.POST.equals(exchange.request().method());
    }

    /** GET or HEAD: what a file is answered to. */
    private static boolean readsOnly(Exchange exchange) {
        HttpMethod method = exchange.request().method();
        return HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method);
    }

    /**
     * Refuses a request that no file or index file answers: {@code status} to a GET, HEAD or POST (nginx's index
     * takes a POST too), 405 to any other method. Such a method gets past {@link #respond}'s check only on a
     * directory's path ({@code /dir/}), for an index file another location may take; with none found, nothing here
     * takes it, as nginx's static module answers and as a TRACE there is answered.
     */
    private static void refuseUnindexed(Exchange exchange, HttpResponseStatus status) {
        if (followsDirectories(exchange)) {
            exchange.sendError(status);
        } else {
            methodNotAllowed(exchange);
        }
    }

    private static void methodNotAllowed(Exchange exchange) {
        if (exchange.toNamedErrorPage(HttpResponseStatus.METHOD_NOT_ALLOWED)) {
            return; // nginx's error_page 405 = @app: a POST to a file goes to the application
        }
        // The site's page for 405 if it has one, as nginx's error_page covers its static module's 405; else the
        // built-in page every other error of edge's has (nginx's 405 has its page too).
        FullHttpResponse response = ErrorResponses.response(exchange, HttpResponseStatus.METHOD_NOT_ALLOWED);
        if (response.status().code() == HttpResponseStatus.METHOD_NOT_ALLOWED.code()) { // not a missing page's 404
            // a file's, whatever the location's
            response.headers().set(HttpHeaderNames.ALLOW, ErrorResponses.READ_METHODS);
        }
        exchange.complete(exchange.writeAndFlush(response));
    }

    /** Whether an index name is a PHP script's, {@code index.php} (any case). */
    private static boolean isPhpName(String indexName) {
        return indexName.regionMatches(true, indexName.length() - 4, ".php", 0, 4);
    }

    /**
     * Whether the index file {@code uriPath} is a script of this exchange's own location, a FastCGI one: sent as a
     * file, it would be its source. A split that gives up on the path takes it for one, and is said (at most once
     * every 10 s), as the FastCGI path says its own.
     */
    private boolean isScriptOfThisLocation(Exchange exchange, String uriPath) {
        LocationSettings location = exchange.location();
        return location != null && location.handler() == LocationSettings.Handler.FASTCGI
                && ScriptResolver.hasScriptPart(location.scriptSplit(), uriPath, gaveUp -> refusals.warn(
                        ScriptResolver.SplitGaveUp.class, exchange.request().method() + " "
                        + LogText.escapeBytes(exchange.request().uri()) + ": index file " + LogText.escapeControls(
                        uriPath) + ": " + gaveUp.reason()));
    }

    /**
     * Whether the answer will most likely carry the whole file, read into a buffer: not for a HEAD, a
     * revalidation (a conditional GET, most often answered 304), a request that may end in 412, nor a range
     * (sent by {@code sendfile} where the page cache holds it). The engine may read a small file from a file
     * server whole as it opens it only then; bytes read so and not taken stay with the cached descriptor.
     */
    private static boolean bodyExpected(Exchange exchange) {
        HttpHeaders headers = exchange.request().headers();
        return !exchange.isHead() && !headers.contains(HttpHeaderNames.IF_NONE_MATCH)
                && !headers.contains(HttpHeaderNames.IF_MODIFIED_SINCE) && !headers.contains(HttpHeaderNames.RANGE)
                && !headers.contains(HttpHeaderNames.IF_MATCH) && !headers.contains(HttpHeaderNames.IF_UNMODIFIED_SINCE);
    }

    /**
     * Continues on the exchange's event loop once {@code opening} completes: {@code then} takes over the
     * reference; a missing file runs {@code notFound}; other failures answer here. If the exchange ended
     * meanwhile (its client went away, or it failed: a body over the limit, a timeout), the file is given back
     * and nothing runs.
     */
    private void open(Exchange exchange, CompletionStage<OpenFile> opening,
            Consumer<OpenFile> then, Runnable notFound) {
        opening.whenComplete((openFile, error) -> onLoop(exchange, () -> {
            if (exchange.isEnded()) {
                if (openFile != null) {
                    openFile.release();
                }
                return;
            }
            if (error == null) {
                then.accept(openFile);
            } else {
                openFailed(exchange, unwrap(error), notFound);
            }
        }));
    }

    /** Answers an open (or a directory's listing) that failed with {@code cause}: a missing file runs {@code notFound}. */
    private void openFailed(Exchange exchange, Throwable cause, Runnable notFound) {
        if (cause instanceof NoSuchFileException || isReason(cause, Syscalls.ENOTDIR, "Not a directory")) {
            notFound.run();
        } else if (cause instanceof AccessDeniedException || isReason(cause, Syscalls.ELOOP,
                "Too many levels of symbolic links")) {
            // Said as nginx says its refusals ("open() failed (13: Permission denied)"): else nothing tells which
            // files a deploy left unreadable, or that a link (Laravel's storage:link) leads out of the root.
            FileSystemException refused = (FileSystemException) cause;
            logRefusal(exchange, refused.getFile(), refused.getReason());
            exchange.sendError(HttpResponseStatus.FORBIDDEN);
        } else {
            exchange.fail(cause); // FileDescriptorsExhaustedException -> 503 in ErrorResponses
        }
    }

    /**
     * Logs a 403 of a file refused ({@link #refusals}): the request, the file ({@code null}: the request's path), and
     * {@code reason} (the open's, or the path resolver's), a link's with the rule that refused it. Not a dotfile's:
     * refused on purpose, and what scanners ask for all day.
     */
    private void logRefusal(Exchange exchange, String file, String reason) {
        if (PathResolver.DOTFILE.equals(reason)) {
            return;
        }
        String why = reason == null ? "permission denied" : reason.contains("symbolic link")
                ? reason + " (the site's symlinks rule: within-root refuses a link that leads out of the root, deny "
                        + "any link)"
                : reason;
        refusals.warn(AccessDeniedException.class, exchange.request().method() + " "
                + LogText.escapeBytes(exchange.request().uri()) + " -> 403: "
                + LogText.escapeControls(file != null ? file : exchange.path()) + ": " + why);
    }

    /** The engine's own failure, not the CompletionException a stage may wrap it in. */
    private static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    }

    private static boolean isReason(Throwable cause, int errno, String english) {
        return cause instanceof FileSystemException e && Syscalls.isReason(e.getReason(), errno, english);
    }

    private static void onLoop(Exchange exchange, Runnable task) {
        EventLoop loop = exchange.clientChannel().eventLoop();
        if (loop.inEventLoop()) {
            task.run();
        } else {
            loop.execute(task);
        }
    }

    private void refuse(Exchange exchange, Resolution resolution) {
        if (resolution.status() == Resolution.Status.FAILED) {
            LOG.warn("{} {} -> 500: {}", exchange.request().method(), LogText.escapeBytes(exchange.request().uri()),
                    resolution.reason());
        } else if (resolution.status() == Resolution.Status.FORBIDDEN) {
            // the resolver's lexical refusals (a dotfile, which logRefusal leaves out); links are the open's to refuse
            logRefusal(exchange, resolution.uriPath(), resolution.reason());
        }
        exchange.sendError(switch (resolution.status()) {
            case BAD_REQUEST -> HttpResponseStatus.BAD_REQUEST;
            case FORBIDDEN -> HttpResponseStatus.FORBIDDEN;
            case FAILED -> HttpResponseStatus.INTERNAL_SERVER_ERROR;
            case NOT_FOUND, OK -> HttpResponseStatus.NOT_FOUND;
        });
    }

    private static void redirectToDirectory(Exchange exchange, String uriPath) {
        redirectToDirectory(exchange, uriPath, EmptyHttpHeaders.INSTANCE);
    }

    /** As {@link #redirectToDirectory(Exchange, String)}, with a script's X-Accel-Redirect's {@code kept} fields. */
    private static void redirectToDirectory(Exchange exchange, String uriPath, HttpHeaders kept) {
        exchange.answerWithOwnStatus(); // nginx's special response: a 301, whatever error page led to a named location
        String query = exchange.query();
        LocationSettings location = exchange.location(); // none for a file given without a location: nginx's defaults
        ErrorResponses.redirect(exchange, HttpResponseStatus.MOVED_PERMANENTLY, RedirectLocation.of(exchange,
                location == null ? LocationSettings.Redirects.DEFAULT : location.redirects(),
                RequestTarget.encodePath(uriPath) + '/' + (query.isEmpty() ? "" : "?" + query)), kept);
    }

    /**
     * Answers {@code exchange} with {@code file} as a static file would be answered (conditionals, ranges,
     * HEAD), adding {@code passThrough} headers: used for {@code X-Sendfile} / {@code X-Accel-Redirect} from a
     * backend. Links are followed, but only a file whose real path (that of the file opened:
     * {@link OpenFile#realPath}, read without waiting) {@code within} accepts is sent; any other gets 403. The file
     * is opened first (off the loop where that could wait) and judged after, so no {@code realpath} runs on the
     * event loop. A non-empty {@code Content-Type} among {@code passThrough} is the response's type (the parts'
     * type in a multipart range answer) in place of the one from the file name, as nginx keeps an upstream's
     * type over an {@code X-Accel-Redirect}; an empty one, or none, leaves the file name's. The exchange's
     * location ({@link Exchange#answerAs}: the one the file's URI routes to) gives the {@code expires} headers, which
     * the exchange sets in place of a {@code Cache-Control} or {@code Expires} among {@code passThrough}, as nginx's
     * expires replaces an upstream's.
     */
    public void sendFileWithin(Exchange exchange, Path file, HttpHeaders passThrough, Predicate<Path> within) {
        sendFileWithin(exchange, file, null, false, passThrough, (named, real) -> within.test(real),
                limitRateOf(exchange), true);
    }

    /**
     * As {@link #sendFileWithin(Exchange, Path, HttpHeaders, Predicate)}, the body paced by {@code limitRate} (the
     * backend's {@code X-Accel-Limit-Rate}) in place of the location's, or unpaced where it is null. Where {@code
     * namedAsDirectory} (the backend's name ended in "/"), a file is 404, as open(2) of that name finds (ENOTDIR) and
     * as a request's path naming a file so is answered. A directory found at {@code uri}, an X-Accel-Redirect's URI
     * named without its slash, is a 301 to that URI with its slash and the exchange's query (the redirect's), as nginx's
     * static module answers its internal redirect there, once the links to it pass the site's symlinks rule (else 403);
     * with {@code uri} null (an X-Sendfile path), 403. {@code within} judges a file by the name it is opened by and its
     * real path: the file's, and its {@code .gz} beside it, which the location's gzip.static sends in its place (nginx's
     * gzip_static at the URI of an X-Accel-Redirect).
     */
    public void sendFileWithin(Exchange exchange, Path file, String uri, boolean namedAsDirectory,
            HttpHeaders passThrough, BiPredicate<Path, Path> within, LimitRate limitRate) {
        sendFileWithin(exchange, file, uri, namedAsDirectory, passThrough, within, limitRate, true);
    }

    private void sendFileWithin(Exchange exchange, Path file, String uri, boolean namedAsDirectory,
            HttpHeaders passThrough, BiPredicate<Path, Path> within, LimitRate limitRate, boolean mayRetry) {
        // a file named as a directory is 404: not read whole as it opens
        open(exchange, engine.open(file, true, bodyExpected(exchange) && !namedAsDirectory), openFile -> {
            if (namedAsDirectory && !openFile.isDirectory()) {
                openFile.release();
                exchange.sendError(HttpResponseStatus.NOT_FOUND);
                return;
            }
            if (openFile.isDirectory()) {
                openFile.release();
                if (countsNoDirectory(exchange)) {
                    accelMissing(exchange);
                } else if (uri != null) {
                    redirectToDirectoryWithin(exchange, uri, passThrough);
                } else {
                    exchange.sendError(HttpResponseStatus.FORBIDDEN);
                }
                return;
            }
            sendIfWithin(exchange, openFile, file, within, passThrough, limitRate, mayRetry
                    ? () -> sendFileWithin(exchange, file, uri, namedAsDirectory, passThrough, within, limitRate, false)
                    : null);
        }, () -> accelMissing(exchange));
    }

    /**
     * Redirects to the directory {@code uri}, an X-Accel-Redirect's URI named without its slash, as {@link
     * #sendFileWithin} answers it, once the exchange's location lets a client's own request for {@code uri} reach a
     * directory: its links checked as the static path checks them (off the loop where that could wait), so a link out
     * of the root (symlinks = within-root), or any (deny), is 403, as nginx's disable_symlinks refuses the internal
     * redirect, and the client is not told that the link leads to a directory. A directory opened by its name has no
     * descriptor to read its real path from, as {@code within} judges a file's. Nothing of it is sent: what the client
     * asks for then, with the slash, meets every check again.
     */
    private void redirectToDirectoryWithin(Exchange exchange, String uri, HttpHeaders passThrough) {
        PathResolver resolver = resolvers.apply(exchange);
        Resolution resolution = resolver.resolveForOpen(uri);
        if (!resolution.isOk()) {
            refuse(exchange, resolution);
            return;
        }
        open(exchange, engine.open(resolver, resolution, false), directory -> {
            boolean isDirectory = directory.isDirectory();
            directory.release();
            if (isDirectory) {
                redirectToDirectory(exchange, uri, passThrough);
            } else {
                accelMissing(exchange); // the directory gone since, a file in its place: no directory there now
            }
        }, () -> accelMissing(exchange));
    }

    /**
     * A backend's X-Accel-Redirect names nothing there: its location's named front controller answers, nginx's
     * try_files $uri $uri/ @app met after the internal redirect to its URI; else 404 (a front controller that is a
     * path is not followed there).
     */
    private static void accelMissing(Exchange exchange) {
        String front = frontController(exchange);
        if (front != null && front.startsWith("@")) {
            exchange.redirectNamed(front);
        } else {
            exchange.sendError(HttpResponseStatus.NOT_FOUND);
        }
    }

    /** Whether the exchange's location counts no directory before its front controller: nginx's try_files $uri @app. */
    private static boolean countsNoDirectory(Exchange exchange) {
        return frontController(exchange) != null && !exchange.location().frontControllerDirectories();
    }

    /**
     * As {@link #sendFileWithin(Exchange, Path, boolean, HttpHeaders, Predicate, LimitRate)} for the directory
     * {@code directory}, which a backend named with its slash ({@code X-Accel-Redirect: /protected/sub/}, the URI
     * {@code directoryUri}): the first of the site's index files there is sent, as nginx's index module answers its
     * internal redirect to such a URI; with none, 403, as a client's own request there without an index is answered;
     * with a file or nothing there, 404. {@code within} judges the index file by its name and its real path, as the
     * file a backend names is judged. One whose URI routes to another location than the exchange's (a regex location
     * of its own; index.php, which a PHP location would run) is refused, 403: nginx's index would redirect it there,
     * and edge does not follow a backend's file into a location whose checks it did not meet.
     */
    public void sendIndexWithin(Exchange exchange, Path directory, String directoryUri, HttpHeaders passThrough,
            BiPredicate<Path, Path> within, LimitRate limitRate) {
        open(exchange, engine.open(directory, true, false), openFile -> {
            boolean isDirectory = openFile.isDirectory();
            openFile.release();
            if (isDirectory && !countsNoDirectory(exchange)) {
                sendIndexWithin(exchange, directory, directoryUri, 0, passThrough, within, limitRate, true);
            } else {
                accelMissing(exchange); // a file named as a directory, as sendFileWithin's; or no directory counted
            }
        }, () -> accelMissing(exchange));
    }

    private void sendIndexWithin(Exchange exchange, Path directory, String directoryUri, int i,
            HttpHeaders passThrough, BiPredicate<Path, Path> within, LimitRate limitRate, boolean mayRetry) {
        List<String> index = exchange.site().index();
        if (i >= index.size()) {
            exchange.sendError(HttpResponseStatus.FORBIDDEN); // no index file, and a directory is never sent
            return;
        }
        Path file = directory.resolve(index.get(i)).normalize();
        Runnable next = () -> sendIndexWithin(exchange, directory, directoryUri, i + 1, passThrough, within, limitRate,
                mayRetry);
        open(exchange, engine.open(file, true, bodyExpected(exchange)), openFile -> {
            if (openFile.isDirectory()) {
                openFile.release(); // passed over, as the static path's index passes one over
                next.run();
                return;
            }
            String uriPath = directoryUri + index.get(i);
            LocationSettings owner;
            try {
                owner = exchange.locationOf(uriPath);
            } catch (HttpStatusException gaveUp) { // a location's regex on the index's path (Router.location)
                openFile.release();
                exchange.fail(gaveUp);
                return;
            }
            if (owner != exchange.location()) {
                openFile.release();
                LOG.warn("{} {}: the index file {} of the directory a backend named routes to another location than"
                        + " the directory's: 403, not followed", exchange.request().method(),
                        LogText.escapeBytes(exchange.request().uri()), LogText.escapeControls(uriPath));
                exchange.sendError(HttpResponseStatus.FORBIDDEN);
                return;
            }
            sendIfWithin(exchange, openFile, file, within, passThrough, limitRate, mayRetry
                    ? () -> sendIndexWithin(exchange, directory, directoryUri, i, passThrough, within, limitRate, false)
                    : null);
        }, next);
    }

    /**
     * Sends {@code openFile} (owned here), which a backend named {@code file}, with its {@code passThrough} headers if
     * {@code within} accepts its real path, else 403; {@code retry} (or null) answers anew if it shrank. Where the
     * location has gzip.static and the client is sent gzip, the file's {@code .gz} beside it goes in its place if
     * {@code within} accepts that too, as nginx's gzip_static answers the internal redirect to the file's URI.
     */
    private void sendIfWithin(Exchange exchange, OpenFile openFile, Path file, BiPredicate<Path, Path> within,
            HttpHeaders passThrough, LimitRate limitRate, Runnable retry) {
        if (!isWithin(openFile, real -> within.test(file, real))) {
            openFile.release();
            exchange.sendError(HttpResponseStatus.FORBIDDEN);
            return;
        }
        // as nginx's X-Accel-Redirect copies them, before its expires replaces them: what gzip.static judges by
        exchange.keepAccelFields(passThrough);
        // Replaced by the exchange (the location's expires) anyway: dropped here, so that they do not keep the file out
        // of the content cache.
        HttpHeaders backendHeaders = expiresOf(exchange) == null ? passThrough : new DefaultHttpHeaders()
                .add(passThrough).remove(HttpHeaderNames.CACHE_CONTROL).remove(HttpHeaderNames.EXPIRES);
        String uriPath = file.getFileName().toString();
        if (!takesPrecompressed(exchange)) {
            serve(exchange, openFile, uriPath, backendHeaders, false, retry, limitRate);
            return;
        }
        Path compressed = file.resolveSibling(uriPath + ".gz");
        engine.open(compressed, true, bodyExpected(exchange)).whenComplete((gz, error) -> onLoop(exchange, () -> {
            if (exchange.isEnded()) {
                openFile.release();
                if (gz != null) {
                    gz.release();
                }
            } else if (error == null && !gz.isDirectory() && isWithin(gz, real -> within.test(compressed, real))) {
                openFile.release();
                serve(exchange, gz, uriPath, backendHeaders, true, retry, limitRate);
            } else {
                if (gz != null) {
                    gz.release();
                }
                serve(exchange, openFile, uriPath, backendHeaders, false, retry, limitRate); // none, or none to send
            }
        }));
    }

    private static boolean isWithin(OpenFile file, Predicate<Path> within) {
        try {
            return within.test(file.realPath());
        } catch (IOException e) {
            if (NO_REAL_PATH_LOGGED.compareAndSet(false, true)) { // the same for every file of this engine
                LOG.warn("X-Sendfile: the real path of {} cannot be read ({}); such files get 403 (logged once)",
                        file.path(), e.getMessage());
            }
            return false;
        }
    }

    /**
     * Answers 304, 412 or 416 when the request's validators or {@code Range} call for it and returns null;
     * otherwise returns the ranges to send, the whole file where {@code whole} (sub-filter changes its bytes: a Range
     * is not honoured, as nginx's). {@code scripts} are the headers a script's X-Accel-Redirect or X-Sendfile
     * carries over to the file's answer (its Content-Type aside), which go with a 304 and a 416 too, as nginx's (an
     * X-Sendfile's Vary and Content-Language too, which nginx's X-Accel-Redirect does not carry): a 304 must carry the
     * Cache-Control, Expires and Vary of the 200 it stands for (RFC 9110, 15.4.5), and the session cookie a download script sets must not be lost
     * when the client revalidates.
     */
    private static ByteRanges.Result rangesOrAnswer(Exchange exchange, String etag, long mtime, long size,
            boolean precompressed, String compressibleType, HttpHeaders scripts, boolean whole) {
        HttpHeaders request = exchange.request().headers();
        switch (Preconditions.evaluate(request, true, etag, mtime)) {
            case NOT_MODIFIED -> {
                FullHttpResponse response = emptyResponse(HttpResponseStatus.NOT_MODIFIED);
                validators(response.headers(), etag, mtime);
                response.headers().remove(HttpHeaderNames.CONTENT_LENGTH).add(scripts);
                if (precompressed) {
                    response.headers().set(HttpHeaderNames.VARY, "Accept-Encoding"); // as the 200 would have
                }
                if (compressibleType != null) {
                    // the 200's ETag (weak where compressed) and Vary, judged by the gzip filter as that 200 is,
                    // the location's headers included (a no-transform there leaves both alone)
                    exchange.offerCompression(size, compressibleType);
                    exchange.offerCompressionOfFile();
                }
                exchange.complete(exchange.writeAndFlush(response));
                return null;
            }
            case PRECONDITION_FAILED -> {
                if (precompressed && exchange.toNamedErrorPage(HttpResponseStatus.PRECONDITION_FAILED)) {
                    return null; // error_page 412 @app, as sendError's below
                }
                if (precompressed) { // judged by the .gz's validators: says so, as its 200 would
                    FullHttpResponse response = ErrorResponses.response(exchange,
                            HttpResponseStatus.PRECONDITION_FAILED);
                    response.headers().set(HttpHeaderNames.VARY, "Accept-Encoding");
                    exchange.complete(exchange.writeAndFlush(response));
                } else {
                    exchange.sendError(HttpResponseStatus.PRECONDITION_FAILED);
                }
                return null;
            }
            case PROCEED -> {
            }
        }
        // A .gz for its file (gzip.static) goes whole whatever Range asks: nginx's gzip_static handler, unlike its
        // static one, does not allow ranges, so its range filter leaves the answer a 200 (and says no Accept-Ranges); a
        // file sub-filter changes goes whole too
        ByteRanges.Result ranges = !whole && !precompressed
                && Preconditions.ifRangeAllows(request.get(HttpHeaderNames.IF_RANGE), etag, mtime)
                ? ByteRanges.parse(request.get(HttpHeaderNames.RANGE), size)
                : new ByteRanges.Full();
        if (ranges instanceof Unsatisfiable unsatisfiable) {
            // nginx's error_page 416 @app: the application answers, the file's Content-Range and ETag kept
            if (exchange.toNamedErrorPage(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE, new DefaultHttpHeaders()
                    .set(HttpHeaderNames.CONTENT_RANGE, unsatisfiable.contentRange()).set(HttpHeaderNames.ETAG, etag))) {
                return null;
            }
            // The site's page for 416 if it has one, as nginx's error_page covers its range filter's 416; else
            // edge's own, as nginx's special response sends its own HTML page there
            ErrorPage page = exchange.errorPage(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE);
            FullHttpResponse response = ErrorResponses.response(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                    exchange.isHead(), page, exchange.serverTokens());
            response.headers().set(HttpHeaderNames.CONTENT_RANGE, unsatisfiable.contentRange()).add(scripts);
            // nginx's headers filter runs before its range filter, on the 200 the file began as: expires and the
            // location's headers go with the 416 (nginx 1.22.1, static file, Range past its end); its header filter
            // then drops Last-Modified from any status but 200, 206 and 304. The ETag, the file's: nginx's own 416
            // page has none (its special response clears it: measured, 1.22.1), one through error_page the file's
            // and then the page's, a second ETag field HTTP does not allow (one entity-tag), of which edge sends the
            // first, as it sends no page's ETag anywhere. A page whose file is missing is nginx's 404, its special
            // response: the Content-Range kept, no ETag (nginx 1.22.1).
            if (ErrorResponses.sendsSitePage(response, HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE, page)) {
                response.headers().add(HttpHeaderNames.ETAG, etag);
            }
            if (precompressed) {
                response.headers().set(HttpHeaderNames.VARY, "Accept-Encoding"); // its */length is the .gz's
            }
            exchange.withLocationHeaders();
            exchange.complete(exchange.writeAndFlush(response));
            return null;
        }
        return ranges;
    }

    /**
     * Answers from the content cache; owns {@code hit}. Returns false (hit released) for a multipart range
     * request, which the file path answers.
     */
    private boolean serveCached(Exchange exchange, CachedContent hit, Path path, String uriPath) {
        ContentMetadata meta = hit.metadata();
        String etag = meta.etag();
        long mtime = meta.lastModified().toMillis();
        long size = meta.size();
        String contentType = carriedType(exchange, mimeTypes.forPath(uriPath));
        String compressibleType = compressibleType(exchange, contentType, size);
        ByteRanges.Result ranges = rangesOrAnswer(exchange, etag, mtime, size, false, compressibleType,
                EmptyHttpHeaders.INSTANCE, SubFilter.filters(exchange, contentType)
                || ImageFilter.reads(exchange.location()));
        if (ranges == null || (ranges instanceof Partial multi && multi.isMultipart())) {
            hit.release();
            return ranges == null;
        }
        HttpResponseStatus status = HttpResponseStatus.OK;
        ByteBuf body = hit.content();
        HttpHeaders extra = EmptyHttpHeaders.INSTANCE;
        if (ranges instanceof Partial partial) {
            Range range = partial.ranges().get(0);
            status = HttpResponseStatus.PARTIAL_CONTENT;
            body = body.slice(body.readerIndex() + (int) range.first(), (int) range.length());
            extra = new DefaultHttpHeaders().set(HttpHeaderNames.CONTENT_RANGE, range.contentRange(size));
        }
        long contentLength = body.readableBytes();
        if (exchange.isHead() && !ImageFilter.reads(exchange.location())) { // an image filter reads a HEAD's too
            hit.release();
            body = Unpooled.EMPTY_BUFFER;
        }
        // The duplicate (or its slice, which shares its reference) passes to the response.
        FullHttpResponse response = fullResponse(status, body);
        rangedHead(head(response.headers(), contentType, contentLength, etag, mtime).add(extra), status);
        if (compressibleType != null && status == HttpResponseStatus.OK) {
            // compressed once per version of the file, kept beside its bytes
            exchange.offerCompression(new Exchange.CompressedForm() {
                @Override
                public ByteBuf get(int level) {
                    return contentCache.compressed(hit, level);
                }

                @Override
                public void made(int level, ByteBuf gzipped) {
                    contentCache.keepCompressed(path, hit, level, gzipped);
                }
            });
            exchange.offerCompressionOfFile();
        } else {
            offerCompression(exchange, response, compressibleType, size);
        }
        exchange.complete(exchange.writeAndFlush(response));
        return true;
    }

    /**
     * Puts a copy of {@code content} into the content cache, outside the pooled allocator (cached bytes live long
     * and would pin its chunks). A cache larger than the JVM's direct memory allows is not a reason to fail the
     * request: the file is served uncached, and the operator told once.
     */
    private void keep(Path path, ByteBuf content, ContentMetadata metadata) {
        int size = content.readableBytes();
        ByteBuf copy;
        try {
            copy = Unpooled.directBuffer(size);
        } catch (OutOfMemoryError e) {
            if (!directMemoryWarned) {
                directMemoryWarned = true;
                LOG.warn("content cache: no direct memory for a copy of {} ({}): cache.content.max-bytes is beyond "
                        + "the JVM's direct memory; raise -XX:MaxDirectMemorySize (EDGE_JAVA_OPTS) or lower it",
                        path, e.toString());
            }
            return;
        }
        contentCache.put(path, copy.writeBytes(content, content.readerIndex(), size), metadata);
    }

    /**
     * The content cache's revalidation (on its own thread), with the stat the open-file cache takes, so that file key
     * and ctime compare with those of the {@link OpenFile} the bytes were read from. A file it finds changed or gone is
     * dropped from the open-file cache too: that descriptor, trusted for the open-file cache's own period, is most often
     * the one the old bytes were read from ({@code mv new old}: the old inode), and the next request would read them
     * again through it. Bytes read from a file reached with no link on the way were so because the site's rules
     * asked for none (or one within its root): a link on the way now, even to the same inode (its directory moved out
     * of the root, a link left in its place), drops them, and the next request's open judges the link. Their key is
     * the root's real path and the path beneath it, so any link on the way to it is one.
     */
    private final class Revalidation implements ContentCache.Stat {
        @Override
        public FileVersion stat(Path path, boolean confined) throws IOException {
            FileVersion version = StaticResponder.stat(path);
            if (confined && reachedThroughALink(path)) {
                throw new FileSystemException(path.toString(), null, "reached through a symbolic link now");
            }
            return version;
        }

        @Override
        public void changed(Path path) {
            engine.invalidate(path);
        }
    }

    /**
     * Whether a link is on the way to {@code path}: one open that allows none (a few microseconds), else, without
     * openat2 or the natives, whether its real path differs (a {@code readlink} per component, several times that).
     */
    private static boolean reachedThroughALink(Path path) throws IOException {
        int result = Syscalls.isAvailable() ? Syscalls.reachedWithNoLink(path.toString()) : -Syscalls.ENOSYS;
        if (result == 0 || result == -Syscalls.ELOOP) {
            return result == -Syscalls.ELOOP;
        }
        return !path.toRealPath().equals(path);
    }

    private static FileVersion stat(Path path) throws IOException {
        BasicFileAttributes stat = OpenFile.stat(path);
        if (!stat.isRegularFile()) {
            throw new NoSuchFileException(path.toString(), null, "not a regular file");
        }
        return new FileVersion(stat.fileKey(), stat.size(), stat.lastModifiedTime().toMillis(),
                changeTime(OpenFile.changeTimeOf(stat)));
    }

    private static long changeTime(long openFileChangeTime) {
        return openFileChangeTime == OpenFile.CHANGE_TIME_UNKNOWN ? FileVersion.CHANGE_TIME_UNKNOWN : openFileChangeTime;
    }

    /** The location's limit-rate, or null. */
    private static LimitRate limitRateOf(Exchange exchange) {
        LocationSettings location = exchange.location();
        return location == null ? null : location.limitRate();
    }

    /**
     * Answers with {@code file} (the exchange adds the location's {@code expires} headers). {@code again} answers the
     * exchange anew from a fresh open, or is null: run instead of failing when the file turns out shorter than it was
     * opened before any of the answer went out. {@code limitRate} paces a body sent in pieces, or is null. {@code
     * precompressed}: {@code file} is the {@code .gz} of the file {@code uriPath} names (gzip.static), sent as that
     * file compressed. Its type is that of the fields a backend's redirect carried ({@link Exchange#accelFields}) where
     * they have one that is not empty, as nginx keeps an upstream's, else its name's; gzip judges it by that type.
     */
    private void serve(Exchange exchange, OpenFile file, String uriPath, HttpHeaders backendHeaders,
            boolean precompressed, Runnable again, LimitRate limitRate) {
        String etag = file.etag();
        long mtime = file.lastModifiedMillis();
        long size = file.size();
        String fileType = mimeTypes.forPath(uriPath);
        String contentType = carriedType(exchange, fileType);
        // a .gz sent for its file (gzip.static), or a body its backend says is encoded, is not compressed again
        String compressibleType = precompressed || backendHeaders.contains(HttpHeaderNames.CONTENT_ENCODING) ? null
                : compressibleType(exchange, contentType, size);
        HttpHeaders backends = backendHeaders.contains(HttpHeaderNames.CONTENT_TYPE)
                ? new DefaultHttpHeaders().add(backendHeaders).remove(HttpHeaderNames.CONTENT_TYPE) : backendHeaders;
        HttpHeaders passThrough = !precompressed ? backends
                : backends.isEmpty() ? GZIP_STATIC : new DefaultHttpHeaders().add(GZIP_STATIC).add(backends);
        // its bytes changed on the way out (sub-filter): read, not sent by sendfile, and whole, as nginx's range
        // filter finds no length to take a range of
        boolean filtered = !precompressed && !backendHeaders.contains(HttpHeaderNames.CONTENT_ENCODING)
                && SubFilter.filters(exchange, contentType);
        // an image filter's (nginx's image_filter) reads it whole, a HEAD's too: the head says the image made of it
        boolean imaged = ImageFilter.reads(exchange.location());
        filtered |= imaged;
        ByteRanges.Result ranges = rangesOrAnswer(exchange, etag, mtime, size, precompressed, compressibleType,
                backends, filtered);
        if (ranges == null) {
            file.release();
            return;
        }
        HttpResponseStatus status;
        List<Piece> body;
        long contentLength;
        String responseType;
        HttpHeaders extra = EmptyHttpHeaders.INSTANCE;
        if (ranges instanceof Partial partial && partial.isMultipart()) {
            MultipartByteranges multipart = MultipartByteranges.of(partial.ranges(), size, contentType,
                    MultipartByteranges.newBoundary());
            status = HttpResponseStatus.PARTIAL_CONTENT;
            body = multipart.pieces();
            contentLength = multipart.contentLength();
            responseType = multipart.contentType();
        } else if (ranges instanceof Partial partial) {
            Range range = partial.ranges().get(0);
            status = HttpResponseStatus.PARTIAL_CONTENT;
            body = List.of(new Slice(range.first(), range.length()));
            contentLength = range.length();
            responseType = contentType;
            extra = new DefaultHttpHeaders()
                    .set(HttpHeaderNames.CONTENT_RANGE, range.contentRange(size));
        } else {
            status = HttpResponseStatus.OK;
            body = size == 0 ? List.of() : List.of(new Slice(0, size));
            contentLength = size;
            responseType = contentType;
        }

        if ((exchange.isHead() && !imaged) || body.isEmpty()) {
            file.release();
            FullHttpResponse response = fullResponse(status, Unpooled.EMPTY_BUFFER);
            rangedHead(fileHead(response.headers(), responseType, contentLength, etag, mtime, precompressed), status)
                    .add(extra).add(passThrough);
            offerCompression(exchange, response, compressibleType, size);
            exchange.complete(exchange.writeAndFlush(response));
            return;
        }
        if (status == HttpResponseStatus.OK && size <= inlineLimit) {
            readWhole(exchange, file, (int) size, (content, error) -> {
                Path path = file.path();
                boolean confined = file.confined();
                // As the open stat'ed it, before the read: bytes of a later version are kept as of this one, and
                // dropped at the first revalidation.
                FileVersion version = new FileVersion(file.fileKey(), size, mtime, changeTime(file.changeTimeNanos()));
                file.release();
                if (error != null) {
                    failed(exchange, path, unwrap(error), again);
                    return;
                }
                if (exchange.isEnded()) {
                    content.release();
                    return;
                }
                if (contentCache != null && passThrough.isEmpty() && size <= contentCache.maxFileSize()
                        && contentCache.settled(version) && contentCache.admit(path)) {
                    // as the file is served by its own URI: with the type its name gives, not a backend's
                    keep(path, content, new ContentMetadata(version, etag, fileType, confined));
                }
                // The buffer's ownership passes to the response, and with the write to the channel.
                FullHttpResponse response = fullResponse(status, content);
                fileHead(response.headers(), responseType, contentLength, etag, mtime, precompressed).add(passThrough);
                offerCompression(exchange, response, compressibleType, size);
                exchange.complete(exchange.writeAndFlush(response));
            });
            return;
        }
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status, OWN_HEADERS);
        rangedHead(fileHead(response.headers(), responseType, contentLength, etag, mtime, precompressed), status)
                .add(extra).add(passThrough);
        offerCompression(exchange, response, compressibleType, size);
        // read into buffers by the engine, not sent by sendfile: compressed on its way out (zlib), encrypted (no
        // sendfile through a cipher), or in an HTTP/2 stream's DATA frames, h2c's too (a region there would be read by
        // FileRegionReader's threads, past the engine)
        boolean read = filtered || exchange.endsTls() || exchange.sentVersion().majorVersion() == 2
                || compressibleType != null && status == HttpResponseStatus.OK
                && GzipFilter.takesGzip(exchange.request(), exchange.location().gzipClients());
        new BodySender(exchange, response, file, body, again, read, limitRate).run();
    }

    /**
     * The Content-Type of the fields a backend's redirect carried to this file ({@link Exchange#accelFields}) where
     * they have one that is not empty, as nginx's file keeps the one its upstream set; else {@code fileType}.
     */
    private static String carriedType(Exchange exchange, String fileType) {
        String carried = exchange.accelFields().get(HttpHeaderNames.CONTENT_TYPE);
        return carried == null || carried.isEmpty() ? fileType : carried;
    }

    /**
     * {@code contentType} if the location's gzip may compress a file of it and {@code size} for a client that takes it
     * (nginx's gzip filter on a static file: gzip_types, gzip_min_length), else null. Its 200 and 304 are then judged
     * by the gzip filter (a location's no-transform leaves them alone); a 206 too, for its Vary only.
     */
    private static String compressibleType(Exchange exchange, String contentType, long size) {
        LocationSettings location = exchange.location();
        LocationSettings.Gzip gzip = location == null ? null : location.gzip();
        return gzip != null && size >= gzip.minLength() && gzip.compresses(GzipFilter.mediaType(contentType))
                ? contentType : null;
    }

    /**
     * Offers a file's 200 to the location's gzip, which judges it as the head goes out (the client, the headers the
     * location adds); a 206 of it is judged as its 200 of {@code size} bytes of {@code compressibleType} would be,
     * and at most says that the 200 varies: ranges are of the file's own bytes. Nothing for a file not compressible
     * ({@code compressibleType} null).
     */
    private static void offerCompression(Exchange exchange, HttpResponse response, String compressibleType,
            long size) {
        if (compressibleType == null) {
            return;
        }
        if (response.status().code() == HttpResponseStatus.OK.code()) {
            exchange.offerCompression();
        } else {
            exchange.offerCompression(size, compressibleType);
        }
        exchange.offerCompressionOfFile();
    }

    /**
     * Whether {@code failure} says the file ended before the size it had when it was opened: truncated or rewritten
     * shorter in place, under a descriptor the open-file cache trusts until it is stat'ed again. The engines' reads
     * fail with {@link EOFException}; Netty's {@code sendfile} of a region past the end with its own message.
     */
    static boolean shrank(Throwable failure) {
        return failure instanceof EOFException || failure instanceof IOException e && e.getMessage() != null
                && e.getMessage().startsWith(SENDFILE_PAST_THE_END);
    }

    /**
     * A read of {@code path} failed before anything of the answer went out. A file that {@link #shrank} is dropped
     * from the open-file cache (every request would otherwise meet the same short descriptor until it is stat'ed
     * again) and answered {@code again}, from a fresh open, if that is allowed; else the failure is the answer.
     */
    private void failed(Exchange exchange, Path path, Throwable failure, Runnable again) {
        if (shrank(failure)) {
            engine.invalidate(path);
            if (again != null && !exchange.isEnded()) {
                LOG.debug("{} shrank while it was read; opened again: {}", path, failure.toString());
                again.run();
                return;
            }
        }
        exchange.fail(failure);
    }

    /**
     * Reads the whole of a small {@code file} and calls {@code then} on the exchange's event loop with a buffer
     * it owns, or the failure. Requests on one event loop for a file (same engine, path, entity tag, inode and ctime)
     * whose read is in flight share that read: a burst of misses for one cold thumbnail costs one disk read, not one
     * per client. Each sharer gets its own reference (a retained duplicate) and still holds and releases its own
     * {@code file}.
     */
    private void readWhole(Exchange exchange, OpenFile file, int size, BiConsumer<ByteBuf, Throwable> then) {
        EventLoop loop = exchange.clientChannel().eventLoop();
        if (!loop.inEventLoop()) {
            startRead(exchange, file, size)
                    .whenComplete((content, error) -> onLoop(exchange, () -> then.accept(content, error)));
            return;
        }
        Map<SharedRead, List<BiConsumer<ByteBuf, Throwable>>> inFlight = READS_IN_FLIGHT.get();
        // the mtime in milliseconds too: the entity tag has whole seconds, and without natives no ctime tells apart two
        // versions of one size written within one
        SharedRead key = new SharedRead(engine, file.path(), file.etag(), file.lastModifiedMillis(), file.fileKey(),
                file.changeTimeNanos());
        List<BiConsumer<ByteBuf, Throwable>> waiting = inFlight.get(key);
        if (waiting != null) {
            waiting.add(then);
            return;
        }
        List<BiConsumer<ByteBuf, Throwable>> sharers = new ArrayList<>(1);
        sharers.add(then);
        inFlight.put(key, sharers);
        startRead(exchange, file, size).whenComplete((content, error) -> onLoop(exchange, () -> {
            inFlight.remove(key, sharers);
            int last = sharers.size() - 1;
            for (int i = 0; i <= last; i++) {
                ByteBuf mine = content == null ? null : i == last ? content : content.retainedDuplicate();
                try {
                    sharers.get(i).accept(mine, error);
                } catch (RuntimeException e) {
                    LOG.warn("answering a shared read of {} failed", key.path(), e);
                }
            }
        }));
    }

    /**
     * {@code engine.read} of the whole {@code file}; what it throws at once (no direct memory left for the buffer of a
     * page-cache hit read on the loop) is its failed stage, answered as any failed read: thrown here, it went nowhere
     * (the stage that ran this swallows it), and the exchange hung with its file, its shared read never to complete.
     */
    private CompletionStage<ByteBuf> startRead(Exchange exchange, OpenFile file, int size) {
        try {
            return engine.read(file, 0, size, exchange.clientChannel().alloc());
        } catch (RuntimeException | Error e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * A small file's read shared by the requests that want it while it is in flight: of one version of the file, the
     * inode and ctime its {@link OpenFile} was opened with. Path and entity tag alone (mtime and size) also match a
     * file renamed over it or rewritten in place with its mtime put back, whose opener would get the old bytes, and
     * the content cache keep them under the new version, which its revalidation then trusts. And through one engine:
     * the map is every responder's, and a read of the engine a reload replaced fails when that engine closes (its
     * waiting reads), which must not fail the new configuration's requests.
     */
    private record SharedRead(FileEngine engine, Path path, String etag, long lastModifiedMillis, Object fileKey,
            long changeTimeNanos) {
    }

    /**
     * A response whose headers are all set here (constant names, values formatted here or copied from headers
     * validated where they were parsed), so they skip Netty's per-header validation; no trailers.
     */
    private static FullHttpResponse fullResponse(HttpResponseStatus status, ByteBuf body) {
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body, OWN_HEADERS.newHeaders(),
                EmptyHttpHeaders.INSTANCE);
    }

    /**
     * {@link #head}, but a {@code precompressed} answer (a .gz for its file, gzip.static) says no Accept-Ranges: it is
     * never cut ({@link #rangesOrAnswer}), as nginx's gzip_static answer has none.
     */
    private static HttpHeaders fileHead(HttpHeaders headers, String contentType, long contentLength, String etag,
            long mtime, boolean precompressed) {
        head(headers, contentType, contentLength, etag, mtime);
        return precompressed ? headers.remove(HttpHeaderNames.ACCEPT_RANGES) : headers;
    }

    /** {@code headers}, of a 206 without their Accept-Ranges: nginx 1.22's range filter clears it from its 206s. */
    private static HttpHeaders rangedHead(HttpHeaders headers, HttpResponseStatus status) {
        return status == HttpResponseStatus.PARTIAL_CONTENT ? headers.remove(HttpHeaderNames.ACCEPT_RANGES) : headers;
    }

    /** Adds the entity headers to a new response's {@code headers} (none of them there yet: add, not set). */
    private static HttpHeaders head(HttpHeaders headers, String contentType, long contentLength, String etag, long mtime) {
        headers.add(HttpHeaderNames.CONTENT_TYPE, contentType)
                .add(HttpHeaderNames.CONTENT_LENGTH, contentLength)
                .add(HttpHeaderNames.ACCEPT_RANGES, HttpHeaderValues.BYTES);
        return validators(headers, etag, mtime);
    }

    /**
     * Adds {@code ETag} and {@code Last-Modified} to a new response's {@code headers}: the file's mtime, but never
     * later than the Date of the answer (RFC 9110 8.8.2.1: a file touched into the future is sent as modified now; a
     * client's If-Modified-Since of that date then gets the file, not a 304, until the mtime has passed, its
     * If-Unmodified-Since is ignored meanwhile, and the ETag still validates).
     */
    private static HttpHeaders validators(HttpHeaders headers, String etag, long mtime) {
        return headers.add(HttpHeaderNames.ETAG, etag)
                .add(HttpHeaderNames.LAST_MODIFIED, HttpDate.format(Math.min(mtime, System.currentTimeMillis())));
    }

    /** The location's {@code expires}, or null. */
    private static Duration expiresOf(Exchange exchange) {
        LocationSettings location = exchange.location();
        return location == null ? null : location.expires();
    }

    private static FullHttpResponse emptyResponse(HttpResponseStatus status) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER);
        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
        return response;
    }

    /**
     * Writes the body pieces after the head, up to {@value #IN_FLIGHT} messages in flight (the next one is queued
     * while the socket drains the last, so it never runs dry between two writes), then the last content.
     * States: SENDING (writes pending or about to be made) -> DONE (last content written, exchange
     * completed) or ABORTED (a write failed or the client went away). The file reference is released
     * exactly once on leaving SENDING. Runs on the exchange's event loop only.
     */
    private final class BodySender implements Runnable {
        /** Messages written and not yet completed at most: memory per download is this many chunks. */
        private static final int IN_FLIGHT = 2;
        /**
         * The most of a file read at once for the gzip filter or a TLS connection: sendfile-chunk may be up to 2 GiB,
         * and each buffer read is held in memory (twice, with its compressed or encrypted form) while it goes out.
         */
        private static final int READ_CHUNK = 256 * 1024;
        /**
         * How long a piece of a body whose head went out waits for direct memory, tried again after 5 ms, 10 ms, ... 200
         * ms apart, before the response is cut: memory comes back as other responses' buffers are written, and a
         * refusal could only cut this one short (the first piece is refused at once: 503). Downloads were cut midway
         * under a low -XX:MaxDirectMemorySize and many slow clients.
         */
        private static final long MEMORY_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);
        private static final long MEMORY_RETRY_FIRST_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
        private static final long MEMORY_RETRY_MAX_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

        private final Exchange exchange;
        private final OpenFile file;
        private final List<Piece> pieces;
        private final ArrayDeque<ChannelFuture> pending = new ArrayDeque<>(IN_FLIGHT);
        /**
         * A multipart body's text before its first file bytes (the first boundary and part head), held with the head:
         * a read that fails before any file byte is read is then answered with its status, not a 206 cut short.
         */
        private final List<ByteBuf> heldText = new ArrayList<>(1);
        /** Answers the exchange anew from a fresh open (see {@link #serve}), or null. */
        private final Runnable again;
        /**
         * The response head until it goes out with the first body message: a read that fails before is answered
         * with its error status (the head written unflushed and then the connection closed left the client an empty
         * reply, and the access log a 200).
         */
        private HttpResponse head;
        private int piece;
        private long sliceDone;
        private boolean finished;
        /**
         * The body is more than one chunk of the file: it goes out under TCP_CORK (nginx's tcp_nopush), the kernel
         * sending full segments only, until the last write. Measured on a 700 MB download from the page cache, one
         * client: 18-24 % faster and ~10 % less CPU per byte than each chunk's {@code sendfile} pushing its tail at
         * once (BENCHMARKS.md). The head goes out in the first segment with the body.
         */
        private boolean corked;
        /**
         * The file's bytes are read into buffers by the engine (for the gzip filter, or the cipher of a connection that
         * ends TLS) rather than sent as regions.
         */
        private final boolean read;
        /** The most of the file one message carries: a sendfile chunk, or {@link #READ_CHUNK} at most when read. */
        private final long chunk;
        /** The engine's stage of the piece being loaded, until {@link #loaded} (or it came at once); else null. */
        private CompletableFuture<?> loading;
        /**
         * The pace of the location's limit-rate (or a backend's), counted from the body's start (nginx counts from the
         * request's, which is the same but for the file's open); null: the body goes as fast as the client takes it.
         */
        private final BodyPace pace;
        /** File bytes handed to the channel so far, for {@link #pace}. */
        private long sent;
        /** Where the piece being loaded started ({@link #piece}, {@link #sliceDone}, {@link #sent}), to load it again. */
        private int loadPiece;
        private long loadSliceDone;
        private long loadSent;
        /** Since when a piece waits for direct memory ({@link #waitsForMemory}), on the loop's clock; -1 while none. */
        private long memoryWaitSince = -1;
        private long memoryRetryNanos;
        /** The next try of a piece that waits for direct memory, scheduled: {@link #run} goes on then; else null. */
        private ScheduledFuture<?> memoryRetry;

        BodySender(Exchange exchange, HttpResponse head, OpenFile file, List<Piece> pieces, Runnable again,
                boolean read, LimitRate limitRate) {
            this.read = read;
            this.pace = limitRate == null ? null : new BodyPace(limitRate, exchange.clientChannel().eventLoop());
            this.chunk = read ? Math.min(engine.chunkSize(), READ_CHUNK) : engine.chunkSize();
            this.exchange = exchange;
            this.again = again;
            this.head = head;
            this.file = file;
            this.pieces = pieces;
            exchange.onClientGone(this::abort);
        }

        /** Writes {@code message} (after the head, the first time) and flushes. */
        private ChannelFuture send(Object message) {
            memoryWaitSince = -1; // a piece loaded: a later wait for memory has its whole time again
            if (head != null) {
                long fileBytes = 0;
                for (Piece piece : pieces) {
                    fileBytes += piece instanceof Slice ? piece.length() : 0;
                }
                // not when paced: a corked tail would wait for the next piece, a quarter second later
                corked = fileBytes > chunk && pace == null && cork(true);
                exchange.write(head);
                head = null;
                for (ByteBuf text : heldText) {
                    exchange.write(new DefaultHttpContent(text)); // body content, as an HTTP/2 stream's codec takes it
                }
                heldText.clear();
            }
            return exchange.writeAndFlush(message);
        }

        @Override
        public void run() {
            while (!finished) {
                if (exchange.isEnded()) {
                    // ended without its client leaving (a body over the limit, a timeout): nothing more goes out
                    abort();
                    return;
                }
                // Writes complete in order: the oldest one tells whether there is room for the next.
                while (!pending.isEmpty() && pending.peekFirst().isDone()) {
                    ChannelFuture done = pending.pollFirst();
                    if (!done.isSuccess()) {
                        abort();
                        fail(done.cause());
                        return;
                    }
                }
                if (pending.size() >= IN_FLIGHT) {
                    pending.peekFirst().addListener(f -> run());
                    return;
                }
                // a body the image filter refused (over its buffer: 415 at once) is read no further, as nginx's
                if (piece == pieces.size() || exchange.bodyDropped()) {
                    ChannelFuture last = send(LastHttpContent.EMPTY_LAST_CONTENT);
                    abort();
                    exchange.complete(last);
                    return;
                }
                if (head != null && pieces.get(piece) instanceof Text text) {
                    heldText.add(text.buffer());
                    piece++;
                    continue;
                }
                if (pace != null && head == null && pace.holds(paceCount(), this)) {
                    return; // run() again once the rate allows the next piece
                }
                CompletableFuture<Object> next;
                try {
                    next = nextMessage();
                } catch (RuntimeException | Error e) { // the file shrank below the range: the region is refused; or
                    // no direct memory left for a page-cache hit read on the loop
                    if (waitsForMemory(e, false)) {
                        return;
                    }
                    abort();
                    fail(e);
                    return;
                }
                if (!next.isDone() || next.isCompletedExceptionally()) {
                    // loaded() goes on once the engine has read the piece, or answers the failure it met at once
                    next.whenComplete((message, error) -> onLoop(exchange, () -> loaded(message, error)));
                    return;
                }
                loading = null;
                queued(send(next.join()));
            }
        }

        /**
         * Keeps {@code write} among those in flight. One that fails while the sender waits for something else (the next
         * piece being read, the pace) fails the exchange at once: the close a failed write brings about would otherwise
         * end it first, taken for a client that left, and a file truncated under a region already queued would be cut
         * unsaid, its descriptor kept with the old size.
         */
        private void queued(ChannelFuture write) {
            pending.addLast(write);
            write.addListener(done -> {
                if (!done.isSuccess() && !finished) {
                    abort();
                    fail(done.cause());
                }
            });
        }

        /** What {@link #pace} counts: what went out, a compressed body's bytes, not the file's, as nginx counts. */
        private long paceCount() {
            long written = read ? exchange.bodyBytesWritten() : -1;
            return written >= 0 ? written : sent;
        }

        /** A piece the engine had to read first (linux-aio-sendfile: into its slab). */
        private void loaded(Object message, Throwable error) {
            loading = null;
            if (finished || exchange.isEnded()) {
                // the exchange ended during the read (its client left; or it failed, a body over the limit or a
                // timeout, answered with an error while the head was still held here)
                ReferenceCountUtil.release(message);
                abort();
                return;
            }
            if (error != null) {
                if (waitsForMemory(unwrap(error), true)) {
                    return;
                }
                abort();
                fail(unwrap(error));
                return;
            }
            queued(send(message));
            run();
        }

        /**
         * Whether {@code failure}, met loading a piece once the head went out, is the direct memory limit's, the piece
         * then loaded again shortly ({@link #MEMORY_WAIT_NANOS}); {@code started}: the piece's place was taken, and is
         * given back.
         */
        private boolean waitsForMemory(Throwable failure, boolean started) {
            if (head != null || !(failure instanceof DirectMemoryExhaustedException
                    || failure instanceof OutOfMemoryError oom && String.valueOf(oom.getMessage()).contains("direct"))) {
                // (the limit met by an allocation itself, Netty's or the JDK's, racing another past the check for room)
                return false;
            }
            EventLoop loop = exchange.clientChannel().eventLoop();
            long now = loop.ticker().nanoTime();
            if (memoryWaitSince < 0) {
                memoryWaitSince = now;
                memoryRetryNanos = MEMORY_RETRY_FIRST_NANOS;
            } else if (now - memoryWaitSince >= MEMORY_WAIT_NANOS) {
                return false;
            }
            if (started) {
                piece = loadPiece;
                sliceDone = loadSliceDone;
                sent = loadSent;
            }
            long delay = memoryRetryNanos;
            memoryRetryNanos = Math.min(MEMORY_RETRY_MAX_NANOS, 2 * delay);
            memoryRetry = loop.schedule(() -> {
                memoryRetry = null;
                run();
            }, delay, TimeUnit.NANOSECONDS);
            return true;
        }

        private CompletableFuture<Object> nextMessage() {
            Piece next = pieces.get(piece);
            if (next instanceof Text text) {
                piece++;
                // a new buffer, which the write takes over; as content, which an HTTP/2 stream's codec makes a DATA
                // frame of (a bare buffer reached its channel, which refused it: the stream was reset)
                return CompletableFuture.completedFuture(new DefaultHttpContent(text.buffer()));
            }
            Slice slice = (Slice) next;
            loadPiece = piece;
            loadSliceDone = sliceDone;
            loadSent = sent;
            // before limit-rate's "after", in full chunks up to it; past it, paced pieces
            long size = pace == null ? chunk : pace.piece(sent, chunk);
            long length = Math.min(size, slice.length() - sliceDone);
            // Once the head is out, a full read queue refusing a piece could only cut the response short: it waits.
            WhenFull whenFull = head == null ? WhenFull.WAIT : WhenFull.REFUSE;
            CompletableFuture<Object> region;
            if (read) {
                CompletableFuture<ByteBuf> bytes = engine.read(file, slice.offset() + sliceDone, (int) length,
                        exchange.clientChannel().alloc(), whenFull).toCompletableFuture();
                loading = bytes;
                region = bytes.thenApply(DefaultHttpContent::new);
            } else {
                region = engine.loadRegion(file, slice.offset() + sliceDone, length, whenFull).toCompletableFuture();
                loading = region;
            }
            sliceDone += length;
            sent += length;
            if (sliceDone == slice.length()) {
                piece++;
                sliceDone = 0;
            }
            return region;
        }

        /**
         * Answers a failure once SENDING was left: anew from a fresh open if the file shrank before the head went out
         * ({@link #failed}); a file that shrank after it is only dropped from the open-file cache, and the connection
         * closes as for any failure in the middle of a body (nginx does the same).
         */
        private void fail(Throwable failure) {
            if (head != null) {
                failed(exchange, file.path(), failure, again);
            } else if (shrank(failure)) {
                engine.invalidate(file.path());
                // one line in the log, as nginx's "was truncated": where it ended is all there is to say
                exchange.fail(new EOFException(file.path() + " was truncated while it was sent: " + failure.getMessage()));
            } else {
                exchange.fail(failure);
            }
        }

        /** Sets TCP_CORK on the client's connection (an epoll one; false for others, or one already closed). */
        private boolean cork(boolean on) {
            try {
                return exchange.clientChannel().config().setOption(EpollChannelOption.TCP_CORK, on);
            } catch (ChannelException e) {
                return false; // closed meanwhile: nothing is left to send
            }
        }

        /** Leaves SENDING: releases the file once (and uncorks), and cancels a piece still being loaded. */
        private void abort() {
            if (pace != null) {
                pace.cancel(); // a client that left is let go now, not when its next piece was due
            }
            if (memoryRetry != null) {
                memoryRetry.cancel(false);
                memoryRetry = null;
            }
            heldText.forEach(ByteBuf::release); // never written: the head they wait with did not go out
            heldText.clear();
            boolean first = !finished;
            finished = true; // before the cancel below, whose loaded() must see a sender that is done, not a failure
            if (loading != null) {
                // nobody will send it: a read still waiting for a pool thread is skipped, not done for nobody (those of
                // clients that left would pile up behind a full queue, which lets a response's later pieces wait)
                CompletableFuture<?> cancelled = loading;
                loading = null;
                cancelled.cancel(false);
            }
            if (first) {
                if (corked) {
                    cork(false); // after the last write: what it leaves in the kernel goes out now
                }
                file.release();
            }
        }
    }
}
