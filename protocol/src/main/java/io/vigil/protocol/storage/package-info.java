/**
 * Records on shared storage that more than one party reads: the host heartbeats (each host's delta lease, the
 * indirect liveness signal) and the layout of the shared directory. Writers replace files atomically (write a
 * temporary file, fsync, rename), and every record carries a CRC so that a torn or foreign file is rejected rather
 * than believed.
 */
package io.vigil.protocol.storage;
