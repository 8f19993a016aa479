/**
 * A Vigil cluster of real processes on this machine, for end-to-end tests and the failover benchmark: one or more
 * controllers (each can be killed, frozen, stopped and restarted by name), host agents each on its own embedded QEMU
 * root, shared storage in a folder, and independent observers of what really runs ({@link io.vigil.e2e.QemuCensus}
 * reads /proc, not Vigil's own reports).
 */
package io.vigil.e2e;
