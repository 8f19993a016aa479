/*
 * Drives the verbs shim (libvigilverbs) against the fake provider (libvigilfakeverbs): the same ibv_post_send and
 * ibv_poll_cq inline calls a hardware provider would receive. Run by the Maven build in the test phase; exits
 * non-zero on any failed check.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "vigil_fake_verbs.h"
#include "vigil_verbs.h"

static int failures;

#define CHECK(cond, ...)                                                 \
    do {                                                                 \
        if (!(cond)) {                                                   \
            failures++;                                                  \
            fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                \
            fputc('\n', stderr);                                         \
        }                                                                \
    } while (0)

#define REMOTE_BYTES (1u << 20)
#define LOCAL_BYTES (1u << 16)
#define RKEY 0x5eed
#define LKEY 0x10ca1

struct bench {
    struct vigil_fake *fake;
    uint8_t *remote;
    uint8_t *local;
};

static struct bench bench_open(int sq_depth, int cq_bunch)
{
    struct bench b;

    b.fake = vigil_fake_open(sq_depth, cq_bunch);
    b.remote = malloc(REMOTE_BYTES);
    b.local = calloc(1, LOCAL_BYTES);
    if (!b.fake || !b.remote || !b.local) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (uint32_t i = 0; i < REMOTE_BYTES; i++)
        b.remote[i] = (uint8_t)(i * 2654435761u >> 13);
    vigil_fake_set_remote(b.fake, RKEY, (uintptr_t)b.remote, REMOTE_BYTES);
    vigil_fake_set_local(b.fake, LKEY, (uintptr_t)b.local, LOCAL_BYTES);
    return b;
}

static void bench_close(struct bench *b)
{
    vigil_fake_close(b->fake);
    free(b->remote);
    free(b->local);
}

/* Polls until n completions arrived or polling stops yielding any; returns how many arrived. */
static int poll_all(struct bench *b, int n, uint64_t *ids, int32_t *statuses, uint32_t *lens)
{
    int got = 0;
    int idle = 0;

    while (got < n && idle < 1000) {
        int k = vigil_poll(vigil_fake_cq(b->fake), n - got, ids + got, statuses + got, lens + got);
        if (k < 0)
            return k;
        idle = k == 0 ? idle + 1 : 0;
        got += k;
    }
    return got;
}

static void test_layout_is_exported(void)
{
    CHECK(vigil_layout("MR_RKEY") == VIGIL_MR_RKEY, "MR_RKEY");
    CHECK(vigil_layout("CM_EVENT_PRIVATE_DATA") == VIGIL_CM_EVENT_PRIVATE_DATA, "CM_EVENT_PRIVATE_DATA");
    CHECK(vigil_layout("POLL_MAX") == VIGIL_POLL_MAX, "POLL_MAX");
    CHECK(vigil_layout("NO_SUCH_FIELD") == -1, "unknown name");
    CHECK(vigil_layout(NULL) == -1, "NULL name");
}

static void test_random_reads_match_the_remote_region(void)
{
    enum { DEPTH = 16, ROUNDS = 200, SLOT = LOCAL_BYTES / DEPTH };
    struct bench b = bench_open(DEPTH, 5);
    uint64_t ids[DEPTH], local[DEPTH], remote[DEPTH], got_ids[DEPTH];
    uint32_t lengths[DEPTH], lens[DEPTH];
    int32_t statuses[DEPTH], posted;
    srand(7);

    for (int round = 0; round < ROUNDS; round++) {
        int n = 1 + rand() % DEPTH;
        for (int i = 0; i < n; i++) {
            lengths[i] = 1 + (uint32_t)rand() % SLOT;
            ids[i] = (uint64_t)round * 1000 + (uint64_t)i;
            local[i] = (uintptr_t)(b.local + i * SLOT);
            remote[i] = (uintptr_t)b.remote + (uint64_t)rand() % (REMOTE_BYTES - lengths[i] + 1);
        }
        CHECK(vigil_post_reads(vigil_fake_qp(b.fake), LKEY, RKEY, n, ids, local, remote, lengths, &posted) == 0,
              "round %d", round);
        CHECK(posted == n, "posted %d of %d", posted, n);
        CHECK(poll_all(&b, n, got_ids, statuses, lens) == n, "round %d: completions", round);
        for (int i = 0; i < n; i++) {
            CHECK(got_ids[i] == ids[i], "wr_id %" PRIu64 " != %" PRIu64, got_ids[i], ids[i]);
            CHECK(statuses[i] == IBV_WC_SUCCESS, "status %d", statuses[i]);
            CHECK(lens[i] == lengths[i], "byte_len %u != %u", lens[i], lengths[i]);
            CHECK(memcmp((void *)(uintptr_t)local[i], (void *)(uintptr_t)remote[i], lengths[i]) == 0,
                  "round %d read %d: bytes differ", round, i);
        }
    }
    bench_close(&b);
}

