package io.vigil.memory.keeper;

/** Why the keeper will not serve a request: the status it answers and a message for the peer. */
final class KeeperRefusal extends Exception {
    private final KeeperStatus status;

    KeeperRefusal(KeeperStatus status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    KeeperStatus status() {
        return status;
    }
}
