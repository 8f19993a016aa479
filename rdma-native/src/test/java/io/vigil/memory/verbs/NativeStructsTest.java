package io.vigil.memory.verbs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** The structures Java fills in for librdmacm, byte for byte as the C ABI lays them out (x86-64). */
class NativeStructsTest {
    @Test
    void anIpv4SocketAddressIsASockaddrIn() throws Exception {
        try (Memory m = NativeStructs.sockaddr(new InetSocketAddress(InetAddress.getByName("10.1.2.3"), 7471))) {
            assertArrayEquals(new byte[] {2, 0, 0x1d, 0x2f, 10, 1, 2, 3, 0, 0}, m.getByteArray(0, 10));
            assertEquals(VerbsLayout.SOCKADDR_STORAGE_SIZE, m.size());
        }
    }

    @Test
    void anIpv6SocketAddressIsASockaddrIn6() throws Exception {
        try (Memory m = NativeStructs.sockaddr(new InetSocketAddress(InetAddress.getByName("fe80::1%1"), 7471))) {
            assertEquals(10, m.getShort(0));
            assertArrayEquals(new byte[] {0x1d, 0x2f}, m.getByteArray(VerbsLayout.SOCKADDR_IN6_PORT, 2));
            byte[] address = new byte[16];
            address[0] = (byte) 0xfe;
            address[1] = (byte) 0x80;
            address[15] = 1;
            assertArrayEquals(address, m.getByteArray(VerbsLayout.SOCKADDR_IN6_ADDR, 16));
            assertEquals(1, m.getInt(VerbsLayout.SOCKADDR_IN6_SCOPE_ID));
        }
    }

    @Test
    void portsComeBackFromNetworkOrder() {
        assertEquals(7471, NativeStructs.hostOrder((short) 0x2f1d)); // bytes 1d 2f in memory, read little-endian
        assertEquals(65535, NativeStructs.hostOrder((short) -1));
    }

    @Test
    void theQueuePairAttributesAskForOneReliableConnection() {
        Pointer cq = new Pointer(0x1234_5678L);
        try (Memory m = NativeStructs.qpInitAttr(cq, 32)) {
            assertEquals(VerbsLayout.QP_INIT_ATTR_SIZE, m.size());
            assertEquals(null, m.getPointer(0), "no qp_context");
            assertEquals(cq, m.getPointer(VerbsLayout.QP_INIT_ATTR_SEND_CQ));
            assertEquals(cq, m.getPointer(VerbsLayout.QP_INIT_ATTR_RECV_CQ));
            assertEquals(null, m.getPointer(24), "no shared receive queue");
            assertEquals(32, m.getInt(VerbsLayout.QP_INIT_ATTR_MAX_SEND_WR));
            assertEquals(1, m.getInt(VerbsLayout.QP_INIT_ATTR_MAX_SEND_SGE));
            assertEquals(VerbsLayout.IBV_QPT_RC, m.getInt(VerbsLayout.QP_INIT_ATTR_QP_TYPE));
            assertEquals(0, m.getInt(VerbsLayout.QP_INIT_ATTR_SQ_SIG_ALL), "each request signals on its own");
            assertEquals(32, NativeStructs.grantedSendDepth(m));
        }
    }

    @Test
    void theReaderConnectsWithItsTicketAndReadsAsDeepAsTheDeviceAllows() {
        try (Memory ticket = NativeStructs.bytes(new byte[16]); Memory m = NativeStructs.connectParam(ticket)) {
            assertEquals(ticket, m.getPointer(VerbsLayout.CONN_PARAM_PRIVATE_DATA));
            assertEquals(16, m.getByte(VerbsLayout.CONN_PARAM_PRIVATE_DATA_LEN));
            assertEquals(0, m.getByte(VerbsLayout.CONN_PARAM_RESPONDER_RESOURCES), "serves no reads");
            assertEquals((byte) 255, m.getByte(VerbsLayout.CONN_PARAM_INITIATOR_DEPTH));
            assertEquals(7, m.getByte(VerbsLayout.CONN_PARAM_RETRY_COUNT));
        }
    }

    @Test
    void theKeeperAcceptsServingReadsAndIssuingNone() {
        try (Memory m = NativeStructs.acceptParam()) {
            assertEquals(null, m.getPointer(VerbsLayout.CONN_PARAM_PRIVATE_DATA));
            assertEquals((byte) 255, m.getByte(VerbsLayout.CONN_PARAM_RESPONDER_RESOURCES));
            assertEquals(0, m.getByte(VerbsLayout.CONN_PARAM_INITIATOR_DEPTH));
        }
    }
}
