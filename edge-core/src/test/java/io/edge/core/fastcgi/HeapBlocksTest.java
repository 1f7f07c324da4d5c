package io.edge.core.fastcgi;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A body's bytes in heap blocks: kept in order across blocks, each part released once its bytes are held. */
class HeapBlocksTest {

    private final HeapBlocks blocks = new HeapBlocks(new UnpooledByteBufAllocator(false), 1000);

    private static byte[] bytes(int length, int seed) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 31 + seed);
        }
        return bytes;
    }

    /** What the blocks hold, read block by block as a backend is sent them. */
    private byte[] blockByBlock() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < blocks.blocks(); i++) {
            ByteBuf block = blocks.retainedBlock(i);
            out.writeBytes(ByteBufUtil.getBytes(block));
            block.release();
        }
        return out.toByteArray();
    }

    @Test
    void partsSmallAndLargerThanABlockAreHeldInOrderInBlocksNoLargerThanTheirSize() {
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        List<ByteBuf> parts = new ArrayList<>();
        for (int length : new int[] {1, 3, 7, 2500, 10, 999, 1000, 1, 4321}) {
            byte[] part = bytes(length, length);
            sent.writeBytes(part);
            ByteBuf buffer = Unpooled.wrappedBuffer(part);
            parts.add(buffer);
            blocks.add(buffer);
        }
        assertThat(parts).as("released once held").allMatch(part -> part.refCnt() == 0);
        assertThat(blocks.bytes()).isEqualTo(sent.size());
        assertThat(blockByBlock()).isEqualTo(sent.toByteArray());
        assertThat(blocks.blocks()).as("full blocks but the last").isLessThanOrEqualTo(sent.size() / 1000 + 5);
        for (int i = 0; i < blocks.blocks(); i++) {
            ByteBuf block = blocks.retainedBlock(i);
            assertThat(block.readableBytes()).isBetween(1, 1000);
            block.release();
        }
        ByteBuf all = blocks.takeAll();
        assertThat(ByteBufUtil.getBytes(all)).as("all at once, in order").isEqualTo(sent.toByteArray());
        assertThat(blocks.blocks()).as("none held once taken").isZero();
        all.release();
        assertThat(all.refCnt()).isZero();
    }

    @Test
    void aSmallBodyHoldsLittleMoreThanItsBytes() {
        for (int i = 0; i < 100; i++) {
            blocks.add(Unpooled.wrappedBuffer(bytes(3, i)));
        }
        int capacity = 0;
        for (int i = 0; i < blocks.blocks(); i++) {
            ByteBuf block = blocks.retainedBlock(i);
            capacity += block.capacity();
            block.release();
        }
        assertThat(capacity).as("blocks growing with the body").isLessThanOrEqualTo(2 * 300);
        blocks.release();
        assertThat(blocks.blocks()).isZero();
    }
}
