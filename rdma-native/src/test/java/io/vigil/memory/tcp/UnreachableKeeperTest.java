package io.vigil.memory.tcp;

import static org.junit.jupiter.api.Assertions.*;

import io.vigil.memory.RemoteMemoryException;
import io.vigil.memory.RemoteMemoryException.Kind;
import io.vigil.memory.RemoteRegion;
import io.vigil.memory.keeper.KeeperFixture;
import io.vigil.memory.keeper.KeeperProtocol;
import io.vigil.memory.keeper.KeeperStatus;
import io.vigil.protocol.memory.MemoryKeeperEndpoint;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A keeper that is not there, or stops answering, is UNREACHABLE within the caller's timeouts; a stranger is PROTOCOL. */
class UnreachableKeeperTest {
    private ServerSocket server;
    private Thread peer;
    private final TcpRemoteMemory memory = new TcpRemoteMemory(Duration.ofMillis(500));

    @BeforeEach
    void listen() throws Exception {
        server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void stop() throws Exception {
        memory.close();
        server.close();
        if (peer != null) {
            peer.interrupt();
            peer.join(5000);
        }
    }

    private MemoryKeeperEndpoint endpoint(int port) {
        return new MemoryKeeperEndpoint("h1", "127.0.0.1", port, 0, KeeperFixture.newKey());
    }

    /** Serves each connection with {@code behaviour} on a thread the test owns. */
    private void serve(SocketBehaviour behaviour) {
        peer = new Thread(() -> {
            try (Socket s = server.accept()) {
                behaviour.run(new DataInputStream(s.getInputStream()), new DataOutputStream(s.getOutputStream()));
                Thread.sleep(30_000);
            } catch (Exception e) {
                // the test is over
            }
        });
        peer.start();
    }

    interface SocketBehaviour {
        void run(DataInputStream in, DataOutputStream out) throws Exception;
    }

    @Test
    void nobodyListeningIsUnreachable() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        RemoteMemoryException e = assertThrows(RemoteMemoryException.class,
                () -> memory.open(endpoint(port), "web-1/vda", "grant", Duration.ofSeconds(2)));
        assertEquals(Kind.UNREACHABLE, e.kind());
    }

    @Test
    void aPeerThatNeverAnswersOpenIsUnreachableAtTheTimeout() {
        serve((in, out) -> {});
        RemoteMemoryException e = assertThrows(RemoteMemoryException.class,
                () -> memory.open(endpoint(server.getLocalPort()), "web-1/vda", "grant", Duration.ofMillis(300)));
        assertEquals(Kind.UNREACHABLE, e.kind());
    }

    @Test
    void aKeeperThatStopsAnsweringReadsIsUnreachableAfterTheIoTimeout() throws Exception {
        serve((in, out) -> {
            in.readFully(new byte[KeeperProtocol.OPEN_REQUEST_BYTES]);
            in.skipNBytes(in.available());
            out.writeInt(KeeperProtocol.MAGIC);
            out.writeShort(KeeperProtocol.VERSION);
            out.writeShort(KeeperStatus.OK.code());
            out.writeInt(KeeperProtocol.OPEN_TCP_BODY_BYTES);
            out.writeLong(1 << 20);
            out.writeInt(1 << 20);
            out.flush(); // and then silence
        });
        try (RemoteRegion region = memory.open(endpoint(server.getLocalPort()), "web-1/vda", "grant", Duration.ofSeconds(2))) {
            assertEquals(1 << 20, region.size());
            RemoteMemoryException e = assertThrows(RemoteMemoryException.class, () -> region.read(0, ByteBuffer.allocate(100)));
            assertEquals(Kind.UNREACHABLE, e.kind());
        }
    }

    @Test
    void somethingElseThanAKeeperIsAProtocolError() {
        serve((in, out) -> {
            out.writeBytes("SSH-2.0-OpenSSH_9.2\r\n");
            out.flush();
        });
        RemoteMemoryException e = assertThrows(RemoteMemoryException.class,
                () -> memory.open(endpoint(server.getLocalPort()), "web-1/vda", "grant", Duration.ofSeconds(2)));
        assertEquals(Kind.PROTOCOL, e.kind());
    }

    @Test
    void anUnresolvableAddressIsUnreachable() {
        MemoryKeeperEndpoint nowhere = new MemoryKeeperEndpoint("h1", "no-such-host.invalid", 7470, 0, KeeperFixture.newKey());
        assertEquals(Kind.UNREACHABLE, assertThrows(RemoteMemoryException.class,
                () -> memory.open(nowhere, "web-1/vda", "grant", Duration.ofSeconds(2))).kind());
    }
}
