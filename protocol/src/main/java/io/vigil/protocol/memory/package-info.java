/**
 * The wire contract of remote memory: where a host's memory keeper listens ({@link MemoryKeeperEndpoint}), the
 * credential the controller issues for reading a VM's cache arenas on a failed host ({@link RegionGrant}), how
 * regions are named ({@link Regions}), what a StartVm asks to recover ({@link RecoverySource}) and what the
 * recovering agent reports back ({@link RecoveryReport}).
 */
package io.vigil.protocol.memory;
