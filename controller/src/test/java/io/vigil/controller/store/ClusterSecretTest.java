package io.vigil.controller.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cluster secret file, what is derived from it, and values sealed with it. */
class ClusterSecretTest {
    @TempDir
    Path dir;

    @Test
    void aMissingSecretIsCreatedOwnerOnlyAndReadBackTheSame() throws Exception {
        Path file = dir.resolve("state/cluster-secret");
        ClusterSecret made = ClusterSecret.loadOrCreate(file);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals(ClusterSecret.MIN_BYTES, Files.size(file));
        ClusterSecret again = ClusterSecret.loadOrCreate(file);
        assertEquals(made.clusterName(), again.clusterName());
        assertEquals(made.sealingKey().id(), again.sealingKey().id());
        assertTrue(made.clusterName().matches("vigil-[0-9a-f]{32}"), made.clusterName());
        try (var files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList(), "no temporary file is left");
        }
    }

    @Test
    void controllersCreatingTheSecretAtOnceAllGetTheSameOne() throws Exception {
        Path file = dir.resolve("cluster-secret");
        int racers = 8;
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(racers);
        try {
            List<Future<String>> names = new ArrayList<>();
            for (int i = 0; i < racers; i++) {
                names.add(pool.submit(() -> {
                    go.await();
                    return ClusterSecret.loadOrCreate(file).clusterName();
                }));
            }
            go.countDown();
            String first = names.get(0).get();
            for (Future<String> n : names) assertEquals(first, n.get());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aSecretOthersMayReadIsRefusedWithWhatToDo() throws Exception {
        Path file = dir.resolve("cluster-secret");
        ClusterSecret.loadOrCreate(file);
        for (String loose : List.of("rw-r--r--", "rw-r-----", "rw-----w-")) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(loose));
            IOException e = assertThrows(IOException.class, () -> ClusterSecret.loadOrCreate(file), loose);
            assertTrue(e.getMessage().contains("chmod 600 " + file), e.getMessage());
            assertTrue(e.getMessage().contains(loose), e.getMessage());
        }
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
        ClusterSecret.loadOrCreate(file); // read-only for its owner is fine
    }

    @Test
    void aShortSecretIsRefused() throws Exception {
        Path file = dir.resolve("cluster-secret");
        Files.write(file, "password".getBytes(StandardCharsets.US_ASCII));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        IOException e = assertThrows(IOException.class, () -> ClusterSecret.loadOrCreate(file));
        assertTrue(e.getMessage().contains("at least 32"), e.getMessage());
    }

    @Test
    void anotherSecretGivesAnotherNameAndKey() {
        ClusterSecret a = ClusterSecret.random();
        ClusterSecret b = ClusterSecret.random();
        assertNotEquals(a.clusterName(), b.clusterName());
        assertNotEquals(a.sealingKey().id(), b.sealingKey().id());
    }

    @Test
    void sealedValuesOpenUnderTheSameSecretInAnotherProcessOnly() {
        ClusterSecret secret = ClusterSecret.random();
        SealingKey here = secret.sealingKey();
        SealingKey otherController = secret.sealingKey(); // another session, as in another controller process
        String plaintext = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n";
        String sealed = here.seal("ca/current", plaintext);
        assertTrue(SealingKey.isSealed(sealed));
        assertFalse(sealed.contains("PRIVATE KEY") || sealed.contains("MIGHAgEA"), sealed);
        assertNotEquals(sealed, here.seal("ca/current", plaintext), "a new nonce every time");
        assertEquals(plaintext, otherController.openString("ca/current", sealed));

        var moved = assertThrows(SealingKey.UnsealableException.class, () -> here.openString("users/mallory", sealed));
        assertTrue(moved.getMessage().contains("altered, or copied"), moved.getMessage());
        var wrongSecret = assertThrows(SealingKey.UnsealableException.class,
                () -> ClusterSecret.random().sealingKey().openString("ca/current", sealed));
        assertTrue(wrongSecret.getMessage().contains("another cluster secret"), wrongSecret.getMessage());
        var plain = assertThrows(SealingKey.UnsealableException.class, () -> here.openString("ca/current", plaintext));
        assertTrue(plain.getMessage().contains("not a sealed value"), plain.getMessage());

        // One bit flipped anywhere in the ciphertext: refused, never garbage.
        String prefix = sealed.substring(0, sealed.lastIndexOf('.') + 1);
        byte[] body = Base64.getUrlDecoder().decode(sealed.substring(prefix.length()));
        for (int i = 0; i < body.length; i++) {
            byte[] bent = body.clone();
            bent[i] ^= 1;
            String altered = prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(bent);
            assertThrows(SealingKey.UnsealableException.class, () -> otherController.open("ca/current", altered), "byte " + i);
        }
        assertArrayEquals(plaintext.getBytes(StandardCharsets.UTF_8), otherController.open("ca/current", prefix
                + Base64.getUrlEncoder().withoutPadding().encodeToString(body)));
    }
}
