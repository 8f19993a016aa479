package io.vigil.agent.vm;

import io.vigil.agent.libvirt.DomainStatus;
import io.vigil.agent.libvirt.Hypervisor;
import io.vigil.agent.libvirt.HypervisorException;
import io.vigil.protocol.VmPowerState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * VMs QEMU paused on a disk error, and what the agent could not fix about them. QEMU pauses a VM whose disk request
 * failed (the agent restarted and its socket was gone, or QEMU lost its connection); its NBD client connects again
 * only when a request is retried, so the agent resumes the VM with a backoff (0.5 s doubling to 8 s: a handful of
 * lifecycle events, not hundreds) until it runs, for up to a window (a minute). A VM still paused then is a
 * {@link #problem} with the cause the agent sees, reported with the VM until it runs again. A VM paused for another
 * reason (by a user, for a migration or a save) is left paused.
 */
public final class PausedVms {
    private static final Logger log = LoggerFactory.getLogger(PausedVms.class);
    private static final long FIRST_PAUSE_MILLIS = 500;
    private static final long LONGEST_PAUSE_MILLIS = 8_000;

    /** How the resumer waits; tests pass one that does not sleep for real. */
    public interface Sleeper {
        void sleep(long millis) throws InterruptedException;
    }

    private final Hypervisor hypervisor;
    private final Function<String, String> diskTrouble;
    private final long windowMillis;
    private final Sleeper sleeper;
    private final Map<String, String> problems = new ConcurrentHashMap<>();
    private final Set<String> resuming = ConcurrentHashMap.newKeySet();

    /** {@code diskTrouble}: what the agent sees of why a VM's disks fail (its socket, QEMU's log), for the problem. */
    public PausedVms(Hypervisor hypervisor, Function<String, String> diskTrouble, long windowMillis, Sleeper sleeper) {
        this.hypervisor = hypervisor;
        this.diskTrouble = diskTrouble;
        this.windowMillis = windowMillis;
        this.sleeper = sleeper;
    }

    /** What the agent found wrong with {@code vm} and could not fix; null when nothing. */
    public String problem(String vm) {
        return problems.get(vm);
    }

    /** {@code vm} runs again, or stopped: nothing wrong with it is left to report. */
    public void cleared(String vm) {
        problems.remove(vm);
    }

    /** Whether a pause of {@code vm} on a disk error should start {@link #resume}: not while one runs or gave up. */
    public boolean worthResuming(String vm) {
        return !resuming.contains(vm) && !problems.containsKey(vm);
    }

    /**
     * Resumes each of {@code vms} that is paused on a disk error until it runs, for up to the window; blocks. Returns
     * the VMs left paused, each now with its problem.
     */
    public List<String> resume(List<String> vms) throws InterruptedException {
        List<String> paused = new ArrayList<>();
        for (String vm : vms) if (resuming.add(vm)) paused.add(vm);
        List<String> mine = List.copyOf(paused);
        try {
            long waited = 0;
            long pause = FIRST_PAUSE_MILLIS;
            while (true) {
                paused.removeIf(vm -> !resumeIfPausedOnDisk(vm));
                if (paused.isEmpty() || waited >= windowMillis) break;
                sleeper.sleep(pause);
                waited += pause;
                pause = Math.min(LONGEST_PAUSE_MILLIS, pause * 2);
            }
            for (String vm : paused) {
                String problem = "paused on a disk error and could not be resumed for " + windowMillis / 1000 + " s: "
                        + diskTrouble.apply(vm);
                problems.put(vm, problem);
                log.error("{}: {}", vm, problem);
            }
            return List.copyOf(paused);
        } finally {
            mine.forEach(resuming::remove);
        }
    }

    /** Resumes {@code vm} if it is paused on a disk error; false when it is not (any more). */
    private boolean resumeIfPausedOnDisk(String vm) {
        try {
            Optional<DomainStatus> d = hypervisor.domain(vm);
            if (d.isEmpty() || d.get().state() != VmPowerState.PAUSED) return false;
            String reason = d.get().stateReason();
            if (reason != null && !reason.equals("ioerror") && !reason.equals("unknown")) return false; // on purpose
            hypervisor.resume(vm);
        } catch (HypervisorException e) {
            log.warn("cannot resume {}: {}", vm, e.getMessage());
        }
        return true;
    }
}