static void test_data_lands_only_with_its_completion(void)
{
    struct bench b = bench_open(4, 1);
    uint64_t id = 1, local = (uintptr_t)b.local, remote = (uintptr_t)b.remote + 4096, got;
    uint32_t length = 512, len;
    int32_t status, posted;

    CHECK(vigil_post_reads(vigil_fake_qp(b.fake), LKEY, RKEY, 1, &id, &local, &remote, &length, &posted) == 0, "post");
    CHECK(b.local[0] == 0 && b.local[511] == 0, "the fake wrote before the completion");
    CHECK(poll_all(&b, 1, &got, &status, &len) == 1 && status == IBV_WC_SUCCESS, "completion");
    CHECK(memcmp(b.local, b.remote + 4096, 512) == 0, "bytes after the completion");
    bench_close(&b);
}

static void test_long_lists_are_chained_in_several_posts(void)
{
    enum { N = 150 };
    struct bench b = bench_open(N, 64);
    uint64_t ids[N], local[N], remote[N], got_ids[N];
    uint32_t lengths[N], lens[N];
    int32_t statuses[N], posted;

    for (int i = 0; i < N; i++) {
        ids[i] = (uint64_t)i;
        lengths[i] = 64;
        local[i] = (uintptr_t)(b.local + i * 64);
        remote[i] = (uintptr_t)(b.remote + i * 640);
    }
    CHECK(vigil_post_reads(vigil_fake_qp(b.fake), LKEY, RKEY, N, ids, local, remote, lengths, &posted) == 0, "post");
    CHECK(posted == N, "posted %d", posted);
    CHECK(vigil_fake_stat(b.fake, VIGIL_FAKE_POST_CALLS) == (N + VIGIL_POST_CHAIN - 1) / VIGIL_POST_CHAIN,
          "post_send calls %" PRId64, vigil_fake_stat(b.fake, VIGIL_FAKE_POST_CALLS));
    CHECK(poll_all(&b, N, got_ids, statuses, lens) == N, "completions");
    for (int i = 0; i < N; i++)
        CHECK(got_ids[i] == (uint64_t)i && statuses[i] == IBV_WC_SUCCESS, "completion %d", i);
    CHECK(memcmp(b.local + 149 * 64, b.remote + 149 * 640, 64) == 0, "last read");
    bench_close(&b);
}

static void test_a_full_send_queue_reports_what_was_accepted(void)
{
    struct bench b = bench_open(4, 64);
    uint64_t ids[6] = {0, 1, 2, 3, 4, 5}, local[6], remote[6], got_ids[6];
    uint32_t lengths[6], lens[6];
    int32_t statuses[6], posted = -1;

    for (int i = 0; i < 6; i++) {
        lengths[i] = 100;
        local[i] = (uintptr_t)(b.local + i * 100);
        remote[i] = (uintptr_t)(b.remote + i * 100);
    }
    CHECK(vigil_post_reads(vigil_fake_qp(b.fake), LKEY, RKEY, 6, ids, local, remote, lengths, &posted) == ENOMEM,
          "ENOMEM");
    CHECK(posted == 4, "posted %d", posted);
    CHECK(poll_all(&b, 6, got_ids, statuses, lens) == 4, "only the accepted requests complete");
    bench_close(&b);
}

static void test_reads_outside_the_region_fail_and_flush_the_rest(void)
{
    struct bench b = bench_open(8, 64);
    uint64_t ids[3] = {10, 11, 12}, got_ids[3];
    uint64_t local[3] = {(uintptr_t)b.local, (uintptr_t)b.local + 100, (uintptr_t)b.local + 200};
    uint64_t remote[3] = {(uintptr_t)b.remote, (uintptr_t)b.remote + REMOTE_BYTES - 50, (uintptr_t)b.remote};
    uint32_t lengths[3] = {100, 100, 100}, lens[3];
    int32_t statuses[3], posted;

    CHECK(vigil_post_reads(vigil_fake_qp(b.fake), LKEY, RKEY, 3, ids, local, remote, lengths, &posted) == 0, "post");
    CHECK(poll_all(&b, 3, got_ids, statuses, lens) == 3, "completions");
    CHECK(statuses[0] == IBV_WC_SUCCESS, "inside: %d", statuses[0]);
    CHECK(statuses[1] == IBV_WC_REM_ACCESS_ERR, "past the end: %d", statuses[1]);
    CHECK(statuses[2] == IBV_WC_WR_FLUSH_ERR, "after the error: %d", statuses[2]);
    bench_close(&b);
}

