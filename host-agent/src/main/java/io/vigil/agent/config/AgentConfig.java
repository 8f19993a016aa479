package io.vigil.agent.config;

import io.vigil.protocol.storage.LeaseTiming;

import io.vigil.protocol.config.ConfigFiles;
import io.vigil.protocol.tls.JoinToken;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The host agent's configuration: a YAML file bound by {@link ConfigFiles}, every field overridable from the
 * environment with the prefix {@value #ENV_PREFIX} (e.g. {@code VIGIL_AGENT_LIBVIRT_URI}).
 *
 * @param host                        this host's name in the cluster; also its heartbeat file name on shared storage
 * @param controllers                 WebSocket URLs of the controllers' agent endpoint ({@code ws://host:port/agent/v1})
 * @param libvirtUri                  libvirt connection URI; {@code qemu:///embed?root=DIR} gets its qemu.conf written
 * @param sharedStorage               the shared directory (NFS or cluster file system) holding heartbeats and leases
 * @param stateDir                    a local directory for the agent's restart state (never on shared storage)
 * @param memoryMiB                   memory to advertise; 0 = what libvirt reports for the node
 * @param cpus                        CPUs to advertise; 0 = what libvirt reports for the node
 * @param heartbeatIntervalMillis     heartbeat period until the controller's policy arrives
 * @param leaseTimeoutMillis          lease timeout until the controller's policy arrives
 * @param failureTimeoutMillis        how long the controller link may be down (while the control plane is alive) before
 *                                    the host counts as isolated, until a controller's policy names its own
 * @param isolationShutdownTimeoutMillis how long an isolation "shutdown" waits for a guest before destroying it
 * @param fenceWatchdog               start and keep alive the fence watchdog process, which kills the HA VMs when the
 *                                    agent dies and misses its fence deadline (false: you run your own, reading
 *                                    {@code stateDir/fence-deadline.json}, which is written either way)
 * @param shutdownMode                how a SIGTERM is told apart: {@code auto} (a host shutdown when systemd is
 *                                    stopping the system or {@code stateDir/host-shutdown} exists, else an agent
 *                                    restart) or {@code host} (every stop of this agent is a host shutdown)
 * @param hostShutdownTimeoutSeconds  on a host shutdown, how long the agent waits for the controller to clear the host
 * @param hostShutdownVmStopTimeoutSeconds on a host shutdown, how long a VM still running afterwards gets to shut down
 *                                    (ACPI) before it is destroyed
 * @param diskCache                   serve VMs' raw image disks over NBD through the write-back cache (false: QEMU
 *                                    opens the images itself)
 * @param nbdSocketDir                the folder of the NBD server's UNIX sockets, one per VM ({@code VM.sock}), each owned by
 *                                    the account QEMU runs as; QEMU's account must be able to search every folder
 *                                    on the way (at most 85 bytes)
 * @param cacheDir                    where the cache arenas (shared-memory files) live: a tmpfs, never shared storage;
 *                                    the host's memory keeper serves this directory
 * @param memoryKeeperDir             the memory keeper's state directory, where it writes {@code keeper.json} (its
 *                                    endpoint and grant key, reported to the controller); no file: no keeper
 * @param cacheFlushIntervalMillis    the disk caches' flush interval: dirty blocks are written back once the oldest has
 *                                    waited this long (sooner under pressure); what a host failure with its memory
 *                                    unreachable can lose. 0: at once
 * @param remoteMemory                how this host reads a failed host's arenas: {@code auto} (RDMA verbs where a
 *                                    device exists, else tcp), {@code tcp} or {@code verbs}
 * @param joinToken                   the one-time join token the controller printed ({@code vj1....}); used once, to
 *                                    enroll when {@code tlsDir} holds no certificate and a controller URL is wss://
 * @param tlsDir                      the agent's TLS credentials: {@code agent.key} (0600), {@code agent.crt} and
 *                                    {@code ca.crt}, written by enrollment; delete it to enroll again
 */
