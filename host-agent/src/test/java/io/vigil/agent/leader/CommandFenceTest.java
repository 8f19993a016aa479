package io.vigil.agent.leader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.AgentMessage.CommandResult;
import io.vigil.protocol.ControllerMessage;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Commands pass the fence only with a current leader epoch; a new epoch is on disk before its command runs. */
class CommandFenceTest {
    @TempDir Path dir;

    /** What reached the executor, with the highest epoch on disk at that moment. */
    final List<String> executed = new CopyOnWriteArrayList<>();

    CommandFence fence() throws Exception {
        return new CommandFence("h1", LeaderEpochs.open(dir), Runnable::run, command -> {
            long onDisk;
            try {
                onDisk = LeaderEpochs.open(dir).highest();
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
            executed.add(command.id() + "@" + onDisk);
            return CompletableFuture.completedFuture(new CommandResult("h1", command.id(), command.vm(), true, null, 1));
        });
    }

    static CommandResult run(CommandFence fence, AgentCommand command, long epoch) throws Exception {
        return fence.execute(new ControllerMessage.Command(command, epoch)).get(5, TimeUnit.SECONDS);
    }

    @Test
    void aCommandFromAReplacedLeaderIsAnsweredAndNeverExecuted() throws Exception {
        CommandFence fence = fence();
        assertTrue(run(fence, new AgentCommand.DestroyVm("c-1", "vm1"), 5).ok());
        CommandResult refused = run(fence, new AgentCommand.StartVm("c-2", "vm2", "<domain/>", 1, true), 3);
        assertEquals(new CommandResult("h1", "c-2", "vm2", false,
                "refused: command from leader epoch 3, but epoch 5 is current (a replaced leader)", 0), refused);
        assertFalse(run(fence, new AgentCommand.StopVm("c-3", "vm1", 5), 0).ok(), "epoch 0 once an epoch is known");
        assertEquals(List.of("c-1@5"), executed, "neither refused command ran");
        assertEquals(2, fence.refusals());
    }

    @Test
    void aNewerEpochIsRecordedBeforeItsCommandRuns() throws Exception {
        CommandFence fence = fence();
        run(fence, new AgentCommand.DestroyVm("c-1", "vm1"), 2);
        run(fence, new AgentCommand.DestroyVm("c-2", "vm1"), 2);
        run(fence, new AgentCommand.DestroyVm("c-3", "vm1"), 7);
        assertEquals(List.of("c-1@2", "c-2@2", "c-3@7"), executed);
        assertEquals(0, fence.refusals());
    }
}
