package io.vigil.memory.verbs;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;

/**
 * The few C structures Java fills in for librdmacm, laid out by {@link VerbsLayout}. Each is zeroed first: fields
 * left alone must read as "none" (no SRQ, no flags). Callers close them once the call that reads them returned.
 */
final class NativeStructs {
    /** How many times the requester retries before a dead peer fails its requests (the maximum, as in rping). */
    private static final byte RETRIES = 7;

    private NativeStructs() {}

    /** A {@code struct sockaddr_in} or {@code sockaddr_in6} in a {@code sockaddr_storage}. */
    static Memory sockaddr(InetSocketAddress address) {
        if (address.isUnresolved()) throw new IllegalArgumentException("unresolved address: " + address);
        Memory m = zeroed(VerbsLayout.SOCKADDR_STORAGE_SIZE);
        if (address.getAddress() instanceof Inet4Address v4) {
            m.setShort(0, (short) VerbsLayout.AF_INET);
            m.setShort(VerbsLayout.SOCKADDR_IN_PORT, networkOrder(address.getPort()));
            m.write(VerbsLayout.SOCKADDR_IN_ADDR, v4.getAddress(), 0, 4);
        } else {
            Inet6Address v6 = (Inet6Address) address.getAddress();
            m.setShort(0, (short) VerbsLayout.AF_INET6);
            m.setShort(VerbsLayout.SOCKADDR_IN6_PORT, networkOrder(address.getPort()));
            m.write(VerbsLayout.SOCKADDR_IN6_ADDR, v6.getAddress(), 0, 16);
            m.setInt(VerbsLayout.SOCKADDR_IN6_SCOPE_ID, v6.getScopeId());
        }
        return m;
    }

    /** A port as librdmacm returns it (network byte order) in host order. */
    static int hostOrder(short port) {
        return (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? Short.reverseBytes(port) : port) & 0xffff;
    }

    private static short networkOrder(int port) {
        return ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? Short.reverseBytes((short) port) : (short) port;
    }

    /**
     * A {@code struct ibv_qp_init_attr} for a reliable-connection queue pair whose completions go to {@code cq}, with
     * room for {@code sendDepth} send requests of one scatter/gather entry and no receives beyond the one every
     * provider wants. Every send request is signaled explicitly ({@code sq_sig_all} 0).
     */
    static Memory qpInitAttr(Pointer cq, int sendDepth) {
        Memory m = zeroed(VerbsLayout.QP_INIT_ATTR_SIZE);
        m.setPointer(VerbsLayout.QP_INIT_ATTR_SEND_CQ, cq);
        m.setPointer(VerbsLayout.QP_INIT_ATTR_RECV_CQ, cq);
        m.setInt(VerbsLayout.QP_INIT_ATTR_MAX_SEND_WR, sendDepth);
        m.setInt(VerbsLayout.QP_INIT_ATTR_MAX_RECV_WR, 1);
        m.setInt(VerbsLayout.QP_INIT_ATTR_MAX_SEND_SGE, 1);
        m.setInt(VerbsLayout.QP_INIT_ATTR_MAX_RECV_SGE, 1);
        m.setInt(VerbsLayout.QP_INIT_ATTR_QP_TYPE, VerbsLayout.IBV_QPT_RC);
        m.setInt(VerbsLayout.QP_INIT_ATTR_SQ_SIG_ALL, 0);
        return m;
    }

    /** The send queue depth rdma_create_qp granted (it writes the actual capacities back). */
    static int grantedSendDepth(Memory qpInitAttr) {
        return qpInitAttr.getInt(VerbsLayout.QP_INIT_ATTR_MAX_SEND_WR);
    }

    /**
     * A {@code struct rdma_conn_param} for the reader's rdma_connect: as many RDMA READs outstanding as the device
     * allows (the initiator depth, {@code RDMA_MAX_INIT_DEPTH} meaning the device's maximum), none served to the
     * keeper, and {@code privateData} (the ticket, which must stay allocated until rdma_connect returns).
     */
    static Memory connectParam(Memory privateData) {
        Memory m = zeroed(VerbsLayout.CONN_PARAM_SIZE);
        m.setPointer(VerbsLayout.CONN_PARAM_PRIVATE_DATA, privateData);
        m.setByte(VerbsLayout.CONN_PARAM_PRIVATE_DATA_LEN, (byte) privateData.size());
        m.setByte(VerbsLayout.CONN_PARAM_RESPONDER_RESOURCES, (byte) 0);
        m.setByte(VerbsLayout.CONN_PARAM_INITIATOR_DEPTH, (byte) VerbsLayout.RDMA_MAX_INIT_DEPTH);
        m.setByte(VerbsLayout.CONN_PARAM_FLOW_CONTROL, (byte) 1);
        m.setByte(VerbsLayout.CONN_PARAM_RETRY_COUNT, RETRIES);
        m.setByte(VerbsLayout.CONN_PARAM_RNR_RETRY_COUNT, RETRIES);
        return m;
    }

    /**
     * A {@code struct rdma_conn_param} for the keeper's rdma_accept: serve as many concurrent RDMA READs as the reader
     * asked for, up to the device's limit ({@code RDMA_MAX_RESP_RES}); issue none.
     */
    static Memory acceptParam() {
        Memory m = zeroed(VerbsLayout.CONN_PARAM_SIZE);
        m.setByte(VerbsLayout.CONN_PARAM_RESPONDER_RESOURCES, (byte) VerbsLayout.RDMA_MAX_RESP_RES);
        m.setByte(VerbsLayout.CONN_PARAM_INITIATOR_DEPTH, (byte) 0);
        m.setByte(VerbsLayout.CONN_PARAM_FLOW_CONTROL, (byte) 1);
        m.setByte(VerbsLayout.CONN_PARAM_RNR_RETRY_COUNT, RETRIES);
        return m;
    }

    static Memory bytes(byte[] content) {
        Memory m = new Memory(content.length);
        m.write(0, content, 0, content.length);
        return m;
    }

    private static Memory zeroed(int size) {
        Memory m = new Memory(size);
        m.clear();
        return m;
    }
}
