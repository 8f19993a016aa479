/**
 * The memory keeper: the per-host process that holds the host's cache arenas and serves reads of them to peers
 * presenting a controller-issued {@link io.vigil.protocol.memory.RegionGrant} ({@link io.vigil.memory.keeper.MemoryKeeper},
 * run by {@link io.vigil.memory.keeper.MemoryKeeperMain}), its wire protocol ({@link io.vigil.memory.keeper.KeeperProtocol},
 * rdma-native/README.md) and its files ({@link io.vigil.memory.keeper.MemoryKeeperFiles}: the grant key and the endpoint
 * the agent reports).
 */
package io.vigil.memory.keeper;
