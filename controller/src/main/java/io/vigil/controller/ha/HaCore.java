package io.vigil.controller.ha;

/** The HA decision function. (Stub signature; the core fills it in.) */
public final class HaCore {
    public Step step(ClusterState state, HaInput input, Now now) {
        throw new UnsupportedOperationException("not yet");
    }
}
