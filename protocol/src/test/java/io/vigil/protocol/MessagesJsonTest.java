package io.vigil.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MessagesJsonTest {
    @Test
    void agentMessagesRoundTripWithTheirTypeTag() {
        HostInventory inv = new HostInventory(2, 1024, 512, List.of(new VmReport("vm1", "u", VmPowerState.RUNNING, 64, 1, 3)));
        AgentMessage hello = new AgentMessage.Hello("h1", 4, ProtocolVersion.CURRENT, inv, true);
        String json = Json.write(hello);
        assertTrue(json.contains("\"type\":\"hello\""), json);
        assertTrue(json.contains("\"state\":\"running\""), json);
        assertEquals(hello, Json.read(json, AgentMessage.class));
    }

    @Test
    void commandsRoundTripInsideControllerMessages() {
        ControllerMessage m = new ControllerMessage.Command(new AgentCommand.StartVm("c-1", "vm1", "<domain/>", 2, true), 7);
        String json = Json.write(m);
        assertTrue(json.contains("\"kind\":\"start-vm\""), json);
        assertEquals(m, Json.read(json, ControllerMessage.class));
        ControllerMessage w = new ControllerMessage.Welcome("c1", List.of("ws://a/agent/v1"),
                new AgentPolicy(1000, 4000, IsolationResponse.POWEROFF));
        assertEquals(w, Json.read(Json.write(w), ControllerMessage.class));
    }

    @Test
    void unknownFieldsFromNewerPeersAreTolerated() {
        String json = "{\"type\":\"lost-vms\",\"vms\":[\"vm1\"],\"fromTheFuture\":1}";
        assertEquals(new ControllerMessage.LostVms(List.of("vm1")), Json.read(json, ControllerMessage.class));
    }

    @Test
    void malformedOrUnknownMessagesAreClearErrors() {
        assertThrows(IllegalArgumentException.class, () -> Json.read("{not json", AgentMessage.class));
        assertThrows(IllegalArgumentException.class, () -> Json.read("{\"type\":\"nope\",\"host\":\"h\"}", AgentMessage.class));
    }

    @Test
    void policyRefusesALeaseTimeoutShorterThanThreeHeartbeats() {
        assertThrows(IllegalArgumentException.class, () -> new AgentPolicy(1000, 2000, IsolationResponse.NONE));
        assertThrows(IllegalArgumentException.class, () -> IsolationResponse.fromWire("reboot"));
    }
}
