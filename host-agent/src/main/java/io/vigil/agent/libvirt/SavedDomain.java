package io.vigil.agent.libvirt;

/**
 * The domain a saved-state file holds, as libvirt reads it from the file: what it will run if restored, and the
 * definition it was saved with ({@code xml}).
 */
public record SavedDomain(String name, String uuid, String xml) {

    public SavedDomain(String name, String uuid) {
        this(name, uuid, null);
    }
}
