package io.vigil.controller.cli;

import static io.vigil.controller.cli.ControllerClient.path;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.vigil.controller.cli.Command.Family;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** {@code policy}: the cluster HA policy. */
final class PolicyCommands {
    private PolicyCommands() {}

    static Family policy() {
        return new Family("policy", "the cluster HA policy", List.of(
                Command.of("get", "policy [get]", "the policy, every field", (args, s) -> {
                    args.atMost(0);
                    s.out().object(s.api().get(path("policy")));
                }),
                Command.of("set", "policy set KEY=VALUE ...", "change some fields (a merge patch; VALUE as in vms set,"
                        + " KEY=null resets to the default); prints the stored policy", (args, s) -> {
                    List<String> pairs = args.positionalsFrom(0);
                    if (pairs.isEmpty()) throw CliException.usage("policy set: KEY=VALUE is missing");
                    s.out().object(s.api().patch(path("policy"), Settings.parse("policy set", pairs, s.json())));
                }),
                Command.of("replace", "policy replace --file FILE", "replace the whole policy with a JSON file ('-':"
                        + " stdin); fields left out take their defaults", (args, s) -> {
                    args.atMost(0);
                    s.out().object(s.api().put(path("policy"), readJson(args.required("--file", "FILE"), s)));
                }).options("--file")));
    }

    static JsonNode readJson(String file, Session s) throws CliException {
        try {
            byte[] bytes = file.equals("-") ? s.in().readAllBytes() : Files.readAllBytes(Path.of(file));
            return s.json().readTree(bytes);
        } catch (JsonProcessingException e) {
            throw CliException.usage("policy replace: " + file + " is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw CliException.usage("policy replace: cannot read " + file + ": " + e);
        }
    }
}
