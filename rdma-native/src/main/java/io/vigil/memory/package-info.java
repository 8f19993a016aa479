/**
 * Remote memory: one-sided reads of another host's cache arenas, by address within a region, without that host's
 * agent taking part. {@link io.vigil.memory.RemoteMemory} is the client side with two transports ({@code verbs}:
 * RDMA READ through a C shim over libibverbs; {@code tcp}: the same semantics served by the memory keeper over TCP);
 * the memory keeper ({@code io.vigil.memory.keeper}) is the small per-host process that holds the arenas and serves
 * them to peers presenting a controller-issued {@link io.vigil.protocol.memory.RegionGrant}.
 */
package io.vigil.memory;
