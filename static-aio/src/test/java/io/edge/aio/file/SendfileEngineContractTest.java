package io.edge.aio.file;

import com.github.benmanes.caffeine.cache.Ticker;

/** The blocking baseline passes the same contract as the asynchronous engines. */
class SendfileEngineContractTest extends FileEngineContract {

    @Override
    FileEngine newEngine(Ticker ticker) {
        return new SendfileEngine(new OpenFileCache(16, REVALIDATE, 32, ticker), 1 << 20, 16 * 1024);
    }

    @Override
    OpenFileCache cacheOf(FileEngine engine) {
        return ((SendfileEngine) engine).cache();
    }

    @Override
    String configName() {
        return "sendfile";
    }
}
