/*
 * The verbs shim: flat entry points for the hot path of RDMA READ, which Java cannot call through libibverbs
 * directly because ibv_post_send and ibv_poll_cq are static inline functions in <infiniband/verbs.h> that jump
 * through the provider's function table. Everything else (devices, protection domains, registrations, queues,
 * connection management) Java calls in libibverbs and librdmacm itself.
 */
#ifndef VIGIL_VERBS_H
#define VIGIL_VERBS_H

#include <stdint.h>

#include "vigil_layout.h"

#define VIGIL_API __attribute__((visibility("default")))

struct ibv_qp;
struct ibv_cq;
struct rdma_event_channel;

/*
 * Posts n signaled RDMA READ work requests on qp: request i reads lengths[i] bytes at remote_addrs[i] (under rkey)
 * into local_addrs[i] (under lkey), with work request id wr_ids[i]. Chains up to VIGIL_POST_CHAIN requests per
 * ibv_post_send. Returns 0, or the error ibv_post_send reported (a positive errno value, e.g. ENOMEM when the send
 * queue is full); *posted is set to the number of requests the queue pair accepted either way, since those will
 * complete and the caller must wait for them.
 */
VIGIL_API int vigil_post_reads(struct ibv_qp *qp, uint32_t lkey, uint32_t rkey, int n, const uint64_t *wr_ids,
                               const uint64_t *local_addrs, const uint64_t *remote_addrs, const uint32_t *lengths,
                               int32_t *posted);

/*
 * Polls cq for up to max (at most VIGIL_POLL_MAX) completions, copying out each one's work request id, status
 * (enum ibv_wc_status) and byte count. Returns the number of completions (0 if none), or a negative value if polling
 * failed.
 */
VIGIL_API int vigil_poll(struct ibv_cq *cq, int max, uint64_t *wr_ids, int32_t *statuses, uint32_t *byte_lens);

/*
 * Waits up to timeout_ms for an event on a connection manager event channel, so that rdma_get_cm_event (called by
 * Java next) does not block. Returns 1 when an event is ready, 0 on timeout or interruption, -errno on failure.
 */
VIGIL_API int vigil_cm_wait(struct rdma_event_channel *channel, int timeout_ms);

/* The value of VIGIL_<name> in vigil_layout.h as this shim was built, or -1 for an unknown name. */
VIGIL_API long vigil_layout(const char *name);

#endif
