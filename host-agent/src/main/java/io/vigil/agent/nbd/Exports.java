package io.vigil.agent.nbd;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The server's exports by name and the connections in transmission on each, so removing one can close them. */
final class Exports {
    private final Map<String, Served> byName = new LinkedHashMap<>();

    private record Served(Export export, Set<Connection> connections) {}

    synchronized void add(Export export) {
        if (byName.containsKey(export.name())) {
            throw new IllegalArgumentException("an export named " + export.name() + " is already served");
        }
        byName.put(export.name(), new Served(export, new HashSet<>()));
    }

    synchronized Optional<Export> find(String name) {
        Served served = byName.get(name);
        return served == null ? Optional.empty() : Optional.of(served.export());
    }

    synchronized List<Export> list() {
        return byName.values().stream().map(Served::export).toList();
    }

    /** Records that the connection serves the export; false if the export has been removed meanwhile. */
    synchronized boolean attach(Export export, Connection connection) {
        Served served = byName.get(export.name());
        if (served == null || served.export() != export) return false;
        served.connections().add(connection);
        return true;
    }

    synchronized void detach(Export export, Connection connection) {
        Served served = byName.get(export.name());
        if (served != null && served.export() == export) served.connections().remove(connection);
    }

    /** Removes the export; returns its open connections, for the caller to close. Empty if there was none. */
    synchronized Optional<List<Connection>> remove(String name) {
        Served served = byName.remove(name);
        return served == null ? Optional.empty() : Optional.of(new ArrayList<>(served.connections()));
    }
}
