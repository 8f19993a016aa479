package io.vigil.agent.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vigil.agent.isolation.IsolationMonitor.Verdict;
import io.vigil.protocol.IsolationResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The isolation decision on a controllable clock: the response applies when this host alone is cut off (link down past
 * the failure timeout, storage lease live, leader lease renewed), never when the whole control plane is out.
 */
class IsolationMonitorTest {
    static final long FAILURE_TIMEOUT_MILLIS = 3000;
    static final long REDIAL_MILLIS = 5000;
    static final long SHUTDOWN_TIMEOUT_MILLIS = 30_000;

    final AtomicLong clock = new AtomicLong(7_000_000_000_000L);
    /** What the monitor asked of the VMs: the stop timeout of each stopHaVms call. */
    final List<Long> stops = new CopyOnWriteArrayList<>();
    volatile boolean connected = true;
    volatile boolean everConnected = true;
    volatile long downSinceNanos;
    volatile boolean hostLeaseLive = true;
    volatile boolean controlPlaneAlive = true;
    IsolationMonitor monitor;

    private IsolationMonitor.Link link;

    @BeforeEach
    void setUp() {
        link = new IsolationMonitor.Link() {
            @Override
            public boolean isConnected() {
                return connected;
            }

            @Override
            public boolean everConnected() {
                return everConnected;
            }

            @Override
            public long downSinceNanos() {
                return downSinceNanos;
            }

            @Override
            public long longestRedialMillis() {
                return REDIAL_MILLIS;
            }
        };
        monitor = new IsolationMonitor(link, () -> hostLeaseLive, () -> controlPlaneAlive, stops::add,
                FAILURE_TIMEOUT_MILLIS, SHUTDOWN_TIMEOUT_MILLIS, clock::get);
        monitor.setResponse(IsolationResponse.POWEROFF);
    }

    void advanceMillis(long ms) {
        clock.addAndGet(ms * 1_000_000L);
    }

    /** The link drops now. */
    void linkDown() {
        connected = false;
        downSinceNanos = clock.get();
    }

    /** Checks every 200 ms for {@code ms}, like the monitor's timer; returns the last verdict. */
    Verdict checkFor(long ms) {
        Verdict last = monitor.check();
        for (long t = 0; t < ms; t += 200) {
            advanceMillis(200);
            last = monitor.check();
        }
        return last;
    }

    @Test
    void aHostCutOffFromALiveControlPlaneAppliesItsResponseOncePerOutage() {
        assertEquals(Verdict.CONNECTED, checkFor(10_000));
        linkDown();
        assertEquals(Verdict.WAITING, checkFor(FAILURE_TIMEOUT_MILLIS - 200));
        assertEquals(List.of(), stops);
        assertEquals(Verdict.APPLIED, checkFor(400));
        assertEquals(List.of(0L), stops, "poweroff: stopped at once");
        assertEquals(Verdict.ALREADY_APPLIED, checkFor(10_000));
        assertEquals(List.of(0L), stops, "once per outage");

        connected = true;
        assertEquals(Verdict.CONNECTED, checkFor(1000));
        monitor.setResponse(IsolationResponse.SHUTDOWN);
        linkDown();
        checkFor(FAILURE_TIMEOUT_MILLIS + 400);
        assertEquals(List.of(0L, SHUTDOWN_TIMEOUT_MILLIS), stops, "the next outage applies it again");
    }

