package io.vigil.agent.fence;

import io.vigil.agent.lease.LocalStateStore;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fence watchdog program, one per host (per agent state directory), in its own small JVM:
 * {@code java -Xmx24m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp <agent classpath>
 * io.vigil.agent.fence.FenceWatchdogMain --state-dir DIR}. Polls {@code DIR/fence-deadline.json} every 100 ms
 * ({@link FenceWatchdog}). Holds a lock on {@code DIR/fence-watchdog.lock} (a second instance exits at once) and
 * writes its pid to {@code DIR/fence-watchdog.pid} once it polls. Exits when DIR is removed.
 */
public final class FenceWatchdogMain {
    static final long POLL_MILLIS = 100;

    private FenceWatchdogMain() {}

    public static void main(String[] args) throws Exception {
        Path stateDir = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--state-dir") && i + 1 < args.length) stateDir = Path.of(args[++i]);
            else if (args[i].startsWith("--state-dir=")) stateDir = Path.of(args[i].substring("--state-dir=".length()));
            else usage("unknown argument '" + args[i] + "'");
        }
        if (stateDir == null) usage("--state-dir is required");
        stateDir = stateDir.toAbsolutePath().normalize();
        Logger log = LoggerFactory.getLogger(FenceWatchdogMain.class);
        if (!Files.isDirectory(stateDir)) usage("no directory " + stateDir);
        try (FileChannel lockFile = FileChannel.open(stateDir.resolve(FenceWatchdogProcess.LOCK_FILE),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = lockFile.tryLock()) {
            if (lock == null) {
                log.info("FENCE WATCHDOG: another watchdog already guards {}; exiting", stateDir);
                return;
            }
            FenceWatchdog watchdog = new FenceWatchdog(stateDir, LocalStateStore.currentBootId(), System::nanoTime);
            watchdog.poll();
            writePid(stateDir);
            log.info("FENCE WATCHDOG: pid {} guards {} (polling every {} ms)", ProcessHandle.current().pid(),
                    FenceDeadlineFile.in(stateDir), POLL_MILLIS);
            while (Files.isDirectory(stateDir)) {
                try {
                    watchdog.poll();
                } catch (RuntimeException e) {
                    log.error("FENCE WATCHDOG: poll failed", e); // keep guarding
                }
                Thread.sleep(POLL_MILLIS);
            }
            log.info("FENCE WATCHDOG: {} is gone; exiting", stateDir);
        }
    }

    private static void writePid(Path stateDir) throws IOException {
        Path tmp = stateDir.resolve(FenceWatchdogProcess.PID_FILE + ".tmp");
        Files.writeString(tmp, ProcessHandle.current().pid() + "\n");
        Files.move(tmp, stateDir.resolve(FenceWatchdogProcess.PID_FILE), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    private static void usage(String problem) {
        System.err.println("vigil-fence-watchdog: " + problem + "\nusage: FenceWatchdogMain --state-dir DIR");
        System.exit(2);
    }
}
