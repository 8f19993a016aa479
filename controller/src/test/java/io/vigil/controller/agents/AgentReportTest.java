package io.vigil.controller.agents;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vigil.controller.ha.HaInput;
import io.vigil.protocol.AgentMessage;
import io.vigil.protocol.Json;
import org.junit.jupiter.api.Test;

/** Agent messages as the core's inputs, also after the JSON round trip of the relay topic. */
class AgentReportTest {
    private static HaInput relayed(AgentReport report) {
        return Json.read(Json.write(report), AgentReport.class).toInput();
    }

    @Test
    void aCleanShutdownBecomesHostShuttingDown() {
        AgentReport r = new AgentReport.Received("m/1", new AgentMessage.HostShutdown("h1", "poweroff"));
        assertEquals(new HaInput.HostShuttingDown("h1", "poweroff"), r.toInput());
        assertEquals(new HaInput.HostShuttingDown("h1", "poweroff"), relayed(r));
    }

    @Test
    void aCommandResultKeepsItsDetail() {
        AgentReport r = new AgentReport.Received("m/1",
                new AgentMessage.CommandResult("h1", "c-7", "vm1", true, null, 3, "restore failed; cold start"));
        HaInput expected = new HaInput.CommandCompleted("h1", "c-7", "vm1", true, null, 3, "restore failed; cold start");
        assertEquals(expected, r.toInput());
        assertEquals(expected, relayed(r));
    }
}
