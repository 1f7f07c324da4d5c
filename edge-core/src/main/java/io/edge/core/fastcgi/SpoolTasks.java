package io.edge.core.fastcgi;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * The file tasks of one spool ({@link SpooledBody}, {@link ResponseSpool}): run one after another on the spool
 * threads, whatever became of the ones before (a stage of the chain never fails), each answered on the client's event
 * loop. A spool's file is touched only by its tasks, so by one spool thread at a time and in order.
 *
 * <p>Once the loop is gone (shutting down), nobody is left to answer: a task's buffer is released and
 * {@code loopGone} runs instead, on the spool thread.
 */
final class SpoolTasks {

    /** Work on the spool file, on a spool thread; may return a buffer for the loop. */
    interface FileTask {
        ByteBuf run() throws IOException;
    }

    private final Channel client;
    private final Executor threads;
    private final Consumer<IOException> failed;
    private final Runnable loopGone;
    /** The last task; the next one runs after it. */
    private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);

    /**
     * @param client   the client's channel, on whose event loop the tasks are answered
     * @param threads  run the tasks (the spool threads; tests hold them back)
     * @param failed   called on the loop with a task's failure, before its answer
     * @param loopGone run on the spool thread when a task can't be answered, the loop being gone
     */
    SpoolTasks(Channel client, Executor threads, Consumer<IOException> failed, Runnable loopGone) {
        this.client = client;
        this.threads = threads;
        this.failed = failed;
        this.loopGone = loopGone;
    }

    /**
     * Runs {@code task} after every task chained before it, then, on the loop, {@code then} with its result (null if
     * it failed, after the failure went to {@code failed}: out of direct memory included, the chain goes on).
     */
    void chain(FileTask task, Consumer<ByteBuf> then) {
        run(() -> {
            ByteBuf result = null;
            IOException error = null;
            try {
                result = task.run();
            } catch (IOException e) {
                error = e;
            } catch (Throwable e) {
                error = new IOException(e.toString(), e);
            }
            ByteBuf done = result;
            IOException failure = error;
            onLoop(done, () -> {
                if (failure != null) {
                    failed.accept(failure);
                }
                then.accept(done);
            });
        });
    }

    /** Runs {@code step} on a spool thread after every task chained before it; it answers through {@link #onLoop}. */
    void run(Runnable step) {
        tail = tail.handleAsync((before, neverFails) -> {
            step.run();
            return null;
        }, threads);
    }

    /** Runs {@code last} on a spool thread once every task chained before it is done (closing the file). */
    void finish(Runnable last) {
        tail = tail.whenCompleteAsync((done, error) -> last.run(), threads);
    }

    /** From a task: runs {@code answer} on the loop; if the loop is gone, releases {@code buffer} (may be null). */
    void onLoop(ByteBuf buffer, Runnable answer) {
        try {
            client.eventLoop().execute(answer);
        } catch (RejectedExecutionException gone) {
            if (buffer != null) {
                buffer.release();
            }
            loopGone.run();
        }
    }
}
