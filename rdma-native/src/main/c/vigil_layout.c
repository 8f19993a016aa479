/*
 * Checks vigil_layout.h against the installed rdma-core and libc headers (the build fails on any difference) and
 * exports its values by name, so that Java can check at run time that the shim it loaded agrees with it.
 */
#include "vigil_verbs.h"

#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#define OFFSET(name, type, field) \
    _Static_assert(offsetof(type, field) == VIGIL_##name, "offsetof(" #type ", " #field ") != VIGIL_" #name)
#define SIZE(name, type) _Static_assert(sizeof(type) == VIGIL_##name, "sizeof(" #type ") != VIGIL_" #name)
#define VALUE(name, value) _Static_assert((value) == VIGIL_##name, #value " != VIGIL_" #name)

OFFSET(MR_ADDR, struct ibv_mr, addr);
OFFSET(MR_LENGTH, struct ibv_mr, length);
OFFSET(MR_LKEY, struct ibv_mr, lkey);
OFFSET(MR_RKEY, struct ibv_mr, rkey);
_Static_assert(sizeof(((struct ibv_mr *)0)->lkey) == 4 && sizeof(((struct ibv_mr *)0)->rkey) == 4, "ibv_mr keys");

OFFSET(QP_NUM, struct ibv_qp, qp_num);

SIZE(QP_INIT_ATTR_SIZE, struct ibv_qp_init_attr);
OFFSET(QP_INIT_ATTR_SEND_CQ, struct ibv_qp_init_attr, send_cq);
OFFSET(QP_INIT_ATTR_RECV_CQ, struct ibv_qp_init_attr, recv_cq);
OFFSET(QP_INIT_ATTR_MAX_SEND_WR, struct ibv_qp_init_attr, cap.max_send_wr);
OFFSET(QP_INIT_ATTR_MAX_RECV_WR, struct ibv_qp_init_attr, cap.max_recv_wr);
OFFSET(QP_INIT_ATTR_MAX_SEND_SGE, struct ibv_qp_init_attr, cap.max_send_sge);
OFFSET(QP_INIT_ATTR_MAX_RECV_SGE, struct ibv_qp_init_attr, cap.max_recv_sge);
OFFSET(QP_INIT_ATTR_QP_TYPE, struct ibv_qp_init_attr, qp_type);
OFFSET(QP_INIT_ATTR_SQ_SIG_ALL, struct ibv_qp_init_attr, sq_sig_all);
_Static_assert(sizeof(enum ibv_qp_type) == 4, "enum ibv_qp_type is not an int");

SIZE(CONN_PARAM_SIZE, struct rdma_conn_param);
OFFSET(CONN_PARAM_PRIVATE_DATA, struct rdma_conn_param, private_data);
OFFSET(CONN_PARAM_PRIVATE_DATA_LEN, struct rdma_conn_param, private_data_len);
OFFSET(CONN_PARAM_RESPONDER_RESOURCES, struct rdma_conn_param, responder_resources);
OFFSET(CONN_PARAM_INITIATOR_DEPTH, struct rdma_conn_param, initiator_depth);
OFFSET(CONN_PARAM_FLOW_CONTROL, struct rdma_conn_param, flow_control);
OFFSET(CONN_PARAM_RETRY_COUNT, struct rdma_conn_param, retry_count);
OFFSET(CONN_PARAM_RNR_RETRY_COUNT, struct rdma_conn_param, rnr_retry_count);

OFFSET(CM_EVENT_ID, struct rdma_cm_event, id);
OFFSET(CM_EVENT_LISTEN_ID, struct rdma_cm_event, listen_id);
OFFSET(CM_EVENT_EVENT, struct rdma_cm_event, event);
OFFSET(CM_EVENT_STATUS, struct rdma_cm_event, status);
OFFSET(CM_EVENT_PRIVATE_DATA, struct rdma_cm_event, param.conn.private_data);
OFFSET(CM_EVENT_PRIVATE_DATA_LEN, struct rdma_cm_event, param.conn.private_data_len);

OFFSET(CM_ID_VERBS, struct rdma_cm_id, verbs);
OFFSET(CM_ID_QP, struct rdma_cm_id, qp);

SIZE(SOCKADDR_STORAGE_SIZE, struct sockaddr_storage);
OFFSET(SOCKADDR_IN_PORT, struct sockaddr_in, sin_port);
OFFSET(SOCKADDR_IN_ADDR, struct sockaddr_in, sin_addr);
OFFSET(SOCKADDR_IN6_PORT, struct sockaddr_in6, sin6_port);
OFFSET(SOCKADDR_IN6_ADDR, struct sockaddr_in6, sin6_addr);
OFFSET(SOCKADDR_IN6_SCOPE_ID, struct sockaddr_in6, sin6_scope_id);
VALUE(AF_INET, AF_INET);
VALUE(AF_INET6, AF_INET6);

VALUE(O_RDONLY, O_RDONLY);
VALUE(O_CLOEXEC, O_CLOEXEC);
VALUE(PROT_READ, PROT_READ);
VALUE(PROT_WRITE, PROT_WRITE);
VALUE(MAP_SHARED, MAP_SHARED);
VALUE(MAP_PRIVATE, MAP_PRIVATE);
VALUE(MAP_ANONYMOUS, MAP_ANONYMOUS);

VALUE(IBV_QPT_RC, IBV_QPT_RC);
VALUE(IBV_ACCESS_LOCAL_WRITE, IBV_ACCESS_LOCAL_WRITE);
VALUE(IBV_ACCESS_REMOTE_READ, IBV_ACCESS_REMOTE_READ);
VALUE(IBV_WC_SUCCESS, IBV_WC_SUCCESS);
VALUE(IBV_WC_WR_FLUSH_ERR, IBV_WC_WR_FLUSH_ERR);
VALUE(IBV_WC_REM_ACCESS_ERR, IBV_WC_REM_ACCESS_ERR);
VALUE(IBV_WC_RETRY_EXC_ERR, IBV_WC_RETRY_EXC_ERR);
VALUE(IBV_WC_RNR_RETRY_EXC_ERR, IBV_WC_RNR_RETRY_EXC_ERR);
VALUE(IBV_WC_RESP_TIMEOUT_ERR, IBV_WC_RESP_TIMEOUT_ERR);

VALUE(RDMA_PS_TCP, RDMA_PS_TCP);
VALUE(RDMA_MAX_RESP_RES, RDMA_MAX_RESP_RES);
VALUE(RDMA_MAX_INIT_DEPTH, RDMA_MAX_INIT_DEPTH);
VALUE(RDMA_CM_EVENT_ADDR_RESOLVED, RDMA_CM_EVENT_ADDR_RESOLVED);
VALUE(RDMA_CM_EVENT_ADDR_ERROR, RDMA_CM_EVENT_ADDR_ERROR);
VALUE(RDMA_CM_EVENT_ROUTE_RESOLVED, RDMA_CM_EVENT_ROUTE_RESOLVED);
VALUE(RDMA_CM_EVENT_ROUTE_ERROR, RDMA_CM_EVENT_ROUTE_ERROR);
VALUE(RDMA_CM_EVENT_CONNECT_REQUEST, RDMA_CM_EVENT_CONNECT_REQUEST);
VALUE(RDMA_CM_EVENT_CONNECT_ERROR, RDMA_CM_EVENT_CONNECT_ERROR);
VALUE(RDMA_CM_EVENT_UNREACHABLE, RDMA_CM_EVENT_UNREACHABLE);
VALUE(RDMA_CM_EVENT_REJECTED, RDMA_CM_EVENT_REJECTED);
VALUE(RDMA_CM_EVENT_ESTABLISHED, RDMA_CM_EVENT_ESTABLISHED);
VALUE(RDMA_CM_EVENT_DISCONNECTED, RDMA_CM_EVENT_DISCONNECTED);
VALUE(RDMA_CM_EVENT_DEVICE_REMOVAL, RDMA_CM_EVENT_DEVICE_REMOVAL);
VALUE(RDMA_CM_EVENT_TIMEWAIT_EXIT, RDMA_CM_EVENT_TIMEWAIT_EXIT);

/* The shim's limits are its own; nothing to check them against. */

#define ENTRY(name) { #name, VIGIL_##name }

static const struct {
    const char *name;
    long value;
} layout[] = {
    ENTRY(MR_ADDR), ENTRY(MR_LENGTH), ENTRY(MR_LKEY), ENTRY(MR_RKEY),
    ENTRY(QP_NUM),
    ENTRY(QP_INIT_ATTR_SIZE), ENTRY(QP_INIT_ATTR_SEND_CQ), ENTRY(QP_INIT_ATTR_RECV_CQ),
    ENTRY(QP_INIT_ATTR_MAX_SEND_WR), ENTRY(QP_INIT_ATTR_MAX_RECV_WR), ENTRY(QP_INIT_ATTR_MAX_SEND_SGE),
    ENTRY(QP_INIT_ATTR_MAX_RECV_SGE), ENTRY(QP_INIT_ATTR_QP_TYPE), ENTRY(QP_INIT_ATTR_SQ_SIG_ALL),
    ENTRY(CONN_PARAM_SIZE), ENTRY(CONN_PARAM_PRIVATE_DATA), ENTRY(CONN_PARAM_PRIVATE_DATA_LEN),
    ENTRY(CONN_PARAM_RESPONDER_RESOURCES), ENTRY(CONN_PARAM_INITIATOR_DEPTH), ENTRY(CONN_PARAM_FLOW_CONTROL),
    ENTRY(CONN_PARAM_RETRY_COUNT), ENTRY(CONN_PARAM_RNR_RETRY_COUNT),
    ENTRY(CM_EVENT_ID), ENTRY(CM_EVENT_LISTEN_ID), ENTRY(CM_EVENT_EVENT), ENTRY(CM_EVENT_STATUS),
    ENTRY(CM_EVENT_PRIVATE_DATA), ENTRY(CM_EVENT_PRIVATE_DATA_LEN),
    ENTRY(CM_ID_VERBS), ENTRY(CM_ID_QP),
    ENTRY(SOCKADDR_STORAGE_SIZE), ENTRY(SOCKADDR_IN_PORT), ENTRY(SOCKADDR_IN_ADDR), ENTRY(SOCKADDR_IN6_PORT),
    ENTRY(SOCKADDR_IN6_ADDR), ENTRY(SOCKADDR_IN6_SCOPE_ID), ENTRY(AF_INET), ENTRY(AF_INET6),
    ENTRY(O_RDONLY), ENTRY(O_CLOEXEC), ENTRY(PROT_READ), ENTRY(PROT_WRITE), ENTRY(MAP_SHARED), ENTRY(MAP_PRIVATE),
    ENTRY(MAP_ANONYMOUS),
    ENTRY(IBV_QPT_RC), ENTRY(IBV_ACCESS_LOCAL_WRITE), ENTRY(IBV_ACCESS_REMOTE_READ), ENTRY(IBV_WC_SUCCESS),
    ENTRY(IBV_WC_WR_FLUSH_ERR), ENTRY(IBV_WC_REM_ACCESS_ERR), ENTRY(IBV_WC_RETRY_EXC_ERR),
    ENTRY(IBV_WC_RNR_RETRY_EXC_ERR), ENTRY(IBV_WC_RESP_TIMEOUT_ERR),
    ENTRY(RDMA_PS_TCP), ENTRY(RDMA_MAX_RESP_RES), ENTRY(RDMA_MAX_INIT_DEPTH),
    ENTRY(RDMA_CM_EVENT_ADDR_RESOLVED), ENTRY(RDMA_CM_EVENT_ADDR_ERROR), ENTRY(RDMA_CM_EVENT_ROUTE_RESOLVED),
    ENTRY(RDMA_CM_EVENT_ROUTE_ERROR), ENTRY(RDMA_CM_EVENT_CONNECT_REQUEST), ENTRY(RDMA_CM_EVENT_CONNECT_ERROR),
    ENTRY(RDMA_CM_EVENT_UNREACHABLE), ENTRY(RDMA_CM_EVENT_REJECTED), ENTRY(RDMA_CM_EVENT_ESTABLISHED),
    ENTRY(RDMA_CM_EVENT_DISCONNECTED), ENTRY(RDMA_CM_EVENT_DEVICE_REMOVAL), ENTRY(RDMA_CM_EVENT_TIMEWAIT_EXIT),
    ENTRY(POST_CHAIN), ENTRY(POLL_MAX),
};

long vigil_layout(const char *name)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < sizeof(layout) / sizeof(layout[0]); i++)
        if (strcmp(layout[i].name, name) == 0)
            return layout[i].value;
    return -1;
}
