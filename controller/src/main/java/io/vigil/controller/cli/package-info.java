/**
 * {@code scripts/vigil}'s client of the REST API: {@link io.vigil.controller.cli.VigilCli} parses the global options and
 * hands the words to one command family (hosts, vms, policy, rules, events, tokens and users, agent enrollment), which
 * makes its requests through {@link io.vigil.controller.cli.ControllerClient} and prints them with
 * {@link io.vigil.controller.cli.Output} as aligned columns or as the API's JSON. It speaks HTTPS and trusts a
 * controller only as {@link io.vigil.controller.cli.ControllerTrust} says (a CA file, a pinned CA fingerprint, the pins
 * {@code vigil trust} keeps in {@link io.vigil.controller.cli.KnownControllers}, the system's CAs). Every failure ends in a
 * {@link io.vigil.controller.cli.CliException} carrying one of the documented {@link io.vigil.controller.cli.ExitCode}s.
 * It uses no Vert.x or Hazelcast class, so that it starts in a fraction of a second.
 */
package io.vigil.controller.cli;
