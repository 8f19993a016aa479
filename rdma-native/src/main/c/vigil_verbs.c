#include "vigil_verbs.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

int vigil_post_reads(struct ibv_qp *qp, uint32_t lkey, uint32_t rkey, int n, const uint64_t *wr_ids,
                     const uint64_t *local_addrs, const uint64_t *remote_addrs, const uint32_t *lengths,
                     int32_t *posted)
{
    struct ibv_send_wr wrs[VIGIL_POST_CHAIN];
    struct ibv_sge sges[VIGIL_POST_CHAIN];
    int done = 0;

    if (posted)
        *posted = 0;
    if (!qp || !posted || n < 0 || (n > 0 && (!wr_ids || !local_addrs || !remote_addrs || !lengths)))
        return EINVAL;

    while (done < n) {
        int batch = n - done < VIGIL_POST_CHAIN ? n - done : VIGIL_POST_CHAIN;
        struct ibv_send_wr *bad = NULL;
        int rc;

        memset(wrs, 0, sizeof(wrs[0]) * (size_t)batch);
        for (int i = 0; i < batch; i++) {
            int k = done + i;
            sges[i].addr = local_addrs[k];
            sges[i].length = lengths[k];
            sges[i].lkey = lkey;
            wrs[i].wr_id = wr_ids[k];
            wrs[i].next = i + 1 < batch ? &wrs[i + 1] : NULL;
            wrs[i].sg_list = &sges[i];
            wrs[i].num_sge = 1;
            wrs[i].opcode = IBV_WR_RDMA_READ;
            /* Every request is signaled: the caller frees a bounce slot per completion. */
            wrs[i].send_flags = IBV_SEND_SIGNALED;
            wrs[i].wr.rdma.remote_addr = remote_addrs[k];
            wrs[i].wr.rdma.rkey = rkey;
        }
        rc = ibv_post_send(qp, wrs, &bad);
        if (rc) {
            /* Requests before bad_wr were accepted and will complete. */
            if (bad >= wrs && bad < wrs + batch)
                done += (int)(bad - wrs);
            *posted = done;
            return rc < 0 ? -rc : rc;
        }
        done += batch;
    }
    *posted = done;
    return 0;
}

int vigil_poll(struct ibv_cq *cq, int max, uint64_t *wr_ids, int32_t *statuses, uint32_t *byte_lens)
{
    struct ibv_wc wc[VIGIL_POLL_MAX];
    int n;

    if (!cq || !wr_ids || !statuses || !byte_lens || max <= 0)
        return -EINVAL;
    if (max > VIGIL_POLL_MAX)
        max = VIGIL_POLL_MAX;
    n = ibv_poll_cq(cq, max, wc);
    if (n < 0)
        return n;
    for (int i = 0; i < n; i++) {
        wr_ids[i] = wc[i].wr_id;
        statuses[i] = (int32_t)wc[i].status;
        byte_lens[i] = wc[i].byte_len;
    }
    return n;
}

int vigil_cm_wait(struct rdma_event_channel *channel, int timeout_ms)
{
    struct pollfd pfd;
    int rc;

    if (!channel)
        return -EINVAL;
    pfd.fd = channel->fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    rc = poll(&pfd, 1, timeout_ms);
    if (rc < 0)
        return errno == EINTR ? 0 : -errno;
    if (rc == 0)
        return 0;
    if (pfd.revents & (POLLERR | POLLNVAL))
        return -EIO;
    return 1;
}
