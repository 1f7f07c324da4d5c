package io.edge.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.aio.StaticIoSettings;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class DescriptorLimitTest {

    @Test
    void connectionsGetThreeQuartersOfTheDescriptorsLeftAtTheStart() {
        assertThat(new DescriptorLimit(256, 50, 1).maxConnections()).isEqualTo(131); // 174 left (256 - 50 - 32), a quarter of it kept
        assertThat(new DescriptorLimit(1024, 50, 1).maxConnections()).isEqualTo(707);
        assertThat(new DescriptorLimit(20000, 50, 1).maxConnections()).as("the default 10000 fits").isGreaterThan(10000);
    }

    @Test
    void filesOfTwoDescriptorsHalveIt() {
        assertThat(new DescriptorLimit(256, 50, 2).maxConnections()).isEqualTo(65);
    }

    @Test
    void atLeastOneConnectionAndNoOverflow() {
        assertThat(new DescriptorLimit(40, 50, 1).maxConnections()).isEqualTo(1);
        assertThat(DescriptorLimit.UNKNOWN.maxConnections()).isEqualTo(Integer.MAX_VALUE);
        assertThat(new DescriptorLimit(Long.MAX_VALUE, 100, 1).maxConnections()).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void theLimitToRaiseToIsTheLeastThatLeavesRoomForWhatWasConfigured() {
        for (int perFile = 1; perFile <= 2; perFile++) {
            for (int configured = 1; configured < 200; configured++) {
                long limit = new DescriptorLimit(256, 50, perFile).limitFor(configured);
                assertThat(new DescriptorLimit(limit, 50, perFile).maxConnections()).as("%d", configured)
                        .isGreaterThanOrEqualTo(configured);
                if (configured > 1) {
                    assertThat(new DescriptorLimit(limit - 1, 50, perFile).maxConnections()).as("%d", configured)
                            .isLessThan(configured);
                }
            }
        }
    }

    @Test
    void thisProcessHasALimitAndDescriptorsOpen() {
        DescriptorLimit here = DescriptorLimit.ofThisProcess(StaticIoSettings.Engine.AUTO);
        assertThat(here.limit()).isPositive();
        assertThat(here.openAtStart()).isPositive().isLessThan(here.limit());
        assertThat(here.descriptorsPerFile()).isEqualTo(1);
        assertThat(DescriptorLimit.ofThisProcess(StaticIoSettings.Engine.LINUX_AIO_SENDFILE).descriptorsPerFile()).isEqualTo(2);
    }

    @Test
    void theStaticPathsDescriptorsAreHeldToWhatTheConnectionsLeave() {
        StaticIoSettings io = new StaticIoSettings(StaticIoSettings.Engine.AUTO, 256, 16, 10000, Duration.ofSeconds(1), 2,
                16000, 1 << 20, Duration.ofSeconds(30), false);
        StaticIoSettings held = new DescriptorLimit(512, 49, 1).forFiles(io, 10000); // 431 left, 324 of them sockets
        assertThat(held.fdBudget()).isEqualTo(107);
        assertThat(held.openFileCacheSize()).isEqualTo(66).isLessThan(held.fdBudget());
        assertThat(held.engine()).isEqualTo(io.engine());
        assertThat(held.fdLimit()).as("files past the budget stop there too").isEqualTo(107);
        StaticIoSettings besidePhp = new DescriptorLimit(512, 49, 1).forFiles(io, 10000, 8);
        assertThat(besidePhp.fdLimit()).as("php-fpm's eight connections kept from it").isEqualTo(99);
        assertThat(besidePhp.fdBudget()).isEqualTo(99);
        assertThat(new DescriptorLimit(512, 49, 1).forFiles(io, 100).fdBudget()).isEqualTo(331);
        StaticIoSettings roomy = new DescriptorLimit(1 << 20, 49, 1).forFiles(io, 10000);
        assertThat(roomy.fdBudget()).isEqualTo(io.fdBudget());
        assertThat(roomy.openFileCacheSize()).isEqualTo(io.openFileCacheSize());
        assertThat(roomy.fdLimit()).as("what the sockets leave").isEqualTo((1 << 20) - 49 - 32 - 10000);
        assertThat(DescriptorLimit.UNKNOWN.forFiles(io, 10000)).isSameAs(io);
        assertThat(io.fdLimit()).isEqualTo(Integer.MAX_VALUE);
    }
}
