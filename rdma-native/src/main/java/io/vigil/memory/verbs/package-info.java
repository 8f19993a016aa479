/**
 * The verbs transport of remote memory: RDMA READ of a keeper's registered arena by address and remote key.
 * {@link io.vigil.memory.verbs.VerbsRemoteMemory} is the reading side (a ticket from the keeper, then a librdmacm
 * connection carrying it, then pipelined RDMA READs), {@link io.vigil.memory.verbs.VerbsKeeperExporter} the keeper's
 * side (registers arenas, issues one-time tickets, admits only connections bearing one), and
 * {@link io.vigil.memory.verbs.RdmaDevices} says whether this host can use either. The control path calls libibverbs
 * and librdmacm through JNA; the hot path goes through the small C shim in {@code src/main/c}, since
 * {@code ibv_post_send} and {@code ibv_poll_cq} are inline functions. See the module README.
 */
package io.vigil.memory.verbs;
