package io.vigil.protocol.storage;

import java.nio.file.Path;

/**
 * The layout of the shared storage directory (standing for NFS or a cluster file system):
 * <pre>
 *   hosts/&lt;host&gt;.heartbeat      one host's heartbeat, rewritten every heartbeat interval
 *   leases/&lt;vm&gt;/gen-&lt;N&gt;          a VM's disk lease at generation N, created exclusively by its new owner
 *   images/                       VM disk images
 *   saves/&lt;vm&gt;.g&lt;N&gt;.save         a VM's memory state saved on its way to another host, restored there at N
 *   control-plane/leader/         the controllers' leader lease (see {@link LeaderLeaseFiles})
 *   control-plane/state/          the controllers' durable cluster state (documented in the controller's STORE.md)
 *   control-plane/logs/           the controllers' audit log and event log segments
 * </pre>
 */
public record SharedStorage(Path root) {
    public Path hostsDir() {
        return root.resolve("hosts");
    }

    public Path hostHeartbeat(String host) {
        return hostsDir().resolve(host + ".heartbeat");
    }

    public Path leasesDir() {
        return root.resolve("leases");
    }

    public Path vmLeaseDir(String vm) {
        return leasesDir().resolve(vm);
    }

    public Path imagesDir() {
        return root.resolve("images");
    }

    public Path controlPlaneDir() {
        return root.resolve("control-plane");
    }

    public Path leaderDir() {
        return controlPlaneDir().resolve("leader");
    }

    public Path savesDir() {
        return root.resolve("saves");
    }

    /** Where a VM's memory state is saved to be restored at lease generation {@code generation}, relative to root. */
    public static String savedState(String vm, long generation) {
        return "saves/" + vm + ".g" + generation + ".save";
    }
}
