/**
 * The HA core: a pure state machine {@code (state, input, now) -> (state, commands)} that decides host states
 * (connected, suspect, isolated, failed, fenced, rejoining), when a failed host's VMs may restart, where, in which
 * order, and what to retry. No threads, clocks, sockets, Hazelcast or libvirt in here: the shell
 * ({@code io.vigil.controller.runtime}) feeds it inputs and carries out its commands, and unit tests drive it on a
 * virtual clock.
 */
package io.vigil.controller.ha;
