/*
 * A fake verbs provider for tests on machines without an RDMA device: a struct ibv_context whose ops.post_send and
 * ops.poll_cq are the functions below, with a queue pair and a completion queue pointing at it, so that the shim's
 * ibv_post_send / ibv_poll_cq calls land here exactly as they would in a hardware provider.
 *
 * An RDMA READ reads from a "remote" region of this process's memory registered with an rkey into a "local" region
 * registered with an lkey. Like hardware, the copy is done when the request executes, which here is when poll_cq
 * hands out its completion, so data read before its completion was polled is stale. Accesses outside the remote
 * region or with a wrong rkey complete with IBV_WC_REM_ACCESS_ERR, outside the local region with
 * IBV_WC_LOC_PROT_ERR; after any error the queue pair is in the error state and every later request completes with
 * IBV_WC_WR_FLUSH_ERR. Posting beyond the send queue depth fails with ENOMEM, as on hardware.
 */
#ifndef VIGIL_FAKE_VERBS_H
#define VIGIL_FAKE_VERBS_H

#include <stdint.h>

#define VIGIL_FAKE_API __attribute__((visibility("default")))

struct vigil_fake;
struct ibv_qp;
struct ibv_cq;

/* What vigil_fake_stat reports. */
enum vigil_fake_stat {
    VIGIL_FAKE_POSTED = 0,          /* work requests accepted */
    VIGIL_FAKE_POST_CALLS = 1,      /* post_send calls */
    VIGIL_FAKE_MAX_OUTSTANDING = 2, /* most requests posted and not yet polled at once */
    VIGIL_FAKE_MAX_LENGTH = 3,      /* longest request, in bytes */
    VIGIL_FAKE_POLL_CALLS = 4,      /* poll_cq calls */
    VIGIL_FAKE_OUTSTANDING = 5,     /* requests posted and not yet polled now */
    VIGIL_FAKE_FULL_POSTS = 6,      /* post_send calls refused with ENOMEM (send queue full) */
};

/* A fake device with one queue pair of send queue depth sq_depth whose poll_cq returns at most cq_bunch completions
 * per call. NULL on bad arguments or no memory. */
VIGIL_FAKE_API struct vigil_fake *vigil_fake_open(int sq_depth, int cq_bunch);
VIGIL_FAKE_API void vigil_fake_close(struct vigil_fake *fake);
VIGIL_FAKE_API struct ibv_qp *vigil_fake_qp(struct vigil_fake *fake);
VIGIL_FAKE_API struct ibv_cq *vigil_fake_cq(struct vigil_fake *fake);

/* The region RDMA READs may read (the keeper's registered arena). */
VIGIL_FAKE_API void vigil_fake_set_remote(struct vigil_fake *fake, uint32_t rkey, uint64_t base, uint64_t length);
/* The region RDMA READs may write (the reader's registered bounce buffer). */
VIGIL_FAKE_API void vigil_fake_set_local(struct vigil_fake *fake, uint32_t lkey, uint64_t base, uint64_t length);
/* The nth request executed from now (0: the next) completes with status (and the queue pair enters the error
 * state); a negative nth cancels. */
VIGIL_FAKE_API void vigil_fake_fail_nth(struct vigil_fake *fake, int64_t nth, int status);
/* While hold is non-zero, poll_cq returns nothing (a peer that stopped answering). */
VIGIL_FAKE_API void vigil_fake_hold(struct vigil_fake *fake, int hold);
VIGIL_FAKE_API int64_t vigil_fake_stat(struct vigil_fake *fake, int which);

#endif
