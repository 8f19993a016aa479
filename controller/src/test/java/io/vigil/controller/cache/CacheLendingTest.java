package io.vigil.controller.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The lending rule: pool per host, shares by weight, and what a starting VM takes back. */
class CacheLendingTest {

    private static CacheLending.Host host(String name, long total, long used, long reserve) {
        return new CacheLending.Host(name, total, used, reserve, true);
    }

    @Test
    void thePoolIsTheReserveAsFarAsVmsLeaveItFree() {
        assertEquals(4096, CacheLending.pool(host("h", 16384, 8192, 4096)), "reserve fits in the free memory");
        assertEquals(2048, CacheLending.pool(host("h", 16384, 14336, 4096)), "only the free memory is lent");
        assertEquals(0, CacheLending.pool(host("h", 16384, 16384, 4096)), "a host its VMs fill lends nothing");
        assertEquals(0, CacheLending.pool(host("h", 16384, 17000, 4096)), "overcommitted: nothing, never negative");
        assertEquals(0, CacheLending.pool(host("h", 16384, 0, 0)), "no reserve, nothing lent");
        assertEquals(0, CacheLending.pool(new CacheLending.Host("h", 16384, 0, 4096, false)),
                "a failed, offline or maintenance host lends nothing");
    }

    @Test
    void thePoolIsSharedByWeightRoundedDown() {
        Map<String, CacheLending.Loan> loans = CacheLending.lend(List.of(host("h1", 16384, 6144, 4000)), List.of(
                new CacheLending.Tenant("a", "h1", 1), new CacheLending.Tenant("b", "h1", 2),
                new CacheLending.Tenant("c", "h1", 3)));
        CacheLending.Loan loan = loans.get("h1");
        assertEquals(Map.of("a", 666L, "b", 1333L, "c", 2000L), loan.budgetsMiB());
        assertEquals(3999, loan.lentMiB(), "the host lends what its VMs were given");
        assertTrue(loan.lentMiB() <= 4000);
    }

    @Test
    void aVmOfWeightZeroGetsNothingAndTheOthersShareItsPart() {
        CacheLending.Loan loan = CacheLending.lend(List.of(host("h1", 16384, 6144, 4096)), List.of(
                new CacheLending.Tenant("a", "h1", 0), new CacheLending.Tenant("b", "h1", 1),
                new CacheLending.Tenant("c", "h1", 1))).get("h1");
        assertEquals(Map.of("b", 2048L, "c", 2048L), loan.budgetsMiB(), "a is not listed: no cache for it");
        CacheLending.Loan none = CacheLending.lend(List.of(host("h1", 16384, 6144, 4096)),
                List.of(new CacheLending.Tenant("a", "h1", 0))).get("h1");
        assertEquals(CacheLending.Loan.NONE, none, "nobody takes cache: nothing is lent");
    }

    @Test
    void eachHostSharesItsOwnPoolAmongItsOwnVms() {
        Map<String, CacheLending.Loan> loans = CacheLending.lend(List.of(host("h1", 8192, 2048, 1024),
                host("h2", 8192, 7680, 1024), host("h3", 8192, 0, 1024)), List.of(
                new CacheLending.Tenant("a", "h1", 5), new CacheLending.Tenant("b", "h2", 1)));
        assertEquals(Map.of("a", 1024L), loans.get("h1").budgetsMiB());
        assertEquals(Map.of("b", 512L), loans.get("h2").budgetsMiB(), "h2's VMs leave 512 MiB of its reserve free");
        assertEquals(CacheLending.Loan.NONE, loans.get("h3"), "no VM runs on h3");
    }

    @Test
    void aFailoverArrivingShrinksThePool() {
        // h2 holds 4 GiB of VMs and reserves 8 GiB: it lends all 8 GiB.
        CacheLending.Host before = host("h2", 16384, 4096, 8192);
        assertEquals(8192, CacheLending.pool(before));
        // 6 GiB of VMs from a failed host arrive: 4 GiB were free and not lent, the other 2 GiB come out of the cache.
        assertEquals(2048, CacheLending.reclaimMiB(6144, 16384, 4096, 8192));
        CacheLending.Host after = host("h2", 16384, 10240, 8192);
        assertEquals(6144, CacheLending.pool(after), "the pool shrinks by what the arrivals took from it");
        Map<String, Long> budgets = CacheLending.lend(List.of(after), List.of(new CacheLending.Tenant("x", "h2", 1),
                new CacheLending.Tenant("failed-over", "h2", 1))).get("h2").budgetsMiB();
        assertEquals(Map.of("x", 3072L, "failed-over", 3072L), budgets, "once running, the arrivals share it too");
    }

    @Test
    void aStartTakesBackOnlyWhatTheUnlentFreeMemoryCannotCover() {
        assertEquals(0, CacheLending.reclaimMiB(2048, 16384, 4096, 8192), "4 GiB free and not lent: enough");
        assertEquals(1024, CacheLending.reclaimMiB(5120, 16384, 4096, 8192));
        assertEquals(8192, CacheLending.reclaimMiB(12288, 16384, 4096, 8192), "all of it");
        assertEquals(0, CacheLending.reclaimMiB(2048, 16384, 4096, 0), "nothing lent, nothing to take back");
        assertEquals(8192, CacheLending.reclaimMiB(20000, 16384, 4096, 8192), "never more than is lent");
    }

    @Test
    void reclaimDetailsAreReadAsTheAgentWritesThem() {
        assertEquals(new Reclaim(2048, 37), Reclaim.parse("reclaimed 2048 MiB of cache in 37 ms").orElseThrow());
        assertEquals(new Reclaim(512, 4), Reclaim.parse("reclaimed 512 MiB of cache in 4 ms; wrote back 80 MiB dirty")
                .orElseThrow());
        assertTrue(Reclaim.reported("reclaimed a lot"));
        assertTrue(Reclaim.parse("reclaimed a lot").isEmpty());
        assertTrue(Reclaim.parse("restored from saved state").isEmpty());
        assertTrue(Reclaim.parse(null).isEmpty());
    }
}
