package io.vigil.controller.store;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One revision of one record of the durable cluster state, as it is written to shared storage (see
 * {@code controller/STORE.md}). Revisions of a key are numbered 1, 2, 3... with no gaps; each is created whole and
 * exclusively, so two writers that read the same revision cannot both write the next one. A deletion is a revision
 * too (a tombstone, {@code deleted} with no value), so that a writer that has not seen the deletion cannot bring
 * the record back. A record of a secret collection ({@link StateMaps.Name#secret}) carries its value {@code sealed}
 * ({@link SealingKey}, with {@link #sealingContext} as the associated data) and no plaintext {@code value}.
 */
public record StoredRecord(int format, String collection, String key, long revision, boolean deleted, JsonNode value,
                           String sealed, String writer, long writtenAtMillis) {
    public static final int FORMAT = 1;

    /** What a record's sealed value is bound to: it opens as this collection's record of this key only. */
    public static String sealingContext(String collection, String key) {
        return collection + "/" + key;
    }
}
