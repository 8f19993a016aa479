/**
 * The scenario simulator behind {@code scripts/vigil simulate SCENARIO.yaml}: it reads a scenario (hosts, VMs, a
 * cluster policy and timed events such as a host failure), runs the real {@link io.vigil.controller.ha.HaCore}
 * against simulated agents on a virtual clock, and prints the outcome as one JSON document. Same file, same output:
 * no wall clock, no randomness.
 *
 * <p>What it owns:
 * <ul>
 *   <li>{@link io.vigil.controller.simulate.ScenarioParser}: the scenario format (YAML) and its validation. Every
 *       error names the line; unknown fields and actions are errors, and fields or actions of the format that the
 *       core does not support yet are refused as such, never ignored.</li>
 *   <li>{@link io.vigil.controller.simulate.SimulatedAgent}: what a host agent does that the core relies on:
 *       network and storage heartbeats, answering commands, the self-fence when it cannot write its storage
 *       heartbeat, the isolation response.</li>
 *   <li>{@link io.vigil.controller.simulate.Simulator}: the virtual clock (250 ms steps), the scenario's actions,
 *       the core's commands carried out by the agents, and the outcome
 *       ({@link io.vigil.controller.simulate.SimulationResult}).</li>
 *   <li>{@link io.vigil.controller.simulate.SimulateMain}: the command line (exit 0, or 2 for a bad scenario).</li>
 * </ul>
 *
 * <p>It makes no HA decision of its own: every decision in its output is the core's.
 */
package io.vigil.controller.simulate;
