package io.vigil.agent.nbd;

/**
 * What a handshake agreed on. {@code allocationContext}: the id of the selected {@code base:allocation} metadata
 * context, 0 if none was selected.
 */
record Session(Export export, boolean structuredReplies, int allocationContext, int transmissionFlags) {}
