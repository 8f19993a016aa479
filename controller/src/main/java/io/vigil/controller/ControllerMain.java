package io.vigil.controller;

import io.vigil.controller.config.ControllerConfig;
import io.vigil.protocol.config.ConfigException;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/** Command line entry point: {@code vigil-controller [--config FILE]}. Stops cleanly on SIGTERM/SIGINT. */
public final class ControllerMain {
    private static final String USAGE = """
            Usage: vigil-controller [--config FILE] [--help]

            Runs a Vigil controller: the REST API (/api/v1), the agent gateway (/agent/v1) and the HA core.
            Configuration is YAML; every field can be overridden by an environment variable VIGIL_CONTROLLER_<FIELD>
            (camelCase becomes UPPER_SNAKE, lists are comma-separated):

              name                      member name (default: the host name)
              httpHost, httpPort        REST API and dashboard address (default 127.0.0.1:8080), HTTPS with a
                                        certificate from the cluster CA (STATEDIR/ca/ca.crt) for this controller
              tlsCertificateFile, tlsKeyFile
                                        the REST API's certificate chain and key instead (PEM; both or neither)
              plainHttp                 true: plain HTTP instead of HTTPS (default false; loopback only, please)
              agentPort                 agent gateway port, mutual TLS (default 8443)
              stateDir                  local state: the certificate authority (default /var/lib/vigil/controller)
              adminTokenFile            bootstrap admin token, created when missing (default STATEDIR/admin-token)
              sharedStorage             shared storage directory holding hosts/<host>.heartbeat (required)
              hazelcastPort             cluster store port (default 5701)
              hazelcastMembers          other controllers, host:port (default none: a cluster of one)
              hazelcastInterface        the one IP address the cluster store listens on (default: 127.0.0.1
                                        without members, else httpHost when it is an IP address)
              clusterSecretFile         the controller cluster's shared secret, 0600, made when missing; copy it
                                        to every other controller (default STATEDIR/cluster-secret)
              advertisedAgentUrl        URL agents dial (default wss://httpHost:agentPort/agent/v1)
              heartbeatIntervalSeconds, failureTimeoutSeconds, leaseTimeoutSeconds, isolationResponse
                                        the initial cluster policy (default 1, 3, 4, none); after first start
                                        the cluster's stored policy wins (PUT /api/v1/policy changes it)
            """;

    private ControllerMain() {}

    public static void main(String[] args) {
        Path configFile = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--help", "-h" -> {
                    System.out.print(USAGE);
                    return;
                }
                case "--config" -> {
                    if (i + 1 >= args.length) fail(2, "--config needs a file name");
                    configFile = Path.of(args[++i]);
                }
                default -> fail(2, "unknown argument '" + args[i] + "'\n\n" + USAGE);
            }
        }
        ControllerConfig config;
        try {
            config = ControllerConfig.load(configFile, System.getenv());
        } catch (ConfigException e) {
            fail(2, "configuration error: " + e.getMessage());
            return;
        }
        Controller controller;
        try {
            controller = Controller.start(config);
        } catch (Exception e) {
            fail(1, "controller failed to start: " + e);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            controller.close();
            stopped.countDown();
        }, "vigil-shutdown"));
        System.out.println("Vigil controller " + config.name() + " REST API: " + controller.restBaseUrl());
        if (controller.restCertificate() == null) {
            System.out.println("Plain HTTP (plainHttp: true): API tokens and passwords cross the network unencrypted");
        } else if (config.tlsCertificateFile() != null) {
            System.out.println("HTTPS with the certificate of tlsCertificateFile " + config.tlsCertificateFile() + " ("
                    + controller.restCertificate().getSubjectX500Principal().getName() + ")");
        } else {
            System.out.println("HTTPS with a certificate from the cluster CA: clients trust "
                    + config.stateDirPath().resolve("ca").resolve("ca.crt") + " (vigil --ca-file) or pin its fingerprint"
                    + " (vigil trust)");
        }
        System.out.println("Agents connect to: " + controller.agentUrl());
        System.out.println("Cluster CA fingerprint (SHA-256): " + controller.certificates().authority().fingerprint()
                + " (join tokens: POST /api/v1/join-tokens)");
        System.out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void fail(int status, String message) {
        System.err.println(message);
        System.exit(status);
    }
}
