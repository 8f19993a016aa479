package io.vigil.memory.verbs;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The structure offsets, sizes and ABI constants Java relies on when it reads or writes libibverbs, librdmacm and libc
 * structures by hand: a mirror of {@code src/main/c/vigil_layout.h}, which the shim's build checks against the
 * installed headers. {@code VerbsLayoutTest} keeps the two files equal, and {@link RdmaDevices} compares these values
 * with the ones the loaded shim was built with before anything uses them.
 */
final class VerbsLayout {
    // struct ibv_mr: Java reads the keys of a registration (and its address and length, for logs).
    static final int MR_ADDR = 16;
    static final int MR_LENGTH = 24;
    static final int MR_LKEY = 36;
    static final int MR_RKEY = 40;

    // struct ibv_qp: the queue pair number, for logs.
    static final int QP_NUM = 52;

    // struct ibv_qp_init_attr: Java allocates one for rdma_create_qp, which writes the granted capacities back.
    static final int QP_INIT_ATTR_SIZE = 64;
    static final int QP_INIT_ATTR_SEND_CQ = 8;
    static final int QP_INIT_ATTR_RECV_CQ = 16;
    static final int QP_INIT_ATTR_MAX_SEND_WR = 32;
    static final int QP_INIT_ATTR_MAX_RECV_WR = 36;
    static final int QP_INIT_ATTR_MAX_SEND_SGE = 40;
    static final int QP_INIT_ATTR_MAX_RECV_SGE = 44;
    static final int QP_INIT_ATTR_QP_TYPE = 52;
    static final int QP_INIT_ATTR_SQ_SIG_ALL = 56;

    // struct rdma_conn_param: Java allocates one for rdma_connect and rdma_accept.
    static final int CONN_PARAM_SIZE = 24;
    static final int CONN_PARAM_PRIVATE_DATA = 0;
    static final int CONN_PARAM_PRIVATE_DATA_LEN = 8;
    static final int CONN_PARAM_RESPONDER_RESOURCES = 9;
    static final int CONN_PARAM_INITIATOR_DEPTH = 10;
    static final int CONN_PARAM_FLOW_CONTROL = 11;
    static final int CONN_PARAM_RETRY_COUNT = 12;
    static final int CONN_PARAM_RNR_RETRY_COUNT = 13;

    // struct rdma_cm_event: Java copies these fields out before acknowledging the event.
    static final int CM_EVENT_ID = 0;
    static final int CM_EVENT_LISTEN_ID = 8;
    static final int CM_EVENT_EVENT = 16;
    static final int CM_EVENT_STATUS = 20;
    static final int CM_EVENT_PRIVATE_DATA = 24;
    static final int CM_EVENT_PRIVATE_DATA_LEN = 32;

    // struct rdma_cm_id: the device context an id was bound to, and the queue pair rdma_create_qp put on it.
    static final int CM_ID_VERBS = 0;
    static final int CM_ID_QP = 24;

    // struct sockaddr_in / sockaddr_in6 / sockaddr_storage: Java builds the addresses it binds and resolves.
    static final int SOCKADDR_STORAGE_SIZE = 128;
    static final int SOCKADDR_IN_PORT = 2;
    static final int SOCKADDR_IN_ADDR = 4;
    static final int SOCKADDR_IN6_PORT = 2;
    static final int SOCKADDR_IN6_ADDR = 8;
    static final int SOCKADDR_IN6_SCOPE_ID = 24;
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;

    // libc: mapping arena files and bounce buffers.
    static final int O_RDONLY = 0;
    static final int O_CLOEXEC = 524288;
    static final int PROT_READ = 1;
    static final int PROT_WRITE = 2;
    static final int MAP_SHARED = 1;
    static final int MAP_PRIVATE = 2;
    static final int MAP_ANONYMOUS = 32;

    // libibverbs enums.
    static final int IBV_QPT_RC = 2;
    static final int IBV_ACCESS_LOCAL_WRITE = 1;
    static final int IBV_ACCESS_REMOTE_READ = 4;
    static final int IBV_WC_SUCCESS = 0;
    static final int IBV_WC_WR_FLUSH_ERR = 5;
    static final int IBV_WC_REM_ACCESS_ERR = 10;
    static final int IBV_WC_RETRY_EXC_ERR = 12;
    static final int IBV_WC_RNR_RETRY_EXC_ERR = 13;
    static final int IBV_WC_RESP_TIMEOUT_ERR = 20;

    // librdmacm enums and limits.
    static final int RDMA_PS_TCP = 262;
    static final int RDMA_MAX_RESP_RES = 255;
    static final int RDMA_MAX_INIT_DEPTH = 255;
    static final int RDMA_CM_EVENT_ADDR_RESOLVED = 0;
    static final int RDMA_CM_EVENT_ADDR_ERROR = 1;
    static final int RDMA_CM_EVENT_ROUTE_RESOLVED = 2;
    static final int RDMA_CM_EVENT_ROUTE_ERROR = 3;
    static final int RDMA_CM_EVENT_CONNECT_REQUEST = 4;
    static final int RDMA_CM_EVENT_CONNECT_ERROR = 6;
    static final int RDMA_CM_EVENT_UNREACHABLE = 7;
    static final int RDMA_CM_EVENT_REJECTED = 8;
    static final int RDMA_CM_EVENT_ESTABLISHED = 9;
    static final int RDMA_CM_EVENT_DISCONNECTED = 10;
    static final int RDMA_CM_EVENT_DEVICE_REMOVAL = 11;
    static final int RDMA_CM_EVENT_TIMEWAIT_EXIT = 15;

    // The shim's own limits (vigil_verbs.h): work requests chained per ibv_post_send, completions per poll.
    static final int POST_CHAIN = 64;
    static final int POLL_MAX = 64;

    private VerbsLayout() {}

    /** Every constant above by name (without the header's {@code VIGIL_} prefix), in declaration order. */
    static Map<String, Integer> constants() {
        Map<String, Integer> constants = new LinkedHashMap<>();
        for (Field field : VerbsLayout.class.getDeclaredFields()) {
            int modifiers = field.getModifiers();
            if (!Modifier.isStatic(modifiers) || !Modifier.isFinal(modifiers) || field.getType() != int.class) continue;
            try {
                constants.put(field.getName(), field.getInt(null));
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }
        return constants;
    }
}