    @Test
    void theDeathOfTheOnlyControllerIsNotIsolationWhileItsLastRenewalStillLooksFresh() {
        // The leader's heartbeat keeps looking renewed for a lease timeout after it died; what counts is a renewal
        // seen after the link went down.
        long[] lastRenewalSeen = {0};
        monitor = new IsolationMonitor(link, () -> hostLeaseLive, () -> controlPlaneAlive,
                since -> lastRenewalSeen[0] - since > 2_000_000_000L, stops::add,
                FAILURE_TIMEOUT_MILLIS, SHUTDOWN_TIMEOUT_MILLIS, clock::get);
        monitor.setResponse(IsolationResponse.POWEROFF);
        checkFor(10_000);
        lastRenewalSeen[0] = clock.get();
        linkDown(); // the controller (the leader) is killed: the link drops at once
        assertEquals(Verdict.NO_RENEWAL_SINCE_DOWN, checkFor(FAILURE_TIMEOUT_MILLIS + 2_000));
        assertEquals(List.of(), stops, "no VM stopped for a dead control plane");
        // Another leader renews the lease while this host still reaches no controller: now it is isolation.
        lastRenewalSeen[0] = clock.get();
        advanceMillis(2_200);
        assertEquals(Verdict.APPLIED, monitor.check());
        assertEquals(List.of(0L), stops);
    }

    @Test
    void aControlPlaneOutageIsNotIsolation() {
        checkFor(10_000);
        controlPlaneAlive = false; // every controller down or frozen: nobody renews the leader lease
        linkDown();
        assertEquals(Verdict.CONTROL_PLANE_DOWN, checkFor(60_000));
        assertEquals(List.of(), stops, "the VMs are kept");

        connected = true; // the controllers came back and the agent reached one: no isolation at all
        controlPlaneAlive = true;
        assertEquals(Verdict.CONNECTED, checkFor(60_000));
        assertEquals(List.of(), stops);
    }

    @Test
    void whenTheControlPlaneComesBackButThisHostStillCannotReachItTheResponseApplies() {
        checkFor(10_000);
        controlPlaneAlive = false;
        linkDown();
        assertEquals(Verdict.CONTROL_PLANE_DOWN, checkFor(20_000));

        controlPlaneAlive = true; // a leader renews again, yet this link stays down
        assertEquals(Verdict.CONTROL_PLANE_RETURNING, checkFor(FAILURE_TIMEOUT_MILLIS + REDIAL_MILLIS - 200),
                "the link gets time to reach the returning controllers first");
        assertEquals(List.of(), stops);
        assertEquals(Verdict.APPLIED, checkFor(400));
        assertEquals(List.of(0L), stops);
    }

    @Test
    void aLeaderLeaseThatBlinksOutRestartsTheWaitForTheReturningControlPlane() {
        checkFor(10_000);
        controlPlaneAlive = false;
        linkDown();
        checkFor(5000);
        controlPlaneAlive = true;
        checkFor(4000);
        controlPlaneAlive = false;
        assertEquals(Verdict.CONTROL_PLANE_DOWN, checkFor(200));
        controlPlaneAlive = true;
        assertEquals(Verdict.CONTROL_PLANE_RETURNING, checkFor(FAILURE_TIMEOUT_MILLIS + REDIAL_MILLIS - 200));
        assertEquals(Verdict.APPLIED, checkFor(400));
    }

    @Test
    void noResponseWithoutAStorageLeaseOrBeforeAnyControllerWelcomedTheAgent() {
        everConnected = false;
        linkDown();
        assertEquals(Verdict.NEVER_CONNECTED, checkFor(20_000));
        everConnected = true;
        hostLeaseLive = false;
        assertEquals(Verdict.STORAGE_LOST, checkFor(1000), "storage loss: the self-fence acts, not the isolation response");
        assertEquals(List.of(), stops);
    }

    @Test
    void theFailureTimeoutFollowsThePolicy() {
        monitor.setFailureTimeoutMillis(8000);
        checkFor(10_000);
        linkDown();
        assertEquals(Verdict.WAITING, checkFor(7800));
        assertEquals(Verdict.APPLIED, checkFor(400));

        connected = true;
        checkFor(200);
        monitor.setFailureTimeoutMillis(1000);
        linkDown();
        assertEquals(Verdict.WAITING, checkFor(800));
        assertEquals(Verdict.APPLIED, checkFor(400));
        assertEquals(2, stops.size());
    }
}