public record AgentConfig(
        String host,
        List<String> controllers,
        String libvirtUri,
        Path sharedStorage,
        Path stateDir,
        Long memoryMiB,
        Integer cpus,
        Long heartbeatIntervalMillis,
        Long leaseTimeoutMillis,
        Long failureTimeoutMillis,
        Long isolationShutdownTimeoutMillis,
        Boolean fenceWatchdog,
        String shutdownMode,
        Long hostShutdownTimeoutSeconds,
        Long hostShutdownVmStopTimeoutSeconds,
        Boolean diskCache,
        Path nbdSocketDir,
        Path cacheDir,
        Path memoryKeeperDir,
        Long cacheFlushIntervalMillis,
        String remoteMemory,
        String joinToken,
        Path tlsDir) {

    public static final String ENV_PREFIX = "VIGIL_AGENT_";
    public static final String SHUTDOWN_AUTO = "auto";
    public static final String SHUTDOWN_HOST = "host";
    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

    public AgentConfig {
        if (host == null || host.isBlank()) throw new IllegalArgumentException("host is required (this host's name)");
        if (!HOST_NAME.matcher(host).matches())
            throw new IllegalArgumentException("host must be letters, digits, '.', '_' or '-' (at most 63), not '" + host + "'");
        controllers = controllers == null ? List.of() : List.copyOf(controllers);
        if (controllers.isEmpty())
            throw new IllegalArgumentException("controllers must list at least one controller URL (ws://HOST:PORT/agent/v1)");
        for (String url : controllers) {
            URI uri;
            try {
                uri = new URI(url);
            } catch (Exception e) {
                throw new IllegalArgumentException("controllers: '" + url + "' is not a URL");
            }
            if (!"ws".equals(uri.getScheme()) && !"wss".equals(uri.getScheme()) || uri.getHost() == null)
                throw new IllegalArgumentException("controllers: '" + url + "' must be a ws:// or wss:// URL with a host");
        }
        if (libvirtUri == null || libvirtUri.isBlank()) libvirtUri = "qemu:///system";
        if (!libvirtUri.contains(":"))
            throw new IllegalArgumentException("libvirtUri must be a libvirt URI such as qemu:///system, not '" + libvirtUri + "'");
        if (sharedStorage == null) throw new IllegalArgumentException("sharedStorage is required (the shared directory)");
        if (stateDir == null) stateDir = Path.of("/var/lib/vigil/agent");
        if (memoryMiB == null) memoryMiB = 0L;
        if (memoryMiB < 0) throw new IllegalArgumentException("memoryMiB must be 0 (from libvirt) or positive");
        if (cpus == null) cpus = 0;
        if (cpus < 0) throw new IllegalArgumentException("cpus must be 0 (from libvirt) or positive");
        if (heartbeatIntervalMillis == null) heartbeatIntervalMillis = 1000L;
        if (heartbeatIntervalMillis < 50 || heartbeatIntervalMillis > 60_000)
            throw new IllegalArgumentException("heartbeatIntervalMillis must be between 50 and 60000");
        if (leaseTimeoutMillis == null) leaseTimeoutMillis = 4000L;
        if (leaseTimeoutMillis < 3 * heartbeatIntervalMillis)
            throw new IllegalArgumentException("leaseTimeoutMillis must be at least three heartbeatIntervalMillis");
        if (LeaseTiming.fenceDeadlineMillis(leaseTimeoutMillis) <= heartbeatIntervalMillis)
            throw new IllegalArgumentException("leaseTimeoutMillis too short: the self-fence deadline (0.75 x timeout - 500 ms) "
                    + "must exceed heartbeatIntervalMillis");
        if (failureTimeoutMillis == null) failureTimeoutMillis = 3000L;
        if (failureTimeoutMillis < heartbeatIntervalMillis)
            throw new IllegalArgumentException("failureTimeoutMillis must be at least heartbeatIntervalMillis");
        if (isolationShutdownTimeoutMillis == null) isolationShutdownTimeoutMillis = 30_000L;
        if (isolationShutdownTimeoutMillis < 0) throw new IllegalArgumentException("isolationShutdownTimeoutMillis must not be negative");
        if (fenceWatchdog == null) fenceWatchdog = true;
        if (shutdownMode == null || shutdownMode.isBlank()) shutdownMode = SHUTDOWN_AUTO;
        if (!shutdownMode.equals(SHUTDOWN_AUTO) && !shutdownMode.equals(SHUTDOWN_HOST))
            throw new IllegalArgumentException("shutdownMode must be 'auto' or 'host', not '" + shutdownMode + "'");
        if (hostShutdownTimeoutSeconds == null) hostShutdownTimeoutSeconds = 120L;
        if (hostShutdownTimeoutSeconds < 0) throw new IllegalArgumentException("hostShutdownTimeoutSeconds must not be negative");
        if (hostShutdownVmStopTimeoutSeconds == null) hostShutdownVmStopTimeoutSeconds = 30L;
        if (hostShutdownVmStopTimeoutSeconds < 0)
            throw new IllegalArgumentException("hostShutdownVmStopTimeoutSeconds must not be negative");
        if (diskCache == null) diskCache = true;
        // Not under stateDir, which holds the agent's keys and is the agent's alone (0700): QEMU must reach its socket.
        if (nbdSocketDir == null) nbdSocketDir = Path.of("/run/vigil/nbd");
        // a VM's socket is DIR/NAME.sock, or DIR/vm-<16 hex digits>.sock for a long name: 107 bytes at most
        if (nbdSocketDir.toAbsolutePath().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 85)
            throw new IllegalArgumentException("nbdSocketDir must be a path of at most 85 bytes (it holds UNIX sockets), "
                    + "not " + nbdSocketDir.toAbsolutePath());
        if (cacheDir == null) cacheDir = Path.of("/dev/shm/vigil-" + host);
        if (memoryKeeperDir == null) memoryKeeperDir = stateDir.resolve("keeper");
        if (cacheFlushIntervalMillis == null) cacheFlushIntervalMillis = 5000L;
        if (cacheFlushIntervalMillis < 0 || cacheFlushIntervalMillis > 600_000)
            throw new IllegalArgumentException("cacheFlushIntervalMillis must be 0 to 600000, not " + cacheFlushIntervalMillis);
        if (remoteMemory == null || remoteMemory.isBlank()) remoteMemory = "auto";
        if (!List.of("auto", "tcp", "verbs").contains(remoteMemory))
            throw new IllegalArgumentException("remoteMemory must be auto, tcp or verbs, not '" + remoteMemory + "'");
        if (joinToken != null && joinToken.isBlank()) joinToken = null;
        if (joinToken != null) {
            try {
                JoinToken.parse(joinToken);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("joinToken is not a join token: " + e.getMessage());
            }
            joinToken = joinToken.strip();
        }
        if (tlsDir == null) tlsDir = stateDir.resolve("tls");
    }

    /** As the full constructor, without a join token and with the TLS credentials in {@code stateDir/tls}. */
    public AgentConfig(String host, List<String> controllers, String libvirtUri, Path sharedStorage, Path stateDir,
            Long memoryMiB, Integer cpus, Long heartbeatIntervalMillis, Long leaseTimeoutMillis, Long failureTimeoutMillis,
            Long isolationShutdownTimeoutMillis, Boolean fenceWatchdog, String shutdownMode,
            Long hostShutdownTimeoutSeconds, Long hostShutdownVmStopTimeoutSeconds, Boolean diskCache, Path nbdSocketDir,
            Path cacheDir, Path memoryKeeperDir, Long cacheFlushIntervalMillis, String remoteMemory) {
        this(host, controllers, libvirtUri, sharedStorage, stateDir, memoryMiB, cpus, heartbeatIntervalMillis,
                leaseTimeoutMillis, failureTimeoutMillis, isolationShutdownTimeoutMillis, fenceWatchdog, shutdownMode,
                hostShutdownTimeoutSeconds, hostShutdownVmStopTimeoutSeconds, diskCache, nbdSocketDir, cacheDir,
                memoryKeeperDir, cacheFlushIntervalMillis, remoteMemory, null, null);
    }

    /** Whether any controller URL is wss://, so that the agent needs a certificate. */
    public boolean usesTls() {
        return controllers.stream().anyMatch(u -> u.startsWith("wss:"));
    }

    /** As the full constructor, with the memory keeper's files in {@code stateDir/keeper} and transport {@code auto}. */
    public AgentConfig(String host, List<String> controllers, String libvirtUri, Path sharedStorage, Path stateDir,
            Long memoryMiB, Integer cpus, Long heartbeatIntervalMillis, Long leaseTimeoutMillis, Long failureTimeoutMillis,
            Long isolationShutdownTimeoutMillis, Boolean fenceWatchdog, String shutdownMode,
            Long hostShutdownTimeoutSeconds, Long hostShutdownVmStopTimeoutSeconds, Boolean diskCache, Path nbdSocketDir,
            Path cacheDir) {
        this(host, controllers, libvirtUri, sharedStorage, stateDir, memoryMiB, cpus, heartbeatIntervalMillis,
                leaseTimeoutMillis, failureTimeoutMillis, isolationShutdownTimeoutMillis, fenceWatchdog, shutdownMode,
                hostShutdownTimeoutSeconds, hostShutdownVmStopTimeoutSeconds, diskCache, nbdSocketDir, cacheDir, null, null, null);
    }

    /** As the full constructor, with the disk cache on, its socket and arenas in {@code stateDir}. */
    public AgentConfig(String host, List<String> controllers, String libvirtUri, Path sharedStorage, Path stateDir,
            Long memoryMiB, Integer cpus, Long heartbeatIntervalMillis, Long leaseTimeoutMillis, Long failureTimeoutMillis,
            Long isolationShutdownTimeoutMillis, Boolean fenceWatchdog, String shutdownMode,
            Long hostShutdownTimeoutSeconds, Long hostShutdownVmStopTimeoutSeconds) {
        this(host, controllers, libvirtUri, sharedStorage, stateDir, memoryMiB, cpus, heartbeatIntervalMillis,
                leaseTimeoutMillis, failureTimeoutMillis, isolationShutdownTimeoutMillis, fenceWatchdog, shutdownMode,
                hostShutdownTimeoutSeconds, hostShutdownVmStopTimeoutSeconds, true, null,
                stateDir == null ? null : stateDir.resolve("cache"), null, null, null);
    }

    public static AgentConfig load(Path file, Map<String, String> env) {
        return ConfigFiles.load(file, AgentConfig.class, env, ENV_PREFIX);
    }

    /** Field name, environment variable and meaning, for {@code --help}. */
    public static List<String[]> fieldHelp() {
        return List.of(
                new String[] {"host", "this host's name (required)"},
                new String[] {"controllers", "controller URLs, e.g. [wss://10.0.0.1:8443/agent/v1] (required; env: comma-separated; "
                        + "ws:// only for tests)"},
                new String[] {"libvirtUri", "libvirt URI (default qemu:///system; qemu:///embed?root=DIR; test:///default)"},
                new String[] {"sharedStorage", "shared directory for heartbeats and leases (required)"},
                new String[] {"stateDir", "local directory for restart state (default /var/lib/vigil/agent)"},
                new String[] {"memoryMiB", "memory to advertise in MiB (default 0 = from libvirt)"},
                new String[] {"cpus", "CPUs to advertise (default 0 = from libvirt)"},
                new String[] {"heartbeatIntervalMillis", "heartbeat period until the controller's policy arrives (default 1000)"},
                new String[] {"leaseTimeoutMillis", "lease timeout until the controller's policy arrives (default 4000)"},
                new String[] {"failureTimeoutMillis", "controller link down this long while the control plane is alive "
                        + "= isolated, until the controller's policy arrives (default 3000)"},
                new String[] {"isolationShutdownTimeoutMillis", "isolation 'shutdown' waits this long before destroy (default 30000)"},
                new String[] {"fenceWatchdog", "run the fence watchdog process that kills HA VMs if the agent dies (default true)"},
                new String[] {"shutdownMode", "auto: SIGTERM is a host shutdown when systemd is stopping or STATEDIR/host-shutdown "
                        + "exists, else an agent restart; host: always a host shutdown (default auto)"},
                new String[] {"hostShutdownTimeoutSeconds", "host shutdown: wait this long for the controller to clear the host (default 120)"},
                new String[] {"hostShutdownVmStopTimeoutSeconds", "host shutdown: then give each VM still running this long "
                        + "to shut down before destroying it (default 30)"},
                new String[] {"diskCache", "serve raw image disks over NBD through the write-back cache (default true)"},
                new String[] {"nbdSocketDir", "folder of the NBD server's per-VM UNIX sockets, given to QEMU's account, which "
                        + "must be able to search every folder on the way (default /run/vigil/nbd)"},
                new String[] {"cacheDir", "where cache arenas (shared-memory files) live (default /dev/shm/vigil-HOST)"},
                new String[] {"memoryKeeperDir", "the memory keeper's state directory with keeper.json (default STATEDIR/keeper)"},
                new String[] {"cacheFlushIntervalMillis", "write dirty cache blocks back once the oldest waited this "
                        + "long: what a host failure with its memory unreachable can lose (default 5000; 0 = at once)"},
                new String[] {"remoteMemory", "reading a failed host's arenas: auto (verbs where an RDMA device exists, "
                        + "else tcp), tcp or verbs (default auto)"},
                new String[] {"joinToken", "one-time join token from the controller (POST /api/v1/join-tokens): enrolls "
                        + "this agent when TLSDIR holds no certificate (default none)"},
                new String[] {"tlsDir", "the agent's key, certificate and the controller CA, written by enrollment; "
                        + "delete it and restart with a new joinToken to enroll again (default STATEDIR/tls)"});
    }

    public static String envName(String field) {
        return ENV_PREFIX + field.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(java.util.Locale.ROOT);
    }
}
