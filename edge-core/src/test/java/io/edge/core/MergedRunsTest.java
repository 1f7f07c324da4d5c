package io.edge.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import org.junit.jupiter.api.Test;

class MergedRunsTest {

    @Test
    void asksWhileARunWaitsJoinItAndAnAskWhileItRunsQueuesOneMore() {
        Queue<Runnable> executor = new ArrayDeque<>();
        List<String> ran = new ArrayList<>();
        MergedRuns[] runs = new MergedRuns[1];
        runs[0] = new MergedRuns(executor::add, () -> {
            ran.add("run " + (ran.size() + 1));
            if (ran.size() == 1) {
                runs[0].run(); // a signal while the first reload runs
                runs[0].run();
            }
        });
        for (int i = 0; i < 30; i++) {
            runs[0].run(); // a burst of signals before the first reload starts
        }
        assertThat(executor).hasSize(1);
        executor.poll().run();
        assertThat(executor).as("the asks during the run: one more").hasSize(1);
        executor.poll().run();
        assertThat(executor).isEmpty();
        assertThat(ran).containsExactly("run 1", "run 2");
        runs[0].run();
        assertThat(executor).as("a later ask: a run of its own").hasSize(1);
    }
}
