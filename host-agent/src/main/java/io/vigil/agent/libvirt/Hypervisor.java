package io.vigil.agent.libvirt;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What the agent needs from libvirt, small enough to stand in for in tests. Implementations are thread-safe;
 * operations on a domain that is already in the wanted state succeed (destroying a stopped domain is a no-op).
 */
public interface Hypervisor extends AutoCloseable {

    NodeResources node() throws HypervisorException;

    /** Every domain libvirt knows on this host, running or defined. */
    List<DomainStatus> domains() throws HypervisorException;

    Optional<DomainStatus> domain(String name) throws HypervisorException;

    /** Defines (or redefines) a domain from its XML; an invalid definition fails with libvirt's message. */
    void define(String domainXml) throws HypervisorException;

    /** Starts a defined domain; no-op if it runs. */
    void start(String name) throws HypervisorException;

    /** Asks the guest to shut down (ACPI); returns at once. */
    void shutdown(String name) throws HypervisorException;

    /** Powers the domain off at once; no-op if it is not running or unknown. */
    void destroy(String name) throws HypervisorException;

    /**
     * Stops the domain's emulator as fast as the host can (SIGKILL), for self-fencing: libvirt's destroy sends SIGTERM
     * first and waits, which can take seconds per VM. Defaults to {@link #destroy}.
     */
    default void kill(String name) throws HypervisorException {
        destroy(name);
    }

    /**
     * Saves the running (or paused) domain's memory state to {@code file}, an absolute path, which stops the domain
     * here; its definition stays. When the save fails the domain keeps running and this throws libvirt's reason.
     */
    void save(String name, Path file) throws HypervisorException;

    /** The domain that the saved-state {@code file} holds, read by libvirt from the file; throws if it is not one. */
    SavedDomain savedDomain(Path file) throws HypervisorException;

    /**
     * Starts the domain saved in {@code file} where it left off (running, or paused if it was paused). A defined
     * domain of the same name must have the saved UUID; it stays defined. Throws libvirt's reason when the restore
     * fails, and then nothing of it runs.
     */
    void restore(Path file) throws HypervisorException;

    /**
     * As {@link #restore(Path)}, running the saved domain with {@code domainXml} instead of the definition stored in
     * the file (same name, UUID and devices; e.g. its disks served by this host's agent rather than the saver's).
     */
    default void restore(Path file, String domainXml) throws HypervisorException {
        restore(file);
    }

    /** Resumes a paused domain (e.g. one QEMU paused on a disk error); no-op if it is not paused. */
    default void resume(String name) throws HypervisorException {}

    /** Removes the definition; no-op if unknown. The domain must not be running. */
    void undefine(String name) throws HypervisorException;

    /**
     * The account QEMU runs as for a domain defined by {@code domainXml} (null: a domain of the hypervisor's default
     * type), as libvirt's DAC label {@code +UID:+GID}: the domain's own static DAC label if it names one, else the
     * base label libvirt's capabilities give for its type. Empty where libvirt runs no QEMU or has no DAC driver.
     */
    default Optional<String> qemuDacLabel(String domainXml) {
        return Optional.empty();
    }

    /** Receives lifecycle events, on a thread other than libvirt's event loop. One listener. */
    void onLifecycle(Consumer<LifecycleEvent> listener);

    @Override
    void close();
}
