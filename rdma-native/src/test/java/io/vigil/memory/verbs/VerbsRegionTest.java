package io.vigil.memory.verbs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vigil.memory.RemoteMemoryException;
import io.vigil.memory.RemoteRead;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A verbs region over the fake provider: reads go through the pipeline, close releases the connection once. */
class VerbsRegionTest {
    @Test
    void readsUntilClosedThenReleasesItsConnectionOnce() throws IOException {
        try (FakeProvider fake = new FakeProvider(8, 2);
                NativeMapping remote = NativeMapping.anonymous(1 << 16);
                NativeMapping bounce = NativeMapping.anonymous(8 * 4096)) {
            for (int i = 0; i < 1 << 16; i++) remote.address().setByte(i, (byte) (i * 31));
            fake.remote(7, remote.address(), remote.length());
            fake.local(9, bounce.address(), bounce.length());
            RdmaReadPipeline pipeline = new RdmaReadPipeline(fake.qp(), fake.cq(),
                    new RegisteredBuffer(bounce.address(), (int) bounce.length(), 9),
                    new RegionKey(remote.addressValue(), 7, remote.length()), 8, 4096, Duration.ofSeconds(1));
            AtomicInteger disconnects = new AtomicInteger();
            List<VerbsRegion> closed = new ArrayList<>();
            VerbsRegion region = new VerbsRegion("web-1/vda", remote.length(), pipeline,
                    disconnects::incrementAndGet, closed::add);

            assertEquals("web-1/vda", region.name());
            assertEquals(1 << 16, region.size());
            ByteBuffer dst = ByteBuffer.allocate(10_000);
            region.read(50_000, dst);
            assertArrayEquals(remote.address().getByteArray(50_000, 10_000), dst.array());
            RemoteMemoryException e = assertThrows(RemoteMemoryException.class,
                    () -> region.read(60_000, ByteBuffer.allocate(6_000)));
            assertEquals(RemoteMemoryException.Kind.OUT_OF_RANGE, e.kind());

            region.close();
            region.close();
            assertEquals(1, disconnects.get());
            assertEquals(List.of(region), closed);
            e = assertThrows(RemoteMemoryException.class, () -> region.read(List.of(new RemoteRead(0, dst.clear()))));
            assertEquals(RemoteMemoryException.Kind.PROTOCOL, e.kind());
        }
    }
}