static void test_a_wrong_rkey_is_a_remote_access_error(void)
{
    struct bench b = bench_open(8, 64);
    uint64_t id = 1, local = (uintptr_t)b.local, remote = (uintptr_t)b.remote, got;
    uint32_t length = 8, len;
    int32_t status, posted;

    CHECK(vigil_post_reads(vigil_fake_qp(b.fake), LKEY, RKEY + 1, 1, &id, &local, &remote, &length, &posted) == 0,
          "post");
    CHECK(poll_all(&b, 1, &got, &status, &len) == 1 && status == IBV_WC_REM_ACCESS_ERR, "status %d", status);
    bench_close(&b);
}

static void test_completions_come_in_bunches(void)
{
    enum { N = 10 };
    struct bench b = bench_open(N, 3);
    uint64_t ids[N], local[N], remote[N], got_ids[VIGIL_POLL_MAX];
    uint32_t lengths[N], lens[VIGIL_POLL_MAX];
    int32_t statuses[VIGIL_POLL_MAX], posted;
    int sizes[5], calls = 0, k;

    for (int i = 0; i < N; i++) {
        ids[i] = (uint64_t)i;
        lengths[i] = 16;
        local[i] = (uintptr_t)(b.local + i * 16);
        remote[i] = (uintptr_t)(b.remote + i * 16);
    }
    CHECK(vigil_post_reads(vigil_fake_qp(b.fake), LKEY, RKEY, N, ids, local, remote, lengths, &posted) == 0, "post");
    while (calls < 5 && (k = vigil_poll(vigil_fake_cq(b.fake), 1000, got_ids, statuses, lens)) > 0)
        sizes[calls++] = k;
    CHECK(calls == 4 && sizes[0] == 3 && sizes[1] == 3 && sizes[2] == 3 && sizes[3] == 1, "%d polls", calls);
    bench_close(&b);
}

static void test_bad_arguments_are_refused(void)
{
    uint64_t id = 0;
    uint32_t len = 0;
    int32_t status = 0, posted = 7;
    struct bench b = bench_open(2, 1);

    CHECK(vigil_post_reads(NULL, 0, 0, 1, &id, &id, &id, &len, &posted) == EINVAL && posted == 0, "NULL qp");
    CHECK(vigil_post_reads(vigil_fake_qp(b.fake), 0, 0, -1, &id, &id, &id, &len, &posted) == EINVAL, "n < 0");
    CHECK(vigil_post_reads(vigil_fake_qp(b.fake), 0, 0, 0, NULL, NULL, NULL, NULL, &posted) == 0 && posted == 0,
          "nothing to post");
    CHECK(vigil_poll(NULL, 1, &id, &status, &len) < 0, "NULL cq");
    CHECK(vigil_poll(vigil_fake_cq(b.fake), 0, &id, &status, &len) < 0, "max 0");
    bench_close(&b);
}

static void test_cm_wait_reports_a_ready_channel(void)
{
    struct rdma_event_channel channel;
    int fds[2];

    if (pipe(fds) != 0) {
        CHECK(0, "pipe: %s", strerror(errno));
        return;
    }
    channel.fd = fds[0];
    CHECK(vigil_cm_wait(&channel, 10) == 0, "nothing ready");
    CHECK(write(fds[1], "x", 1) == 1, "write");
    CHECK(vigil_cm_wait(&channel, 1000) == 1, "ready");
    close(fds[0]);
    close(fds[1]);
    CHECK(vigil_cm_wait(NULL, 0) == -EINVAL, "NULL channel");
}

int main(void)
{
    test_layout_is_exported();
    test_random_reads_match_the_remote_region();
    test_data_lands_only_with_its_completion();
    test_long_lists_are_chained_in_several_posts();
    test_a_full_send_queue_reports_what_was_accepted();
    test_reads_outside_the_region_fail_and_flush_the_rest();
    test_a_wrong_rkey_is_a_remote_access_error();
    test_completions_come_in_bunches();
    test_bad_arguments_are_refused();
    test_cm_wait_reports_a_ready_channel();
    if (failures) {
        fprintf(stderr, "vigil_verbs_test: %d check(s) failed\n", failures);
        return 1;
    }
    printf("vigil_verbs_test: all checks passed\n");
    return 0;
}
