/**
 * Recovery of a failed host's dirty cache blocks: before a VM of a failed host starts here, its cache arenas are
 * read from the failed host's memory keeper through {@link io.vigil.memory.RemoteMemory}, validated, and their
 * valid dirty blocks written over the disk images in sequence order, so the guest loses no write it was told had
 * completed. Layout of what is read: host-agent/ARENA.md.
 */
package io.vigil.agent.recovery;
