package io.vigil.controller.config;

import io.vigil.controller.ha.ClusterPolicy;
import io.vigil.protocol.IsolationResponse;
import io.vigil.protocol.ProtocolVersion;
import io.vigil.protocol.config.ConfigException;
import io.vigil.protocol.config.ConfigFiles;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The controller's configuration: a YAML file whose every field can be overridden by an environment variable with
 * the prefix {@code VIGIL_CONTROLLER_} (field {@code httpPort} is {@code VIGIL_CONTROLLER_HTTP_PORT}). Fields left out
 * take the defaults below; the policy fields seed the cluster policy only when the cluster store holds none yet
 * (after that, {@code PUT /api/v1/policy} owns it).
 *
 * <p>Numbers are boxed so that a missing field means "default" rather than 0.
 */
public record ControllerConfig(
        String name,
        String httpHost,
        Integer httpPort,
        String sharedStorage,
        Integer hazelcastPort,
        List<String> hazelcastMembers,
        String advertisedAgentUrl,
        Integer agentPort,
        String stateDir,
        String adminTokenFile,
        Integer heartbeatIntervalSeconds,
        Integer failureTimeoutSeconds,
        Integer leaseTimeoutSeconds,
        IsolationResponse isolationResponse,
        Boolean plainHttp,
        String tlsCertificateFile,
        String tlsKeyFile,
        String hazelcastInterface,
        String clusterSecretFile) {

    public static final String ENV_PREFIX = "VIGIL_CONTROLLER_";

    public ControllerConfig {
        if (name == null || name.isBlank()) name = localHostName();
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,62}"))
            throw new IllegalArgumentException("name must be 1-63 letters, digits, '.', '_' or '-', not '" + name + "'");
        if (httpHost == null || httpHost.isBlank()) httpHost = "127.0.0.1";
        if (httpPort == null) httpPort = 8080;
        if (httpPort < 0 || httpPort > 65535) throw new IllegalArgumentException("httpPort must be between 0 and 65535");
        if (sharedStorage == null || sharedStorage.isBlank())
            throw new IllegalArgumentException("sharedStorage is required: the directory where hosts write their heartbeats");
        try {
            Path.of(sharedStorage);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("sharedStorage is not a valid path: " + e.getMessage());
        }
        if (hazelcastPort == null) hazelcastPort = 5701;
        if (hazelcastPort < 1 || hazelcastPort > 65535)
            throw new IllegalArgumentException("hazelcastPort must be between 1 and 65535");
        hazelcastMembers = hazelcastMembers == null ? List.of() : List.copyOf(hazelcastMembers);
        for (String m : hazelcastMembers) {
            if (m == null || m.isBlank() || m.contains(" "))
                throw new IllegalArgumentException("hazelcastMembers entries must be host or host:port, not '" + m + "'");
        }
        if (agentPort == null) agentPort = 8443;
        if (agentPort < 0 || agentPort > 65535) throw new IllegalArgumentException("agentPort must be between 0 and 65535");
        if (stateDir == null || stateDir.isBlank()) stateDir = "/var/lib/vigil/controller";
        try {
            Path.of(stateDir);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("stateDir is not a valid path: " + e.getMessage());
        }
        if (adminTokenFile == null || adminTokenFile.isBlank()) adminTokenFile = Path.of(stateDir, "admin-token").toString();
        try {
            Path.of(adminTokenFile);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("adminTokenFile is not a valid path: " + e.getMessage());
        }
        if (advertisedAgentUrl == null || advertisedAgentUrl.isBlank()) {
            advertisedAgentUrl = "wss://" + httpHost + ":" + agentPort + ProtocolVersion.AGENT_PATH;
        }
        try {
            URI u = new URI(advertisedAgentUrl);
            if (!"wss".equals(u.getScheme()))
                throw new IllegalArgumentException("advertisedAgentUrl must be a wss:// URL (agents connect with mutual TLS), not '"
                        + advertisedAgentUrl + "'");
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("advertisedAgentUrl is not a URL: " + e.getMessage());
        }
        ClusterPolicy d = ClusterPolicy.DEFAULT;
        if (heartbeatIntervalSeconds == null) heartbeatIntervalSeconds = d.heartbeatIntervalSeconds();
        if (failureTimeoutSeconds == null) failureTimeoutSeconds = d.failureTimeoutSeconds();
        if (leaseTimeoutSeconds == null) leaseTimeoutSeconds = d.leaseTimeoutSeconds();
        if (isolationResponse == null) isolationResponse = d.isolationResponse();
        if (plainHttp == null) plainHttp = false;
        if (tlsCertificateFile != null && tlsCertificateFile.isBlank()) tlsCertificateFile = null;
        if (tlsKeyFile != null && tlsKeyFile.isBlank()) tlsKeyFile = null;
        if ((tlsCertificateFile == null) != (tlsKeyFile == null))
            throw new IllegalArgumentException("tlsCertificateFile and tlsKeyFile go together: give both or neither");
        if (plainHttp && tlsCertificateFile != null)
            throw new IllegalArgumentException("plainHttp: true serves no certificate: leave out tlsCertificateFile and "
                    + "tlsKeyFile, or plainHttp");
        if (hazelcastInterface != null && hazelcastInterface.isBlank()) hazelcastInterface = null;
        hazelcastInterface = HazelcastInterface.choose(hazelcastInterface, httpHost, hazelcastMembers);
        if (clusterSecretFile == null || clusterSecretFile.isBlank()) clusterSecretFile = Path.of(stateDir, "cluster-secret").toString();
        // ClusterPolicy's own checks name the field (heartbeatIntervalSeconds, ...), which are the config's names too.
        ClusterPolicy.timing(heartbeatIntervalSeconds, failureTimeoutSeconds, leaseTimeoutSeconds, isolationResponse);
    }

    /** Loads {@code file} (may be null) with overrides from {@code env}; a {@link ConfigException} names the bad field. */
    public static ControllerConfig load(Path file, Map<String, String> env) {
        return ConfigFiles.load(file, ControllerConfig.class, env, ENV_PREFIX);
    }

    /** The policy a brand-new cluster starts with. */
    public ClusterPolicy initialPolicy() {
        return ClusterPolicy.timing(heartbeatIntervalSeconds, failureTimeoutSeconds, leaseTimeoutSeconds, isolationResponse);
    }

    public Path sharedStoragePath() {
        return Path.of(sharedStorage);
    }

    /** Where the REST API is reachable, for people: https://, unless plainHttp says http://. */
    public String restBaseUrl(int actualPort) {
        String host = httpHost.contains(":") ? "[" + httpHost + "]" : httpHost;
        return (plainHttp ? "http" : "https") + "://" + host + ":" + actualPort + "/api/v1";
    }

    public ControllerConfig withHttpPort(int port) {
        return new ControllerConfig(name, httpHost, port, sharedStorage, hazelcastPort, hazelcastMembers,
                advertisedAgentUrl, agentPort, stateDir, adminTokenFile, heartbeatIntervalSeconds, failureTimeoutSeconds,
                leaseTimeoutSeconds, isolationResponse, plainHttp, tlsCertificateFile, tlsKeyFile, hazelcastInterface,
                clusterSecretFile);
    }

    /** The controller's own local state (its copy of the cluster's certificate authority); never on shared storage. */
    public Path stateDirPath() {
        return Path.of(stateDir);
    }

    /** Where the bootstrap admin token lives: created (0600) with a new token when missing, registered at start. */
    public Path adminTokenPath() {
        return Path.of(adminTokenFile);
    }

    private static String localHostName() {
        try {
            String host = InetAddress.getLocalHost().getHostName();
            int dot = host.indexOf('.');
            return dot > 0 ? host.substring(0, dot) : host;
        } catch (UnknownHostException e) {
            return "controller";
        }
    }
}
