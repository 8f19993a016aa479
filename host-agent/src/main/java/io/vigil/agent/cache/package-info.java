/**
 * The write-back block cache in front of each VM disk image ({@link io.vigil.agent.cache.BlockCache}), held in a
 * shared-memory arena per disk whose fixed, versioned layout (host-agent/ARENA.md) lets a re-attaching agent or a
 * remote host recover acknowledged writes without this agent ({@link io.vigil.agent.cache.ArenaReader}).
 *
 * <p>What it owns: the arena file (create, grow, shrink, delete), the dirty table and its crash-safe write order,
 * write-back in flush-epoch order with a bounded dirty fraction, S3-FIFO replacement, and re-attach after an agent
 * crash. What it does not: serving NBD ({@code io.vigil.agent.nbd}), sizing caches (the controller's reserve
 * budgets), or reading a failed host's arena over the network (recovery reuses {@code ArenaReader} for that).
 */
package io.vigil.agent.cache;
