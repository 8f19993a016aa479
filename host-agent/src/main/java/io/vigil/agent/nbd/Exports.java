package io.vigil.agent.nbd;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The server's exports by name and the connections in transmission on each, so removing one can close them. A
 * {@link #scopedTo scoped} view sees only the exports whose names start with its prefix (one VM's disks, on that VM's
 * socket); views share the exports and their lock.
 */
final class Exports {
    private final Map<String, Served> byName;
    /** Null: every export. */
    private final String scope;

    private record Served(Export export, Set<Connection> connections) {}

    Exports() {
        this(new LinkedHashMap<>(), null);
    }

    private Exports(Map<String, Served> byName, String scope) {
        this.byName = byName;
        this.scope = scope;
    }

    /** A view of the exports whose names start with {@code prefix}. */
    Exports scopedTo(String prefix) {
        return new Exports(byName, prefix);
    }

    private boolean inScope(String name) {
        return scope == null || name.startsWith(scope);
    }

    void add(Export export) {
        synchronized (byName) {
            if (byName.containsKey(export.name())) {
                throw new IllegalArgumentException("an export named " + export.name() + " is already served");
            }
            byName.put(export.name(), new Served(export, new HashSet<>()));
        }
    }

    Optional<Export> find(String name) {
        if (!inScope(name)) return Optional.empty();
        synchronized (byName) {
            Served served = byName.get(name);
            return served == null ? Optional.empty() : Optional.of(served.export());
        }
    }

    List<Export> list() {
        synchronized (byName) {
            return byName.values().stream().map(Served::export).filter(e -> inScope(e.name())).toList();
        }
    }

    /** Records that the connection serves the export; false if the export has been removed meanwhile. */
    boolean attach(Export export, Connection connection) {
        if (!inScope(export.name())) return false;
        synchronized (byName) {
            Served served = byName.get(export.name());
            if (served == null || served.export() != export) return false;
            served.connections().add(connection);
            return true;
        }
    }

    void detach(Export export, Connection connection) {
        synchronized (byName) {
            Served served = byName.get(export.name());
            if (served != null && served.export() == export) served.connections().remove(connection);
        }
    }

    /** Removes the export; returns its open connections, for the caller to close. Empty if there was none. */
    Optional<List<Connection>> remove(String name) {
        synchronized (byName) {
            Served served = byName.remove(name);
            return served == null ? Optional.empty() : Optional.of(new ArrayList<>(served.connections()));
        }
    }

    /** How many connections are in transmission on {@code name} now (0 for an unknown export). */
    int connections(String name) {
        synchronized (byName) {
            Served served = byName.get(name);
            return served == null ? 0 : served.connections().size();
        }
    }
}
