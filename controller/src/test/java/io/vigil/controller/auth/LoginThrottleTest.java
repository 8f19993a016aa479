package io.vigil.controller.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.vigil.controller.testing.TestController;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The login throttle's rules on a real standalone Hazelcast member, with the clock given by the test; and passwords. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LoginThrottleTest {
    private static final LoginThrottle.Rules RULES = new LoginThrottle.Rules(3, 5, Duration.ofSeconds(60), Duration.ofMinutes(15));
    private HazelcastInstance hz;
    private LoginThrottle throttle;

    @BeforeAll
    void start() throws Exception {
        Config c = new Config();
        c.setClusterName("vigil-throttle-test");
        c.setProperty("hazelcast.logging.type", "slf4j");
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.getNetworkConfig().setPort(TestController.freePort()).setPortAutoIncrement(false);
        c.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
        c.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
        hz = Hazelcast.newHazelcastInstance(c);
        throttle = new LoginThrottle(hz, RULES);
    }

    @AfterAll
    void stop() {
        hz.shutdown();
    }

    @Test
    void aNameIsLockedAfterItsLimitUntilTheLockoutHasPassedSinceTheLastFailure() {
        long t = 1_000_000;
        for (int i = 0; i < 2; i++) throttle.failed("ann", "10.0.0.1", t + i);
        assertEquals(0, throttle.waitMillis("ann", "10.0.0.1", t + 2), "two failures: not yet");
        throttle.failed("ann", "10.0.0.1", t + 2);
        assertEquals(60_000, throttle.waitMillis("ann", "10.0.0.1", t + 2));
        assertEquals(60_000, throttle.waitMillis("ann", "10.0.0.9", t + 2), "from any address");
        assertEquals(1, throttle.waitMillis("ann", "10.0.0.1", t + 60_001));
        assertEquals(0, throttle.waitMillis("ann", "10.0.0.1", t + 60_002), "a try once the lockout has passed");
        throttle.failed("ann", "10.0.0.1", t + 60_002);
        assertEquals(60_000, throttle.waitMillis("ann", "10.0.0.1", t + 60_002), "and each further failure locks again");
        assertEquals(0, throttle.waitMillis("other", "10.0.0.9", t + 60_002), "other names from other addresses are free");
        throttle.succeeded("ann");
        assertEquals(0, throttle.waitMillis("ann", "10.0.0.9", t + 60_002), "a success clears the name");
    }

    @Test
    void anAddressIsLockedAfterItsLimitWhateverTheNames() {
        long t = 2_000_000;
        for (int i = 0; i < 5; i++) throttle.failed("name-" + i, "10.0.0.2", t);
        assertEquals(60_000, throttle.waitMillis("anyone", "10.0.0.2", t));
        assertEquals(0, throttle.waitMillis("anyone", "10.0.0.3", t));
        throttle.succeeded("name-0");
        assertEquals(60_000, throttle.waitMillis("anyone", "10.0.0.2", t), "a success does not clear the address");
    }

    @Test
    void passwordsVerifyOnlyThemselvesAndEachHashHasItsOwnSalt() {
        PasswordHash a = PasswordHash.of("a password of some length");
        PasswordHash b = PasswordHash.of("a password of some length");
        assertTrue(a.matches("a password of some length"));
        assertFalse(a.matches("a password of some lengtH"));
        assertFalse(a.salt().equals(b.salt()) || a.hash().equals(b.hash()), "salted");
        assertEquals(PasswordHash.ITERATIONS, a.iterations());
        PasswordHash older = new PasswordHash(PasswordHash.PBKDF2_SHA256, 1000, a.salt(), a.hash());
        assertFalse(older.matches("a password of some length"), "the iterations stored are the ones used");
    }
}
