package io.vigil.memory.verbs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class VerbsKeeperExporterTest {
    @Test
    void withoutADeviceTheKeeperServesNoRdma() {
        assumeFalse(RdmaDevicesTest.hostHasRdmaDevice());
        assertEquals(Optional.empty(), VerbsKeeperExporter.start("127.0.0.1", 0));
    }

    @Test
    void withoutADeviceNoEventChannelCanBeOpened() {
        assumeFalse(RdmaDevicesTest.hostHasRdmaDevice());
        IOException e = assertThrows(IOException.class, CmChannel::open);
        assertTrue(e.getMessage().startsWith("rdma_create_event_channel: "), e.getMessage());
    }
}
