package io.edge.fastcgi.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExchangeSlotTest {

    /** Records what reaches it. */
    static final class Recorder extends ChannelInboundHandlerAdapter {
        final List<Object> reads = new ArrayList<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            reads.add(msg);
        }
    }

    @Test
    void theOccupantGetsTheEventsAndAfterItLeavesTheNextHandlerDoes() {
        ExchangeSlot slot = new ExchangeSlot();
        Recorder after = new Recorder();
        EmbeddedChannel channel = new EmbeddedChannel(slot, after);
        Recorder first = new Recorder();
        Recorder second = new Recorder();

        channel.writeInbound("before");
        slot.occupy(first);
        assertThatThrownBy(() -> slot.occupy(second)).isInstanceOf(IllegalStateException.class);
        channel.writeInbound("one");
        slot.vacate(second); // not the occupant: nothing changes
        channel.writeInbound("two");
        slot.vacate(first);
        assertThat(slot.isVacant()).isTrue();
        channel.writeInbound("between");
        slot.occupy(second);
        channel.writeInbound("three");

        assertThat(after.reads).containsExactly("before", "between");
        assertThat(first.reads).containsExactly("one", "two");
        assertThat(second.reads).containsExactly("three");
        channel.finishAndReleaseAll();
    }
}
