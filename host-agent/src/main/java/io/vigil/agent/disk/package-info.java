/**
 * What a VM disk is to the agent: a {@link io.vigil.agent.disk.BlockDevice}, served over NBD by
 * {@code io.vigil.agent.nbd} and implemented by the raw image file on shared storage
 * ({@link io.vigil.agent.disk.FileImage}) and by the write-back block cache in front of it ({@code io.vigil.agent.cache}).
 */
package io.vigil.agent.disk;
