package io.vigil.agent.fence;

import io.vigil.agent.libvirt.ProcFiles;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's side of the watchdog process: starts {@link FenceWatchdogMain} for a state directory unless one is
 * alive there, and checks every few seconds that it still is. The watchdog runs in its own session ({@code setsid}),
 * so signals to the agent's process group do not reach it, and it outlives the agent: that is its purpose.
 */
public final class FenceWatchdogProcess implements AutoCloseable {
    static final String PID_FILE = "fence-watchdog.pid";
    static final String LOCK_FILE = "fence-watchdog.lock";
    static final String LOG_FILE = "fence-watchdog.log";
    private static final Logger log = LoggerFactory.getLogger(FenceWatchdogProcess.class);

    private final Path stateDir;
    private final String classpath;
    private ScheduledExecutorService checker;
    private Process launched;

    /** {@code classpath}: where the watchdog JVM finds this code (the agent passes its own). */
    public FenceWatchdogProcess(Path stateDir, String classpath) {
        this.stateDir = stateDir.toAbsolutePath().normalize();
        this.classpath = classpath;
    }

    /** The pid of the watchdog guarding this state directory, if one is alive. */
    public OptionalLong alivePid() {
        long pid;
        try {
            pid = Long.parseLong(Files.readString(stateDir.resolve(PID_FILE)).strip());
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
        List<String> args = ProcFiles.cmdline(pid);
        boolean ours = args.contains(FenceWatchdogMain.class.getName())
                && args.stream().anyMatch(a -> a.equals(stateDir.toString()) || a.equals("--state-dir=" + stateDir));
        return ours ? OptionalLong.of(pid) : OptionalLong.empty();
    }

    /**
     * Starts a watchdog unless one is alive, without waiting for it (its JVM start can overlap the agent's own
     * start-up); {@link #ensureRunning} then waits for it.
     */
    public synchronized void startIfNone() throws IOException {
        if (alivePid().isEmpty() && (launched == null || !launched.isAlive())) launched = start();
    }

    /**
     * Makes sure a watchdog guards the state directory: returns the pid of the one alive, or starts one (unless
     * {@link #startIfNone} just did) and waits up to {@code waitMillis} for it to poll.
     *
     * @throws IOException when none could be started, or it did not come up in time
     */
    public long ensureRunning(long waitMillis) throws IOException, InterruptedException {
        startIfNone();
        Process p;
        synchronized (this) {
            p = launched;
        }
        long deadline = System.nanoTime() + waitMillis * 1_000_000L;
        while (true) {
            OptionalLong alive = alivePid();
            if (alive.isPresent()) return alive.getAsLong();
            if (p != null && !p.isAlive() && p.exitValue() != 0)
                throw new IOException("fence watchdog exited with status " + p.exitValue() + " (see " + stateDir.resolve(LOG_FILE) + ")");
            if (System.nanoTime() > deadline)
                throw new IOException("fence watchdog did not come up within " + waitMillis + " ms (see " + stateDir.resolve(LOG_FILE) + ")");
            Thread.sleep(20);
        }
    }

    private Process start() throws IOException {
        List<String> command = new ArrayList<>();
        // Its own session: not in the agent's process group, so a signal to that group (Ctrl-C) does not reach it.
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) command.add("/usr/bin/setsid");
        else log.warn("no /usr/bin/setsid: the fence watchdog stays in the agent's process group");
        command.add(javaCommand());
        command.addAll(List.of("-Xmx24m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData",
                "-cp", classpath, FenceWatchdogMain.class.getName(), "--state-dir", stateDir.toString()));
        Files.createDirectories(stateDir);
        Process p = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(stateDir.resolve(LOG_FILE).toFile()))
                .start();
        log.info("started the fence watchdog (pid {}, log {})", p.pid(), stateDir.resolve(LOG_FILE));
        return p;
    }

    private static String javaCommand() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** Checks every {@code periodMillis} that the watchdog is alive; restarts it (and says so) when it is not. */
    public synchronized void keepAlive(long periodMillis) {
        if (checker != null) return;
        checker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "vigil-fence-watchdog-check");
            t.setDaemon(true);
            return t;
        });
        checker.scheduleWithFixedDelay(() -> {
            try {
                if (alivePid().isPresent()) return;
                log.error("the fence watchdog for {} is gone: restarting it", stateDir);
                log.info("fence watchdog is back: pid {}", ensureRunning(10_000));
            } catch (IOException | RuntimeException e) {
                log.error("cannot restart the fence watchdog: {}", e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }

    /** Stops checking; the watchdog itself keeps running (it must outlive the agent). */
    @Override
    public synchronized void close() {
        if (checker != null) checker.shutdownNow();
    }
}
