/**
 * The agent's view of libvirt: a small {@link io.vigil.agent.libvirt.Hypervisor} interface and its libvirt-java
 * implementation. libvirt's event loop runs on one daemon thread; lifecycle events are handed off from it at once.
 * For {@code qemu:///embed?root=DIR} the adapter writes {@code DIR/etc/qemu.conf} before connecting.
 * {@link io.vigil.agent.libvirt.QemuPidFiles} maps a URI to where libvirt records its QEMU pids (for the fence watchdog).
 */
package io.vigil.agent.libvirt;
