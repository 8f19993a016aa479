package io.vigil.controller.ha;

import java.util.List;

/** The result of feeding one input to the core: the next state and the commands to carry out, in order. */
public record Step(ClusterState state, List<HaCommand> commands) {}
