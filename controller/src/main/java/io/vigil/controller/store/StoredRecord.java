package io.vigil.controller.store;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One revision of one record of the durable cluster state, as it is written to shared storage (format 1, see
 * {@code controller/STORE.md}). Revisions of a key are numbered 1, 2, 3... with no gaps; each is created whole and
 * exclusively, so two writers that read the same revision cannot both write the next one. A deletion is a revision
 * too (a tombstone, {@code deleted} with no value), so that a writer that has not seen the deletion cannot bring
 * the record back.
 */
public record StoredRecord(int format, String collection, String key, long revision, boolean deleted, JsonNode value,
                           String writer, long writtenAtMillis) {
    public static final int FORMAT = 1;
}
