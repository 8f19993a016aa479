/**
 * The TCP transport of remote memory ({@link io.vigil.memory.tcp.TcpRemoteMemory}): reads a peer's arenas from its
 * memory keeper's TCP port with pipelined requests, and asks the keeper for RDMA tickets for the verbs transport.
 */
package io.vigil.memory.tcp;
