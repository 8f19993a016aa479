/*
 * Every structure size, field offset and ABI constant that the Java side of the verbs transport relies on
 * (io.vigil.memory.verbs.VerbsLayout mirrors this file; VerbsLayoutTest compares the two).
 *
 * Java reads or writes these structures through raw offsets, so a different rdma-core (or libc) must fail the
 * build rather than corrupt memory: vigil_layout.c checks each value against the installed headers with
 * _Static_assert, and exports it by name (vigil_layout) so that Java can check the shim it loaded at run time.
 *
 * Keep this file to plain "#define VIGIL_<NAME> <integer>" lines: the Java test parses it.
 * Values are for x86-64 Linux, rdma-core 44.
 */
#ifndef VIGIL_LAYOUT_H
#define VIGIL_LAYOUT_H

/* struct ibv_mr: Java reads the keys of a registration (and its address and length, for logs). */
#define VIGIL_MR_ADDR 16
#define VIGIL_MR_LENGTH 24
#define VIGIL_MR_LKEY 36
#define VIGIL_MR_RKEY 40

/* struct ibv_qp: the queue pair number, for logs. */
#define VIGIL_QP_NUM 52

/* struct ibv_qp_init_attr: Java allocates one for rdma_create_qp, which writes the granted capacities back. */
#define VIGIL_QP_INIT_ATTR_SIZE 64
#define VIGIL_QP_INIT_ATTR_SEND_CQ 8
#define VIGIL_QP_INIT_ATTR_RECV_CQ 16
#define VIGIL_QP_INIT_ATTR_MAX_SEND_WR 32
#define VIGIL_QP_INIT_ATTR_MAX_RECV_WR 36
#define VIGIL_QP_INIT_ATTR_MAX_SEND_SGE 40
#define VIGIL_QP_INIT_ATTR_MAX_RECV_SGE 44
#define VIGIL_QP_INIT_ATTR_QP_TYPE 52
#define VIGIL_QP_INIT_ATTR_SQ_SIG_ALL 56

/* struct rdma_conn_param: Java allocates one for rdma_connect and rdma_accept. */
#define VIGIL_CONN_PARAM_SIZE 24
#define VIGIL_CONN_PARAM_PRIVATE_DATA 0
#define VIGIL_CONN_PARAM_PRIVATE_DATA_LEN 8
#define VIGIL_CONN_PARAM_RESPONDER_RESOURCES 9
#define VIGIL_CONN_PARAM_INITIATOR_DEPTH 10
#define VIGIL_CONN_PARAM_FLOW_CONTROL 11
#define VIGIL_CONN_PARAM_RETRY_COUNT 12
#define VIGIL_CONN_PARAM_RNR_RETRY_COUNT 13

/* struct rdma_cm_event: Java copies these fields out before acknowledging the event. */
#define VIGIL_CM_EVENT_ID 0
#define VIGIL_CM_EVENT_LISTEN_ID 8
#define VIGIL_CM_EVENT_EVENT 16
#define VIGIL_CM_EVENT_STATUS 20
#define VIGIL_CM_EVENT_PRIVATE_DATA 24
#define VIGIL_CM_EVENT_PRIVATE_DATA_LEN 32

/* struct rdma_cm_id: the device context an id was bound to, and the queue pair rdma_create_qp put on it. */
#define VIGIL_CM_ID_VERBS 0
#define VIGIL_CM_ID_QP 24

/* struct sockaddr_in / sockaddr_in6 / sockaddr_storage: Java builds the addresses it binds and resolves. */
#define VIGIL_SOCKADDR_STORAGE_SIZE 128
#define VIGIL_SOCKADDR_IN_PORT 2
#define VIGIL_SOCKADDR_IN_ADDR 4
#define VIGIL_SOCKADDR_IN6_PORT 2
#define VIGIL_SOCKADDR_IN6_ADDR 8
#define VIGIL_SOCKADDR_IN6_SCOPE_ID 24
#define VIGIL_AF_INET 2
#define VIGIL_AF_INET6 10

/* libc: mapping arena files and bounce buffers. */
#define VIGIL_O_RDONLY 0
#define VIGIL_O_CLOEXEC 524288
#define VIGIL_PROT_READ 1
#define VIGIL_PROT_WRITE 2
#define VIGIL_MAP_SHARED 1
#define VIGIL_MAP_PRIVATE 2
#define VIGIL_MAP_ANONYMOUS 32

/* libibverbs enums. */
#define VIGIL_IBV_QPT_RC 2
#define VIGIL_IBV_ACCESS_LOCAL_WRITE 1
#define VIGIL_IBV_ACCESS_REMOTE_READ 4
#define VIGIL_IBV_WC_SUCCESS 0
#define VIGIL_IBV_WC_WR_FLUSH_ERR 5
#define VIGIL_IBV_WC_REM_ACCESS_ERR 10
#define VIGIL_IBV_WC_RETRY_EXC_ERR 12
#define VIGIL_IBV_WC_RNR_RETRY_EXC_ERR 13
#define VIGIL_IBV_WC_RESP_TIMEOUT_ERR 20

/* librdmacm enums and limits. */
#define VIGIL_RDMA_PS_TCP 262
#define VIGIL_RDMA_MAX_RESP_RES 255
#define VIGIL_RDMA_MAX_INIT_DEPTH 255
#define VIGIL_RDMA_CM_EVENT_ADDR_RESOLVED 0
#define VIGIL_RDMA_CM_EVENT_ADDR_ERROR 1
#define VIGIL_RDMA_CM_EVENT_ROUTE_RESOLVED 2
#define VIGIL_RDMA_CM_EVENT_ROUTE_ERROR 3
#define VIGIL_RDMA_CM_EVENT_CONNECT_REQUEST 4
#define VIGIL_RDMA_CM_EVENT_CONNECT_ERROR 6
#define VIGIL_RDMA_CM_EVENT_UNREACHABLE 7
#define VIGIL_RDMA_CM_EVENT_REJECTED 8
#define VIGIL_RDMA_CM_EVENT_ESTABLISHED 9
#define VIGIL_RDMA_CM_EVENT_DISCONNECTED 10
#define VIGIL_RDMA_CM_EVENT_DEVICE_REMOVAL 11
#define VIGIL_RDMA_CM_EVENT_TIMEWAIT_EXIT 15

/* The shim's own limits (vigil_verbs.h): work requests chained per ibv_post_send, completions per poll. */
#define VIGIL_POST_CHAIN 64
#define VIGIL_POLL_MAX 64

#endif
