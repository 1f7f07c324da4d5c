package io.edge.core.cache;

import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.cache.ResponseCacheSettings;
import io.edge.cache.http.ResponseCache;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.Timer;
import java.lang.reflect.Constructor;
import java.util.function.LongSupplier;

/** Builds the server's response cache, on the system clock or (tests) on a given ticker. */
public final class ResponseCaches {

    private ResponseCaches() {
    }

    /**
     * A response cache whose ages and freshness run on {@code ticker}. The cache module exposes its ticker
     * only to its own package (its tests); until it has a public constructor for it, a test clock is passed
     * reflectively. The system ticker takes the public constructor.
     */
    public static ResponseCache create(ResponseCacheSettings settings, Timer timer, Ticker ticker) {
        if (ticker == Ticker.systemTicker()) {
            return new ResponseCache(settings, timer);
        }
        try {
            Constructor<ResponseCache> constructor = ResponseCache.class.getDeclaredConstructor(
                    ResponseCacheSettings.class, Timer.class, Ticker.class, LongSupplier.class, ByteBufAllocator.class);
            constructor.setAccessible(true);
            LongSupplier wallMillis = System::currentTimeMillis;
            return constructor.newInstance(settings, timer, ticker, wallMillis, ByteBufAllocator.DEFAULT);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the response cache takes no test ticker", e);
        }
    }
}
