#include "vigil_fake_verbs.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <infiniband/verbs.h>

struct fake_request {
    uint64_t wr_id;
    uint32_t lkey;
    uint64_t local_addr;
    uint32_t length;
    uint32_t rkey;
    uint64_t remote_addr;
};

struct fake_region {
    uint32_t key;
    uint64_t base;
    uint64_t length;
};

struct vigil_fake {
    struct ibv_device device;
    struct ibv_context context;
    struct ibv_qp qp;
    struct ibv_cq cq;
    struct fake_region remote;
    struct fake_region local;
    int sq_depth;
    int cq_bunch;
    int hold;
    int in_error;
    /* Requests posted and not yet polled, in order: a ring of sq_depth. */
    struct fake_request *queue;
    int head;
    int count;
    int64_t executed;
    int64_t fail_at;
    int fail_status;
    int64_t stats[7];
};

static struct vigil_fake *of_qp(struct ibv_qp *qp)
{
    return (struct vigil_fake *)((char *)qp - offsetof(struct vigil_fake, qp));
}

static struct vigil_fake *of_cq(struct ibv_cq *cq)
{
    return (struct vigil_fake *)((char *)cq - offsetof(struct vigil_fake, cq));
}

static int within(const struct fake_region *region, uint32_t key, uint64_t addr, uint32_t length)
{
    return region->length > 0 && key == region->key && addr >= region->base &&
           length <= region->length && addr - region->base <= region->length - length;
}

static int fake_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr, struct ibv_send_wr **bad_wr)
{
    struct vigil_fake *fake = of_qp(qp);

    fake->stats[VIGIL_FAKE_POST_CALLS]++;
    for (; wr; wr = wr->next) {
        struct fake_request *request;

        if (wr->opcode != IBV_WR_RDMA_READ || wr->num_sge != 1 || !(wr->send_flags & IBV_SEND_SIGNALED)) {
            *bad_wr = wr;
            return EINVAL;
        }
        if (fake->count == fake->sq_depth) {
            fake->stats[VIGIL_FAKE_FULL_POSTS]++;
            *bad_wr = wr;
            return ENOMEM;
        }
        request = &fake->queue[(fake->head + fake->count) % fake->sq_depth];
        request->wr_id = wr->wr_id;
        request->lkey = wr->sg_list[0].lkey;
        request->local_addr = wr->sg_list[0].addr;
        request->length = wr->sg_list[0].length;
        request->rkey = wr->wr.rdma.rkey;
        request->remote_addr = wr->wr.rdma.remote_addr;
        fake->count++;
        fake->stats[VIGIL_FAKE_POSTED]++;
        if (fake->count > fake->stats[VIGIL_FAKE_MAX_OUTSTANDING])
            fake->stats[VIGIL_FAKE_MAX_OUTSTANDING] = fake->count;
        if (request->length > fake->stats[VIGIL_FAKE_MAX_LENGTH])
            fake->stats[VIGIL_FAKE_MAX_LENGTH] = request->length;
    }
    return 0;
}

/* Executes one request the way the responder and the local HCA would, and says how it completed. */
static enum ibv_wc_status execute(struct vigil_fake *fake, const struct fake_request *request)
{
    int64_t n = fake->executed++;

    if (fake->in_error)
        return IBV_WC_WR_FLUSH_ERR;
    if (n == fake->fail_at)
        return (enum ibv_wc_status)fake->fail_status;
    if (!within(&fake->remote, request->rkey, request->remote_addr, request->length))
        return IBV_WC_REM_ACCESS_ERR;
    if (!within(&fake->local, request->lkey, request->local_addr, request->length))
        return IBV_WC_LOC_PROT_ERR;
    memcpy((void *)(uintptr_t)request->local_addr, (const void *)(uintptr_t)request->remote_addr,
           request->length);
    return IBV_WC_SUCCESS;
}

static int fake_poll_cq(struct ibv_cq *cq, int num_entries, struct ibv_wc *wc)
{
    struct vigil_fake *fake = of_cq(cq);
    int n = 0;

    fake->stats[VIGIL_FAKE_POLL_CALLS]++;
    if (num_entries < 0)
        return -EINVAL;
    if (fake->hold)
        return 0;
    while (n < num_entries && n < fake->cq_bunch && fake->count > 0) {
        const struct fake_request *request = &fake->queue[fake->head];
        enum ibv_wc_status status = execute(fake, request);

        memset(&wc[n], 0, sizeof(wc[n]));
        wc[n].wr_id = request->wr_id;
        wc[n].status = status;
        wc[n].opcode = IBV_WC_RDMA_READ;
        wc[n].byte_len = status == IBV_WC_SUCCESS ? request->length : 0;
        wc[n].qp_num = fake->qp.qp_num;
        if (status != IBV_WC_SUCCESS)
            fake->in_error = 1;
        fake->head = (fake->head + 1) % fake->sq_depth;
        fake->count--;
        n++;
    }
    return n;
}

struct vigil_fake *vigil_fake_open(int sq_depth, int cq_bunch)
{
    struct vigil_fake *fake;

    if (sq_depth <= 0 || cq_bunch <= 0)
        return NULL;
    fake = calloc(1, sizeof(*fake));
    if (!fake)
        return NULL;
    fake->queue = calloc((size_t)sq_depth, sizeof(*fake->queue));
    if (!fake->queue) {
        free(fake);
        return NULL;
    }
    strcpy(fake->device.name, "vigil_fake0");
    fake->context.device = &fake->device;
    fake->context.ops.post_send = fake_post_send;
    fake->context.ops.poll_cq = fake_poll_cq;
    fake->qp.context = &fake->context;
    fake->qp.send_cq = &fake->cq;
    fake->qp.recv_cq = &fake->cq;
    fake->qp.qp_num = 0x1f00d;
    fake->qp.qp_type = IBV_QPT_RC;
    fake->qp.state = IBV_QPS_RTS;
    fake->cq.context = &fake->context;
    fake->cq.cqe = sq_depth;
    fake->sq_depth = sq_depth;
    fake->cq_bunch = cq_bunch;
    fake->fail_at = -1;
    return fake;
}

void vigil_fake_close(struct vigil_fake *fake)
{
    if (!fake)
        return;
    free(fake->queue);
    free(fake);
}

struct ibv_qp *vigil_fake_qp(struct vigil_fake *fake)
{
    return &fake->qp;
}

struct ibv_cq *vigil_fake_cq(struct vigil_fake *fake)
{
    return &fake->cq;
}

void vigil_fake_set_remote(struct vigil_fake *fake, uint32_t rkey, uint64_t base, uint64_t length)
{
    fake->remote.key = rkey;
    fake->remote.base = base;
    fake->remote.length = length;
}

void vigil_fake_set_local(struct vigil_fake *fake, uint32_t lkey, uint64_t base, uint64_t length)
{
    fake->local.key = lkey;
    fake->local.base = base;
    fake->local.length = length;
}

void vigil_fake_fail_nth(struct vigil_fake *fake, int64_t nth, int status)
{
    fake->fail_at = nth < 0 ? -1 : fake->executed + nth;
    fake->fail_status = status;
}

void vigil_fake_hold(struct vigil_fake *fake, int hold)
{
    fake->hold = hold;
}

int64_t vigil_fake_stat(struct vigil_fake *fake, int which)
{
    if (which == VIGIL_FAKE_OUTSTANDING)
        return fake->count;
    if (which < 0 || which >= (int)(sizeof(fake->stats) / sizeof(fake->stats[0])))
        return -1;
    return fake->stats[which];
}
