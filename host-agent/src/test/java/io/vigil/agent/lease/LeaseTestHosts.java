package io.vigil.agent.lease;

import io.vigil.protocol.storage.SharedStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/** Hosts sharing one storage directory and one controllable monotonic clock. */
final class LeaseTestHosts {
    static final long T = 4000;

    final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    final SharedStorage storage;
    final Path dir;

    LeaseTestHosts(Path dir) throws IOException {
        this.dir = dir;
        this.storage = new SharedStorage(dir.resolve("shared"));
        Files.createDirectories(storage.hostsDir());
        Files.createDirectories(storage.leasesDir());
    }

    void advanceMillis(long ms) {
        clock.addAndGet(ms * 1_000_000L);
    }

    long nowMillis() {
        return clock.get() / 1_000_000L;
    }

    final class Host {
        final String name;
        final LocalStateStore state;
        final HostLease lease;
        final HostLiveness liveness;
        final VmLeases vms;
        /** Runs at each sleep of an acquisition's wait, after the clock advanced (e.g. other hosts renew). */
        Runnable duringWait = () -> {};
        int sleeps;

        Host(String name, long generation) throws IOException {
            this.name = name;
            this.state = LocalStateStore.open(dir.resolve(name + "-state"), name, "boot-1");
            this.lease = new HostLease(name, storage, clock::get, state, generation, 0, clock.get(), T);
            this.liveness = new HostLiveness(storage, clock::get);
            this.vms = new VmLeases(storage, lease, liveness, clock::get, ms -> {
                sleeps++;
                advanceMillis(ms);
                lease.renew(); // a live agent keeps renewing in the background
                duringWait.run();
                liveness.pollAll();
            });
        }

        Host renew() {
            if (!lease.renew()) throw new AssertionError(name + " could not renew");
            return this;
        }
    }

    Host host(String name) throws IOException {
        return new Host(name, 1).renew();
    }
}
