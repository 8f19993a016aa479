package io.vigil.controller.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The failover reserve and admission control arithmetic. */
class FailoverReserveTest {

    private static FailoverReserve.HostLoad host(String name, long total, long used, long ha) {
        return new FailoverReserve.HostLoad(name, total, used, ha, 8, 0, true);
    }

    private static ClusterPolicy tolerate(int n) {
        return ClusterPolicy.DEFAULT.withAdmission(AdmissionControl.HOST_FAILURES, n, 25, List.of());
    }

    @Test
    void equalHostsReserveTheWorstHostsHaMemorySpreadOverTheSurvivors() {
        List<FailoverReserve.HostLoad> hosts = List.of(host("h1", 16384, 6000, 6000), host("h2", 16384, 3000, 2000),
                host("h3", 16384, 1000, 1000), host("h4", 16384, 0, 0));
        // N = 1: D = 6000 (h1's HA VMs); three survivors share it: 2000 each.
        assertEquals(Map.of("h1", 2000L, "h2", 2000L, "h3", 2000L, "h4", 2000L),
                FailoverReserve.reserves(tolerate(1), hosts));
        // N = 2: D = 6000 + 2000; two survivors: 4000 each.
        assertEquals(Map.of("h1", 4000L, "h2", 4000L, "h3", 4000L, "h4", 4000L),
                FailoverReserve.reserves(tolerate(2), hosts));
    }

    @Test
    void reservesOfAnySurvivorsCoverTheHaVmsOfAnyNFailedHosts() {
        Random random = new Random(42);
        for (int round = 0; round < 500; round++) {
            int count = 2 + random.nextInt(6);
            int n = 1 + random.nextInt(count - 1);
            List<FailoverReserve.HostLoad> hosts = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                long total = 1024L * (4 + random.nextInt(60));
                long ha = random.nextInt((int) total / 2);
                hosts.add(host("h" + i, total, ha + random.nextInt(1024), ha));
            }
            Map<String, Long> reserve = FailoverReserve.reserves(tolerate(n), hosts);
            long demand = FailoverReserve.largest(hosts.stream().map(FailoverReserve.HostLoad::haMiB).toList(), n);
            long smallestSurvivors = hosts.stream().mapToLong(FailoverReserve.HostLoad::totalMiB).sum()
                    - FailoverReserve.largest(hosts.stream().map(FailoverReserve.HostLoad::totalMiB).toList(), n);
            if (demand > smallestSurvivors) {
                // No reserve can keep this promise: every host reserves all it has, so nothing more is admitted.
                for (FailoverReserve.HostLoad h : hosts) assertEquals(h.totalMiB(), reserve.get(h.host()));
                continue;
            }
            // Every set of n failed hosts: the survivors' reserves hold the failed hosts' HA VMs.
            for (int mask = 0; mask < 1 << count; mask++) {
                if (Integer.bitCount(mask) != n) continue;
                long failedHa = 0;
                long survivorReserve = 0;
                for (int i = 0; i < count; i++) {
                    if ((mask & 1 << i) != 0) failedHa += hosts.get(i).haMiB();
                    else survivorReserve += reserve.get(hosts.get(i).host());
                }
                assertTrue(survivorReserve >= failedHa, "round " + round + ": survivors reserve " + survivorReserve
                        + " MiB for " + failedHa + " MiB of HA VMs; hosts " + hosts + " reserve " + reserve);
            }
        }
    }

    @Test
    void admissionSaysHowMuchIsMissing() {
        // Three 4 GiB hosts with 1 GiB of HA VMs each; a 2 GiB HA VM would need a 1536 MiB reserve per host.
        List<FailoverReserve.HostLoad> hosts = List.of(host("n1", 4096, 1024, 1024), host("n2", 4096, 1024, 1024),
                host("n3", 4096, 1024, 1024));
        FailoverReserve.Admission no = FailoverReserve.admit(tolerate(1), hosts, List.of("n1", "n2", "n3"), 2048, 1);
        assertFalse(no.admitted());
        assertEquals(512, no.missingMiB());
        assertTrue(no.reason().contains("512 MiB missing"), no.reason());
        FailoverReserve.Admission yes = FailoverReserve.admit(tolerate(1), hosts, List.of("n1", "n2", "n3"), 1024, 1);
        assertTrue(yes.admitted(), yes.reason());
        assertEquals("n1", yes.host());
    }

    @Test
    void percentageAndDedicatedAndOff() {
        ClusterPolicy percent = ClusterPolicy.DEFAULT.withAdmission(AdmissionControl.PERCENTAGE, 1, 30, List.of());
        List<FailoverReserve.HostLoad> hosts = List.of(host("n1", 10000, 0, 0), host("n2", 3333, 0, 0));
        assertEquals(Map.of("n1", 3000L, "n2", 1000L), FailoverReserve.reserves(percent, hosts));

        ClusterPolicy dedicated = ClusterPolicy.DEFAULT.withAdmission(AdmissionControl.DEDICATED, 1, 0, List.of("n2"));
        assertEquals(Map.of("n1", 0L, "n2", 3333L), FailoverReserve.reserves(dedicated, hosts));
        FailoverReserve.Admission tooBig = FailoverReserve.admit(dedicated, hosts, List.of("n1", "n2"), 4000, 1);
        assertFalse(tooBig.admitted(), "the failover host (3333 MiB) cannot hold a 4000 MiB VM of n1");
        assertEquals(667, tooBig.missingMiB());

        ClusterPolicy off = ClusterPolicy.DEFAULT.withAdmission(AdmissionControl.OFF, 1, 0, List.of());
        assertEquals(Map.of("n1", 0L, "n2", 0L), FailoverReserve.reserves(off, hosts));
        assertTrue(FailoverReserve.admit(off, hosts, List.of(), 99999, 64).admitted());
    }

    @Test
    void hostsThatAreNotUsableReserveNothingAndDoNotCount() {
        List<FailoverReserve.HostLoad> hosts = List.of(host("n1", 8192, 2048, 2048), host("n2", 8192, 0, 0),
                new FailoverReserve.HostLoad("down", 8192, 0, 0, 8, 0, false));
        Map<String, Long> reserve = FailoverReserve.reserves(tolerate(1), hosts);
        assertEquals(0L, reserve.get("down"));
        assertEquals(2048L, reserve.get("n2"), "one survivor of two usable hosts holds all of n1's HA memory");
    }
}
